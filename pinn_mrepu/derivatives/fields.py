"""Derivative field names (re-exported from :mod:`pinn_mrepu.fields`, the vocabulary below every stage)."""

from pinn_mrepu.fields import MAX_ORDER as MAX_ORDER
from pinn_mrepu.fields import FieldSpec as FieldSpec
from pinn_mrepu.fields import parse_field as parse_field
from pinn_mrepu.fields import required_order as required_order

__all__ = ["FieldSpec", "parse_field", "required_order", "MAX_ORDER"]

"""Stage 4: derivative engines that turn (network, points, field names) into field tensors.

``compute_fields`` / ``compute_fields_many`` dispatch to an engine of :data:`ENGINES` (``autograd``, the
reference, or ``taylor``, the fast Taylor-mode pass); :class:`OutputTransform` (hard constraints) is applied
around any engine.  A new engine is one module plus one entry in :data:`ENGINES`.
"""

from .autograd import autograd_fields as autograd_fields
from .compute import ENGINES as ENGINES
from .compute import compute_fields as compute_fields
from .compute import compute_fields_many as compute_fields_many
from .fields import FieldSpec as FieldSpec
from .fields import parse_field as parse_field
from .fields import required_order as required_order
from .taylor import MAX_ORDER as MAX_ORDER
from .taylor import taylor_fields as taylor_fields
from .taylor import taylor_fields_many as taylor_fields_many
from .transforms import OutputTransform as OutputTransform

__all__ = ["compute_fields", "compute_fields_many", "ENGINES", "FieldSpec", "parse_field", "required_order",
           "autograd_fields", "taylor_fields", "taylor_fields_many", "MAX_ORDER", "OutputTransform"]

"""Networks: the MLP and its initialisation schemes (activations are :mod:`pinn_mrepu.activations`)."""

from .init import INITS as INITS
from .init import layer_variances as layer_variances
from .mlp import MLP as MLP
from .mlp import parameter_count as parameter_count
from .smoothness import KinkCrossings as KinkCrossings
from .smoothness import kink_crossings as kink_crossings
from .smoothness import smoothness_warnings as smoothness_warnings

__all__ = ["MLP", "INITS", "KinkCrossings", "kink_crossings", "layer_variances", "parameter_count",
           "smoothness_warnings"]

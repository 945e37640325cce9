"""pinn_mrepu: physics-informed neural networks with MRePU activations and critical initialisation.

The public API; the data flow and the subpackage of each stage are described in README.md ("Architecture").
"""

from .activations import ACTIVATIONS as ACTIVATIONS
from .activations import Activation as Activation
from .activations import MRePU as MRePU
from .activations import get_activation as get_activation
from .config import Config as Config
from .derivatives import compute_fields as compute_fields
from .errors import ConfigError as ConfigError
from .nn import MLP as MLP
from .solver import PINNSolver as PINNSolver
from .sweeps import compare as compare
from .training import TrainResult as TrainResult
from .validation import load_config as load_config

__version__ = "0.1.0"

__all__ = ["compare", "ACTIVATIONS", "Activation", "MRePU", "get_activation", "Config", "load_config", "compute_fields",
           "ConfigError", "MLP", "PINNSolver", "TrainResult", "__version__"]

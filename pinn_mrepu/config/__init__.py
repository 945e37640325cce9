"""Stage 1 of the data flow: the problem file's schema, ``--set`` overrides, YAML reading and safe expressions.

Nothing here knows about PDEs, networks or training; the semantic checks across stages and the public
``load_config`` are in :mod:`pinn_mrepu.validation`.
"""

from .expressions import CONSTANTS as CONSTANTS
from .expressions import FUNCTIONS as FUNCTIONS
from .expressions import Expression as Expression
from .expressions import parse_expression as parse_expression
from .overrides import apply_overrides as apply_overrides
from .overrides import read_yaml as read_yaml
from .schema import ConditionConfig as ConditionConfig
from .schema import Config as Config
from .schema import EvaluateConfig as EvaluateConfig
from .schema import NetworkConfig as NetworkConfig
from .schema import ProblemConfig as ProblemConfig
from .schema import TrainConfig as TrainConfig
from .schema import build_section as build_section
from .schema import rule as rule

__all__ = ["Config", "ConditionConfig", "ProblemConfig", "NetworkConfig", "TrainConfig", "EvaluateConfig",
           "build_section", "rule", "apply_overrides", "read_yaml", "Expression", "parse_expression",
           "FUNCTIONS", "CONSTANTS"]

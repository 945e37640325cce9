"""Stage 2: the problem itself (no network, no training): domains and point sampling, conditions, the PDE
families, reference solutions, and :func:`build_problem` from the ``problem`` config section."""

from .conditions import CONDITIONS as CONDITIONS
from .conditions import Condition as Condition
from .conditions import ConditionBatch as ConditionBatch
from .domains import SAMPLERS as SAMPLERS
from .domains import Domain as Domain
from .pdes import PDE as PDE
from .pdes import PDES as PDES
from .pdes import get_pde as get_pde
from .problem import REFERENCES as REFERENCES
from .problem import Problem as Problem
from .problem import build_output_transform as build_output_transform
from .problem import build_problem as build_problem
from .references import burgers_solution as burgers_solution

__all__ = ["Problem", "build_problem", "build_output_transform", "REFERENCES", "Domain", "SAMPLERS", "Condition",
           "ConditionBatch", "CONDITIONS", "PDE", "PDES", "get_pde", "burgers_solution"]

"""Stage 5: the PINN loss over sampled points and the trainer (phases, checkpoints, NaN guard, history).

:mod:`.allocator` holds the opt-in, process-wide glibc malloc tuning for CPU training (the CLI calls it; the
library never does on import).
"""

from .loss import PINNLoss as PINNLoss
from .loss import PointSet as PointSet
from .loss import sample_points as sample_points
from .trainer import Trainer as Trainer
from .trainer import TrainEvent as TrainEvent
from .trainer import TrainResult as TrainResult

__all__ = ["PINNLoss", "PointSet", "sample_points", "Trainer", "TrainEvent", "TrainResult"]

"""torch.compile of the loss (train.compile): same training trajectory as eager, and config validation."""

from __future__ import annotations

import pytest

from pinn_mrepu import PINNSolver
from pinn_mrepu.validation import load_config
from pinn_mrepu.errors import ConfigError

TINY = ["train.phases.adam.steps=20", "train.phases.1={optimizer: lbfgs, steps: 10}", "network.init=lecun_normal", "network.activation=tanh",
        "network.width=8", "network.depth=2", "train.points.interior=64", "train.device=cpu"]


def test_compile_needs_the_taylor_engine():
    with pytest.raises(ConfigError, match="train.compile"):
        load_config("problems/poisson1d.yaml", ["train.compile=true", "train.derivatives=autograd"])


@pytest.mark.slow  # compiling takes about a minute on a 2-core CPU
@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # torch-internal, raised while compiling
def test_compiled_loss_gives_the_eager_trajectory():
    eager = PINNSolver(load_config("problems/poisson1d.yaml", TINY))
    eager.train()
    compiled = PINNSolver(load_config("problems/poisson1d.yaml", [*TINY, "train.compile=true"]))
    compiled.train()
    for a, b in zip(eager.trainer.history, compiled.trainer.history):
        assert b["loss"] == pytest.approx(a["loss"], rel=1e-9)

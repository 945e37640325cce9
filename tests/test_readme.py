"""README's Python examples run as written (each block in a fresh namespace, from a scratch folder that has the
repository's problems/), and the facts it states about the API hold."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
import torch

from pinn_mrepu import PINNSolver

ROOT = Path(__file__).resolve().parents[1]
BLOCKS = re.findall(r"```python\n(.*?)```", (ROOT / "README.md").read_text(encoding="utf-8"), flags=re.S)


def test_readme_has_python_examples():
    assert len(BLOCKS) >= 4


@pytest.mark.parametrize("index", range(len(BLOCKS)))
def test_readme_python_block_runs(index, tmp_path, monkeypatch):
    code = BLOCKS[index]
    if "deepxde" in code:
        from deepxde_support import load_deepxde

        load_deepxde()
    (tmp_path / "problems").symlink_to(ROOT / "problems")
    monkeypatch.chdir(tmp_path)
    exec(compile(code, f"README.md python block {index}", "exec"), {"__name__": "readme_example"})


@pytest.fixture(scope="module")
def poisson():
    return PINNSolver.from_yaml(ROOT / "problems" / "poisson2d.yaml", ["network.width=4", "network.depth=1"])


@pytest.mark.parametrize("points, shape", [
    (np.zeros((3, 2)), (3, 1)), ([[0.0, 0.1]], (1, 1)), (torch.zeros(2, 2, dtype=torch.float64), (2, 1)),
    (np.zeros((0, 2)), (0, 1)), (np.zeros((3, 2), dtype=np.int64), (3, 1)),
])
def test_predict_accepts_the_documented_forms(poisson, points, shape):
    out = poisson.predict(points)
    assert tuple(out.shape) == shape and isinstance(out, torch.Tensor) == isinstance(points, torch.Tensor)


@pytest.mark.parametrize("points, words", [
    (np.zeros((3, 1)), "got shape (3, 1), must be (N, 2) with columns x, y"),
    (np.zeros(3), "got shape (3,)"),
    (np.zeros((2, 2, 2)), "got shape (2, 2, 2)"),
    (np.array([["a", "b"]]), "must be real numbers"),
    (torch.zeros(2, 2, dtype=torch.complex64), "must be real numbers"),
])
def test_predict_rejects_wrong_shapes_and_types(poisson, points, words):
    with pytest.raises(ValueError) as info:
        poisson.predict(points)
    assert words in str(info.value)


def test_predict_accepts_1d_input_on_a_one_coordinate_problem():
    solver = PINNSolver.from_yaml(ROOT / "problems" / "poisson1d.yaml", ["network.width=4", "network.depth=1"])
    x = np.linspace(-1, 1, 5)
    assert solver.predict(x).shape == (5, 1)
    np.testing.assert_array_equal(solver.predict(x), solver.predict(x[:, None]))


def test_default_evaluation_grid_fits_the_dimension():
    """A file without an evaluate section gets a grid with one entry per coordinate (issue: [256, 101] on 1-D)."""
    import yaml

    from pinn_mrepu.validation import config_from_dict

    for name, grid in (("poisson1d", [1001]), ("heat", [256, 101])):
        data = yaml.safe_load((ROOT / "problems" / f"{name}.yaml").read_text())
        data.pop("evaluate", None)
        assert config_from_dict(data).evaluate.grid == grid

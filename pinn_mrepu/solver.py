"""PINNSolver: the one-object API over config -> problem -> network -> loss -> trainer -> metrics.

    solver = PINNSolver.from_yaml("problems/burgers.yaml", overrides=["network.activation=tanh"])
    result = solver.train()          # TrainResult; never prints
    metrics = solver.evaluate()      # rel_l2, max_abs_error, mean_abs_residual, ...
    u = solver.predict(points)       # (N, d) -> (N, n_outputs); columns of points as problem.variables
    solver.save("runs/b1"); same = PINNSolver.load("runs/b1")
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import numpy as np
import torch

from pinn_mrepu.config import Config, read_yaml
from pinn_mrepu.derivatives import OutputTransform
from pinn_mrepu.errors import ConfigError
from pinn_mrepu.nn import MLP, kink_crossings
from pinn_mrepu.physics import Problem, build_output_transform, build_problem
from pinn_mrepu.storage import (
    fingerprint,
    load_state,
    save_state,
    write_config,
    write_metrics,
)
from pinn_mrepu.training import PINNLoss, Trainer, TrainEvent, TrainResult
from pinn_mrepu.training.checks import state_problem
from pinn_mrepu.validation import (
    config_from_dict,
    config_warnings,
    load_config,
    validate_config,
)

__all__ = ["PINNSolver", "resolve_device"]

_DTYPES = {"float32": torch.float32, "float64": torch.float64}


def resolve_device(name: str) -> torch.device:
    """``auto`` -> CUDA when available, else CPU; ``cuda`` without a GPU is a ConfigError."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise ConfigError("train.device", name, "needs a CUDA GPU, none is available (use auto or cpu)")
    return torch.device(name)


def _errors(u: np.ndarray, exact: np.ndarray) -> dict[str, float]:
    """rel L2 (Frobenius over all columns), max and mean |error| of a prediction against the exact values."""
    err = np.asarray(u, dtype=np.float64) - exact
    norm = float(np.linalg.norm(exact))
    return {"rel_l2": float(np.linalg.norm(err) / norm) if norm > 0 else float(np.linalg.norm(err)),
            "max_abs_error": float(np.max(np.abs(err))), "mean_abs_error": float(np.mean(np.abs(err)))}


class PINNSolver:
    """Solve the problem described by ``config`` with a PINN.

    Args:
        config: a validated :class:`~pinn_mrepu.config.Config` (or a plain dict, validated here).
        device: overrides ``train.device`` (``auto``, ``cpu``, ``cuda``).
        callback: receives :class:`~pinn_mrepu.training.TrainEvent` progress reports.
        should_stop: polled between steps; return True to stop (status ``interrupted``).
        checkpoint: receives the resumable trainer state periodically and on stop.
        equations: Python residuals ``{name: fn(fields, points) -> (N, 1)}`` (or
            :class:`~pinn_mrepu.physics.Equation` objects) instead of ``problem.pde``/``problem.equations``;
            ``fields`` maps names such as ``"u_xx"`` to ``(N, 1)`` tensors (see README "Equations").
    """

    def __init__(self, config: Config | dict, *, device: str | None = None,
                 callback: Callable[[TrainEvent], None] | None = None,
                 should_stop: Callable[[], bool] | None = None,
                 checkpoint: Callable[[dict], None] | None = None,
                 equations: Mapping[str, object] | None = None):
        if isinstance(config, Config):
            if equations is not None:
                validate_config(config, equations=equations)
            self.config = config
        else:
            self.config = config_from_dict(config, equations=equations)
        if device is not None:
            self.config.train.device = device
        self.device = resolve_device(self.config.train.device)
        self.dtype = _DTYPES[self.config.train.dtype]
        self.problem: Problem = build_problem(self.config.problem, self.config.name, equations=equations)
        #: plain-sentence warnings about this setup (e.g. an activation too rough for the PDE's order)
        self.warnings: list[str] = config_warnings(self.config, self.problem)
        net = self.config.network
        bounds = (self.problem.domain.lower.tolist(), self.problem.domain.upper.tolist()) if net.normalize_inputs else None
        self.model = MLP(self.problem.domain.dim, len(self.problem.outputs), width=net.width, depth=net.depth,
                         activation=net.activation,
                         activation_params=net.activation_params, init=net.init, input_bounds=bounds,
                         generator=self.config.train.seed, dtype=self.dtype).to(self.device)
        transform = build_output_transform(self.config, self.problem)
        if transform is not None:
            self.model = OutputTransform(self.model, *transform)
        self.loss = PINNLoss(self.problem, self.config.train.weights, engine=self.config.train.derivatives)
        ev = self.config.evaluate
        self.trainer = Trainer(self.model, self.loss, self.config.train, device=self.device, dtype=self.dtype,
                               callback=callback, should_stop=should_stop, checkpoint=checkpoint,
                               monitor=self._monitor() if ev.monitor_every else None, monitor_every=ev.monitor_every)
        self.result: TrainResult | None = None

    @classmethod
    def from_yaml(cls, path: str | Path, overrides: Sequence[str] | None = None, **kwargs) -> PINNSolver:
        """Load ``path`` with ``overrides`` (e.g. ``["network.depth=7"]``) and build the solver."""
        return cls(load_config(path, list(overrides or [])), **kwargs)

    # ---------------------------------------------------------------- training
    def train(self) -> TrainResult:
        """Run (or continue) training; returns a :class:`TrainResult` with status, message and history."""
        self.result = self.trainer.run()
        return self.result

    def resume_from(self, state: dict) -> None:
        """Load a trainer state (from a checkpoint) so that :meth:`train` continues it."""
        self.trainer.load_state_dict(state)

    # ---------------------------------------------------------------- evaluation
    def predict(self, points: np.ndarray | torch.Tensor) -> np.ndarray | torch.Tensor:
        """Network outputs at ``points``: ``(N, d)`` -> ``(N, n_outputs)``; numpy (or a list) in, numpy out.

        The columns of ``points`` are the coordinates in ``problem.variables`` order: space first, then time
        (e.g. ``x, t`` or ``x, y``).  A 1-D array is accepted for one-coordinate problems.

        Raises:
            ValueError: wrong number of columns, more than 2 dimensions, or non-numeric values.
        """
        as_numpy = not isinstance(points, torch.Tensor)
        d, names = self.problem.domain.dim, ", ".join(self.problem.variables)
        if as_numpy:
            arr = np.asarray(points)
            if not (np.issubdtype(arr.dtype, np.floating) or np.issubdtype(arr.dtype, np.integer)):
                raise ValueError(f"points: got dtype {arr.dtype}, must be real numbers (columns {names})")
            x = torch.as_tensor(arr, dtype=self.dtype, device=self.device)
        else:
            if points.is_complex() or points.dtype == torch.bool:
                raise ValueError(f"points: got dtype {points.dtype}, must be real numbers (columns {names})")
            x = points.to(self.device, self.dtype)
        if x.ndim == 1 and d == 1:
            x = x[:, None]
        if x.ndim != 2 or x.shape[1] != d:
            raise ValueError(f"points: got shape {tuple(x.shape)}, must be (N, {d}) with columns {names}")
        with torch.no_grad():
            out = torch.cat([self.model(chunk) for chunk in torch.split(x, 65536)]) if len(x) else self.model(x)
        return out.cpu().numpy() if as_numpy else out

    def evaluation_grid(self) -> tuple[np.ndarray, list[np.ndarray]]:
        """The ``evaluate.grid`` tensor-product grid over the domain: ``points (M, d)`` and its axes."""
        return self.problem.domain.grid(self.config.evaluate.grid)

    def _monitor(self) -> Callable[[torch.nn.Module], dict[str, float]] | None:
        """rel L2 on a fixed random subset of the evaluation grid (``evaluate.monitor_points``), for the history."""
        if self.problem.exact is None:
            return None
        points, _ = self.evaluation_grid()
        rng = np.random.default_rng(self.config.train.seed + 4243)
        keep = rng.choice(len(points), size=min(self.config.evaluate.monitor_points, len(points)), replace=False)
        sub = points[np.sort(keep)]
        exact = torch.as_tensor(self.problem.exact_values(sub), device=self.device)
        x = torch.as_tensor(sub, dtype=self.dtype, device=self.device)
        norm = float(torch.linalg.vector_norm(exact)) or 1.0

        def monitor(model: torch.nn.Module) -> dict[str, float]:
            with torch.no_grad():
                u = model(x).to(torch.float64)
            return {"rel_l2": float(torch.linalg.vector_norm(u - exact)) / norm}

        return monitor

    def evaluate(self) -> dict[str, float]:
        """Accuracy on the evaluation grid and the mean |residual| on fresh interior points.

        Returns:
            ``rel_l2`` (||u - u*||_2 / ||u*||_2 over all outputs together), ``max_abs_error``,
            ``mean_abs_error`` (NaN without an exact solution), ``mean_abs_residual`` (over all equations),
            ``final_loss``; for several outputs also ``per_output: {name: {rel_l2, max_abs_error}}``; for an
            activation with a kink (MRePU, RePU, ReLU) ``kink_crossings: {crossing, neurons, closest}``, the hidden
            neurons whose pre-activation is on both sides of the kink on the grid and the closest |z - kink|
            (:func:`pinn_mrepu.nn.kink_crossings`).
        """
        points, _ = self.evaluation_grid()
        u = self.predict(points)
        metrics: dict = {"rel_l2": math.nan, "max_abs_error": math.nan, "mean_abs_error": math.nan}
        if self.problem.exact is not None:
            exact = self.problem.exact_values(points)
            metrics.update(_errors(u, exact))
            if len(self.problem.outputs) > 1:
                metrics["per_output"] = {o: _errors(u[:, i], exact[:, i]) for i, o in enumerate(self.problem.outputs)}
        n = self.config.evaluate.residual_points
        pts = self.problem.domain.sample_interior(n, sampler="uniform", seed=self.config.train.seed + 7919, tag=(99,))
        x = torch.as_tensor(pts, dtype=self.dtype, device=self.device)
        res = self.loss.residual(self.model, x, create_graph=False)
        metrics["mean_abs_residual"] = float(res.abs().mean())
        hist = self.trainer.history
        metrics["final_loss"] = float(hist[-1]["loss"]) if hist else math.nan
        net = self.model.net if isinstance(self.model, OutputTransform) else self.model
        if net.activation.kinks:
            k = kink_crossings(net, torch.as_tensor(points, dtype=self.dtype, device=self.device))
            metrics["kink_crossings"] = {"crossing": k.total, "neurons": sum(k.width), "closest": k.closest}
        return metrics

    # ---------------------------------------------------------------- persistence
    @property
    def fingerprint(self) -> str:
        """SHA-256 of the resolved ``problem`` and ``network`` sections, stored in ``model.pt`` and checked on load."""
        cfg = self.config.to_dict()
        return fingerprint({"problem": cfg["problem"], "network": cfg["network"]})

    def save(self, directory: str | Path) -> Path:
        """Write ``config.yaml``, ``model.pt`` (with the trainer state) and, after :meth:`train`, the result's
        status, message, phases and times in ``metrics.json`` (so :meth:`load` restores :attr:`result`)."""
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        write_config(directory, self.config)
        save_state(directory / "model.pt", self.trainer.state_dict(), fingerprint=self.fingerprint)
        if self.result is not None:
            r = self.result
            write_metrics(directory, {"status": r.status, "message": r.message, "wall_time_s": r.wall_time_s,
                                      "steps": r.steps, "phases": r.phases})
        return directory

    @classmethod
    def load(cls, directory: str | Path, *, device: str | None = None,
             equations: Mapping[str, object] | None = None) -> PINNSolver:
        """Rebuild a solver from a folder written by :meth:`save` (or by ``solve``); predictions are identical.

        ``model.pt`` is read with ``torch.load(weights_only=True)`` (no code runs from it) and must match
        ``config.yaml``: the problem fingerprint, the architecture and a well-formed trainer state.

        Raises:
            ConfigError: a missing, unreadable, corrupted, foreign or tampered file (one line naming it).
        """
        directory = Path(directory)
        if not directory.is_dir():
            raise ConfigError("run folder", str(directory), "must be an existing folder")
        for name in ("config.yaml", "model.pt"):
            if not (directory / name).is_file():
                raise ConfigError("run folder", str(directory), f"must contain {name}")
        config = config_from_dict(read_yaml(directory / "config.yaml", field="config.yaml"), equations=equations)
        solver = cls(config, device=device, equations=equations)
        path = directory / "model.pt"
        try:
            state = load_state(path, map_location=solver.device)
        except (ValueError, OSError) as exc:
            raise ConfigError("model.pt", str(path), f"cannot be loaded: {exc}") from None
        if state.pop("fingerprint", None) != solver.fingerprint:
            raise ConfigError("model.pt", str(path), "was written for another problem or network than config.yaml "
                                                     "describes (problem fingerprint differs); refused")
        state.pop("format", None)
        why = state_problem(state, solver.trainer)
        if why is None:
            try:
                solver.trainer.load_state_dict(state)
            except (KeyError, TypeError, ValueError, RuntimeError, IndexError, AttributeError) as exc:
                why = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]
        if why is not None:
            raise ConfigError("model.pt", str(path), f"holds a trainer state that does not fit config.yaml ({why})")
        solver.result = _saved_result(directory / "metrics.json", solver.trainer)
        return solver


def _saved_result(path: Path, trainer: Trainer) -> TrainResult | None:
    """The :class:`TrainResult` of a finished run folder (from metrics.json and the loaded history), else None."""
    try:
        m = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(m, dict) or m.get("status") not in ("done", "failed", "interrupted"):
        return None

    def num(key: str, default: float) -> float:
        v = m.get(key)
        return float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else default

    phases = [p for p in m.get("phases") or [] if isinstance(p, dict)]
    history = list(trainer.history)
    return TrainResult(m["status"], str(m.get("message", "")), history, num("wall_time_s", trainer.elapsed),
                       int(num("steps", trainer.step)), phases,
                       float(history[-1]["loss"]) if history else math.nan)

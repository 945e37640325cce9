"""One complete run into a folder: train (or resume), checkpoint, evaluate, write metrics/history/figures.

This is what ``solve`` does and what every run of a ``compare`` sweep is.  Nothing already computed is lost:
the trainer state is checkpointed atomically to ``model.pt`` (with ``history.csv``) every
``train.checkpoint_every`` steps and whenever training stops (done, failed, interrupted), and an existing run
folder is refused unless ``overwrite`` (or ``resume``) is given.  ``overwrite`` only ever replaces a folder this
package wrote: one marked with :data:`~pinn_mrepu.storage.RUN_MARKER` that holds nothing but run files; anything
else (a user's folder, ``--out .``) is refused and nothing is deleted.  A failed write (full disk, read-only
folder) is a ConfigError naming the file; the last checkpoint stays intact.
"""

from __future__ import annotations

import datetime as _dt
import math
import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from pinn_mrepu.config import Config
from pinn_mrepu.errors import ConfigError
from pinn_mrepu.solver import PINNSolver
from pinn_mrepu.storage import (
    RUN_MARKER,
    cpu_model,
    foreign_entries,
    is_run_folder,
    mark_run_folder,
    save_state,
    write_config,
    write_history,
    write_metrics,
)
from pinn_mrepu.training import TrainEvent, TrainResult

from .extend import extend_config

__all__ = ["RunOutcome", "default_run_dir", "resume_folder", "run_to_folder"]


@dataclass
class RunOutcome:
    """Where a run went, how training ended and the metrics written to ``metrics.json``."""

    directory: Path
    result: TrainResult
    metrics: dict


def default_run_dir(config: Config, root: str | Path = "results/runs") -> Path:
    """``results/runs/<problem>-<activation>-<timestamp>``."""
    stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S-%f")
    return Path(root) / f"{config.name}-{config.network.activation}-{stamp}"


def _prepare(directory: Path, *, overwrite: bool) -> None:
    """Make ``directory`` ready for a fresh run (see the module docstring)."""
    if directory.exists() and not directory.is_dir():
        raise ConfigError("--out", str(directory), "is a file, not a folder; choose a folder for the run")
    if directory.exists() and any(directory.iterdir()):
        if not overwrite:
            raise ConfigError("--out", str(directory), "already holds a run; pass --overwrite to replace it or --resume to continue it")
        if not is_run_folder(directory):
            raise ConfigError("--out", str(directory), f"is not a run folder of pinn_mrepu (no {RUN_MARKER}); "
                                                      "--overwrite refused, nothing deleted")
        foreign = foreign_entries(directory)
        if foreign:
            raise ConfigError("--out", str(directory), f"holds files pinn_mrepu did not write ({', '.join(foreign[:3])}"
                                                      f"{', ...' if len(foreign) > 3 else ''}); --overwrite refused, "
                                                      "nothing deleted")
        for entry in directory.iterdir():
            if entry.name != RUN_MARKER:
                entry.unlink()
    directory.mkdir(parents=True, exist_ok=True)
    mark_run_folder(directory)


def _io_error(exc: OSError, directory: Path) -> ConfigError:
    return ConfigError("--out", str(directory), f"cannot write {exc.filename or directory} ({exc.strerror or exc}); "
                                                "the last checkpoint, if any, is kept")


def _null_reasons(solver: PINNSolver, metrics: dict) -> dict[str, str]:
    """Why a metric is null in ``metrics.json`` (JSON has no NaN)."""
    out = {}
    for key, value in metrics.items():
        if isinstance(value, float) and not math.isfinite(value):
            if key in ("rel_l2", "max_abs_error", "mean_abs_error") and solver.problem.exact is None:
                out[key] = "no exact solution (problem.exact)"
            elif key == "final_loss" and not solver.trainer.history:
                out[key] = "no training step was logged"
            else:
                out[key] = f"not finite ({value}): the prediction or residual is not finite"
    return out


def _metrics(solver: PINNSolver, result: TrainResult) -> dict:
    m = solver.evaluate() if result.history or result.status == "done" else {}
    cfg = solver.config
    return {
        "problem": cfg.name, "pde": cfg.problem.pde,
        "equations": {k: eq.text for k, eq in solver.problem.equations.items()},
        "outputs": list(solver.problem.outputs), "warnings": list(solver.warnings),
        "activation": cfg.network.activation,
        "activation_params": dict(cfg.network.activation_params), "width": cfg.network.width,
        "depth": cfg.network.depth, "init": cfg.network.init,
        **m,
        "wall_time_s": result.wall_time_s, "steps": result.steps,
        "phases": [{k: v for k, v in p.items()} for p in result.phases],
        "status": result.status, "message": result.message, "device": str(solver.device),
        "device_name": torch.cuda.get_device_name(solver.device) if solver.device.type == "cuda" else cpu_model(),
        "dtype": cfg.train.dtype, "seed": cfg.train.seed, "derivatives": cfg.train.derivatives,
        "torch_version": torch.__version__, "threads": torch.get_num_threads(),
    }


def _finish(solver: PINNSolver, directory: Path, *, figures: bool) -> RunOutcome:
    result = solver.train()
    metrics = _metrics(solver, result)
    if nulls := _null_reasons(solver, metrics):
        metrics["null_metrics"] = nulls
    write_metrics(directory, metrics)
    if figures and result.history:
        _write_figures(solver, directory, result, metrics)
    return RunOutcome(directory, result, metrics)


def _grid_residual(solver: PINNSolver, points: np.ndarray) -> np.ndarray:
    """Equation residuals ``(M, n_equations)`` at ``points`` (chunks of 8192, no graph kept)."""
    x = torch.as_tensor(points, dtype=solver.dtype, device=solver.device)
    parts = [solver.loss.residual(solver.model, chunk, create_graph=False).detach().cpu()
             for chunk in torch.split(x, 8192)]
    return torch.cat(parts).numpy() if parts else np.zeros((0, len(solver.problem.equations)))


def _write_figures(solver: PINNSolver, directory: Path, result: TrainResult, metrics: dict) -> None:
    """solution.png (solution_<output>.png for systems), residual.png and loss.png."""
    from .plots import (
        activation_label,
        grid_slice,
        plot_fields,
        plot_loss,
        plot_residual,
        save_figure,
    )

    net = solver.config.network
    run = f"{solver.config.name}, {activation_label(net.activation, net.activation_params)}"
    points, axes = solver.evaluation_grid()
    variables = solver.problem.variables
    pred = solver.predict(points)
    exact = solver.problem.exact_values(points) if solver.problem.exact is not None else None
    outputs = solver.problem.outputs
    for i, name in enumerate(outputs):  # one figure per output: solution.png, or solution_<output>.png
        rel = metrics.get("per_output", {}).get(name, metrics)["rel_l2"]
        title = f"{run}{'' if len(outputs) == 1 else f', output {name}'}: rel L2 {rel:.2e}"
        fig = plot_fields(axes, variables, pred[:, i], None if exact is None else exact[:, i], title=title)
        save_figure(fig, directory / ("solution.png" if len(outputs) == 1 else f"solution_{name}.png"))
    index, _ = grid_slice(axes, variables)
    res = _grid_residual(solver, points[index])
    residuals = {name: res[:, k] for k, name in enumerate(solver.problem.equations)}
    save_figure(plot_residual(axes, variables, residuals, title=f"{run}: |PDE residual| on the evaluation grid"),
                directory / "residual.png")
    save_figure(plot_loss(result.history, title=run), directory / "loss.png")


def _checkpointer(directory: Path, fp: str) -> Callable[[dict], None]:
    def write(state: dict) -> None:
        save_state(directory / "model.pt", state, fingerprint=fp)
        write_history(directory, state["history"])

    return write


def run_to_folder(config: Config, directory: str | Path, *, overwrite: bool = False, device: str | None = None,
                  callback: Callable[[TrainEvent], None] | None = None,
                  should_stop: Callable[[], bool] | None = None, figures: bool = True) -> RunOutcome:
    """Train ``config`` from scratch into ``directory`` (refused if it holds a run, unless ``overwrite``)."""
    directory = Path(directory)
    solver = PINNSolver(config, device=device, callback=callback, should_stop=should_stop)  # validate before writing
    created = not directory.exists()
    try:
        _prepare(directory, overwrite=overwrite)
        write_config(directory, solver.config)
    except OSError as exc:
        if created:  # nothing of this run is left behind
            shutil.rmtree(directory, ignore_errors=True)
        raise _io_error(exc, directory) from None
    solver.trainer.checkpoint = _checkpointer(directory, solver.fingerprint)
    try:
        return _finish(solver, directory, figures=figures)
    except OSError as exc:
        raise _io_error(exc, directory) from None


def resume_folder(directory: str | Path, *, device: str | None = None,
                  callback: Callable[[TrainEvent], None] | None = None,
                  should_stop: Callable[[], bool] | None = None, figures: bool = True,
                  overrides: Sequence[str] = ()) -> RunOutcome:
    """Continue the run in ``directory`` from its last checkpoint to its configured step counts.

    ``overrides`` extend the budget of an interrupted or finished run (see :func:`extend_config`): more steps for
    phases not yet finished, new phases at the end, a longer ``train.time_limit_s``.
    """
    directory = Path(directory)
    if overrides:
        extend_config(directory, overrides)
    solver = PINNSolver.load(directory, device=device)
    solver.trainer.callback = callback or (lambda event: None)
    solver.trainer.should_stop = should_stop or (lambda: False)
    solver.trainer.checkpoint = _checkpointer(directory, solver.fingerprint)
    try:
        return _finish(solver, directory, figures=figures)
    except OSError as exc:
        raise _io_error(exc, directory) from None

"""Executors of a sweep (:mod:`.sweep`): in-process, a local process pool, or a Ray cluster.

Each executor runs :func:`.execute.execute_run` for every pending run and reports each record through
``done(spec, record)``; ``stop()`` is polled so an interrupted sweep checkpoints its running runs.
"""

from __future__ import annotations

import os

from pinn_mrepu.errors import ConfigError

from .execute import execute_run, record
from .plan import RunSpec, cpus

__all__ = ["EXECUTORS", "run_local", "run_ray", "import_ray"]

#: Executors, ``name -> description``.
EXECUTORS = {"local": "process pool on this machine (--jobs workers; in-process for --jobs 1)",
             "ray": "tasks on a Ray cluster (pip install pinn_mrepu[ray])"}


def _pool_init(threads: int) -> None:
    import signal

    import torch

    from pinn_mrepu.training.allocator import tune_malloc

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent asks workers to stop through the stop file
    torch.set_num_threads(threads)
    tune_malloc()  # the sweep owns its worker processes, as the command line owns its own (allocator module)


def _pool_task(spec: RunSpec, out: str, stop_file: str, figures: bool) -> dict | None:
    if os.path.exists(stop_file):
        return None
    return execute_run(spec, out, should_stop=lambda: os.path.exists(stop_file), figures=figures)


def _ray_task(spec: RunSpec, out: str, threads: int, figures: bool) -> dict:
    import torch

    from pinn_mrepu.training.allocator import tune_malloc

    torch.set_num_threads(threads)
    tune_malloc()  # Ray starts worker processes per job (driver), so they are this sweep's, as the pool's are
    return execute_run(spec, out, figures=figures)


def import_ray():
    try:
        import ray
    except ImportError:
        raise ConfigError("--executor", "ray", "needs Ray, which is not installed: pip install pinn_mrepu[ray]") from None
    return ray


def _error(spec: RunSpec, exc: BaseException) -> dict:
    return record(spec, {"status": "error", "message": f"{type(exc).__name__}: {exc}".splitlines()[0]})


def run_local(todo, out, jobs, figures, stop, done):
    """Run ``todo`` in this process (jobs = 1) or a spawn process pool; report each record through ``done``."""
    if jobs == 1:
        for spec in todo:
            if stop():
                return
            done(spec, execute_run(spec, out, should_stop=stop, figures=figures))
        return
    import multiprocessing
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait

    stop_file = out / ".stop"
    workers = min(jobs, len(todo))
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"), initializer=_pool_init,
                             initargs=(max(1, cpus() // workers),)) as pool:
        futures = {pool.submit(_pool_task, spec, str(out), str(stop_file), figures): spec for spec in todo}
        pending = set(futures)
        try:
            while pending:
                ready, pending = wait(pending, timeout=0.25, return_when=FIRST_COMPLETED)
                for f in ready:
                    try:
                        rec = f.result()
                    except Exception as exc:  # e.g. a worker killed by the OS (BrokenProcessPool)
                        rec = _error(futures[f], exc)
                    if rec is not None:
                        done(futures[f], rec)
                if stop():
                    stop_file.touch()
        except BaseException:
            stop_file.touch()
            raise


def run_ray(todo, out, jobs, figures, stop, done, address):
    """Run ``todo`` as Ray tasks (local Ray, or the cluster at ``address``); report records through ``done``."""
    ray = import_ray()
    own = not ray.is_initialized()
    if own:
        ray.init(address=address, include_dashboard=False, log_to_driver=False)
    try:
        total = int(ray.cluster_resources().get("CPU", 1))
        node = max((int(n["Resources"].get("CPU", 0)) for n in ray.nodes() if n.get("Alive")), default=total)
        threads = max(1, min(node, total // jobs))
        task = ray.remote(num_cpus=threads, max_retries=0)(_ray_task)
        refs = {task.remote(spec, str(out.resolve()), threads, figures): spec for spec in todo}  # workers' cwd may differ
        pending, cancelled = list(refs), False
        try:
            while pending:
                ready, pending = ray.wait(pending, num_returns=1, timeout=0.25)
                for ref in ready:
                    try:
                        done(refs[ref], ray.get(ref))
                    except ray.exceptions.TaskCancelledError:
                        pass
                    except Exception as exc:
                        done(refs[ref], _error(refs[ref], exc))
                if stop() and not cancelled:
                    for ref in pending:  # a running task gets KeyboardInterrupt: the trainer checkpoints
                        ray.cancel(ref)
                    cancelled = True
        except BaseException:
            for ref in pending:
                ray.cancel(ref)
            raise
    finally:
        if own:
            ray.shutdown()

"""``solve PROBLEM.yaml``: train one PINN into a run folder and print its summary.

Exit status: 0 done, 1 training failed (e.g. non-finite loss), 2 bad input, 130 interrupted (SIGINT/SIGTERM; the
run folder then holds a checkpoint that ``solve --resume DIR`` continues).
"""

from __future__ import annotations

import argparse
import sys

import torch

from pinn_mrepu.errors import ConfigError
from pinn_mrepu.runs import default_run_dir, resume_folder, run_to_folder
from pinn_mrepu.validation import config_warnings, load_config

from .common import (
    EXIT_BAD_INPUT,
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    EXIT_OK,
    StopFlag,
    io_error,
    one_line,
)

__all__ = ["add_solve_arguments", "run_solve"]


def _log_lines(every_s: float):
    """Outside a terminal (``solve ... > log``): one line per ``every_s`` seconds of training and per phase start."""
    last = {"t": -float("inf"), "phase": None}

    def callback(event) -> None:
        new_phase = event.index != last["phase"]
        if not new_phase and event.elapsed_s - last["t"] < every_s and event.step < event.total:
            return
        last["t"], last["phase"] = event.elapsed_s, event.index
        rel = "" if event.rel_l2 is None else f"  rel L2 {event.rel_l2:.3e}"
        print(f"[{event.elapsed_s:8.1f} s] phase {event.index + 1}/{event.phases} {event.phase} step "
              f"{event.step}/{event.total}  loss {event.loss:.3e}{rel}", flush=True)

    return callback, lambda: None


def _progress(quiet: bool, log_every: float = 10.0):
    """A tqdm bar (phase, step, loss, ETA) on a terminal, periodic log lines otherwise; nothing when quiet."""
    if quiet:
        return None, lambda: None
    if not sys.stderr.isatty():
        return _log_lines(log_every)
    from tqdm import tqdm

    bars: dict[int, tqdm] = {}

    def callback(event) -> None:
        bar = bars.get(event.index)  # one bar per phase (two phases may use the same optimizer)
        if bar is None:
            for other in bars.values():
                other.close()
            desc = f"{event.index + 1}/{event.phases} {event.phase}"
            bar = bars[event.index] = tqdm(total=event.total, desc=desc, unit="step", dynamic_ncols=True, leave=True)
        bar.n = min(event.step, event.total)
        post = {"loss": f"{event.loss:.3e}"}
        if event.rel_l2 is not None:
            post["rel_l2"] = f"{event.rel_l2:.2e}"
        bar.set_postfix(post, refresh=False)
        bar.refresh()

    def close() -> None:
        for bar in bars.values():
            bar.close()

    return callback, close


def add_solve_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("problem", nargs="?", help="problem YAML file (e.g. problems/burgers.yaml); omit with --resume")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="override a config value, e.g. --set network.depth=7 (repeatable)")
    p.add_argument("--activation", help="shorthand for --set network.activation=NAME (resets activation_params)")
    p.add_argument("--out", help="run folder (default results/runs/<problem>-<activation>-<timestamp>)")
    p.add_argument("--device", choices=("auto", "cpu", "cuda"), help="override train.device")
    p.add_argument("--resume", metavar="DIR",
                   help="continue the interrupted run in DIR; with --set, extend a run's budget (more steps for "
                        "unfinished phases, phases added at the end, a longer train.time_limit_s)")
    p.add_argument("--overwrite", action="store_true", help="replace an existing run folder")
    p.add_argument("--threads", type=int, metavar="N", help="torch intra-op threads (default: torch's choice; on "
                                                             "a loaded machine 1 can be much faster)")
    p.add_argument("--log-every", type=float, default=10.0, metavar="S",
                   help="outside a terminal, print a progress line every S seconds of training (default 10)")
    p.add_argument("--quiet", action="store_true", help="no progress bar or progress lines")


def run_solve(args: argparse.Namespace) -> int:
    stop = StopFlag()
    if args.threads is not None:
        if args.threads < 1:
            print(f"error: --threads: got {args.threads}, must be an integer >= 1", file=sys.stderr)
            return EXIT_BAD_INPUT
        torch.set_num_threads(args.threads)
    if not args.log_every > 0:
        print(f"error: --log-every: got {args.log_every}, must be a number of seconds > 0", file=sys.stderr)
        return EXIT_BAD_INPUT
    callback, close = _progress(args.quiet, args.log_every)
    try:
        if args.resume is not None:
            if args.problem or args.activation is not None:
                raise ConfigError("--resume", args.resume, "takes its config from the run folder; give no PROBLEM or "
                                                           "--activation (--set may only extend the budget)")
            for flag, given in (("--overwrite", args.overwrite), ("--out", args.out is not None)):
                if given:
                    raise ConfigError(flag, args.out if flag == "--out" else True,
                                      "conflicts with --resume, which continues the run in its own folder")
            stop.install()
            outcome = resume_folder(args.resume, device=args.device, callback=callback, should_stop=stop,
                                    overrides=args.overrides)
        else:
            if not args.problem:
                raise ConfigError("problem", None, "a problem YAML file is required (or --resume DIR)")
            overrides = list(args.overrides)
            if args.activation is not None:
                overrides.insert(0, f"network.activation={args.activation}")
            config = load_config(args.problem, overrides)
            for warning in config_warnings(config):
                print(f"warning: {warning}", file=sys.stderr)
            out = args.out or default_run_dir(config)
            stop.install()
            outcome = run_to_folder(config, out, overwrite=args.overwrite, device=args.device, callback=callback,
                                    should_stop=stop)
    except (ConfigError, OSError) as exc:
        close()
        print(f"error: {exc if isinstance(exc, ConfigError) else io_error(exc)}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except (MemoryError, torch.cuda.OutOfMemoryError) as exc:
        close()
        print(f"error: out of memory ({one_line(exc)}); use fewer points or a smaller network", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        close()
        print("error: interrupted before training started; nothing written", file=sys.stderr)
        return EXIT_INTERRUPTED
    close()
    m, r = outcome.metrics, outcome.result
    print(f"{r.status}: {r.message}")
    print(f"  rel L2 error     {m.get('rel_l2', float('nan')):.3e}")
    print(f"  max abs error    {m.get('max_abs_error', float('nan')):.3e}")
    print(f"  mean |residual|  {m.get('mean_abs_residual', float('nan')):.3e}")
    if "kink_crossings" in m:
        k = m["kink_crossings"]
        print(f"  kink crossings   {k['crossing']} of {k['neurons']} neurons on the evaluation grid "
              f"(closest |z - kink| {k['closest']:.1e})")
    for i, ph in enumerate(r.phases):
        how = "" if ph["stopped"] == "completed" else f"  ({ph['stopped']})"
        print(f"  {'phases' if i == 0 else '':16} {ph['optimizer']} {ph['steps']} of {ph['planned']} "
              f"in {ph['wall_time_s']:.1f} s{how}")
    print(f"  wall time        {r.wall_time_s:.1f} s on {m.get('device')}")
    print(f"  results          {outcome.directory}")
    if r.status == "interrupted":
        print(f"  resume with      solve --resume {outcome.directory}")
        return EXIT_INTERRUPTED
    return EXIT_OK if r.status == "done" else EXIT_FAILED

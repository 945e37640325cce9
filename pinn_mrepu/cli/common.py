"""What every command shares: exit statuses, one-line error text and the SIGINT/SIGTERM stop flag.

Exit statuses: 0 done, 1 training failed (non-finite loss, out of memory, a sweep run raised), 2 bad input or
an I/O fault (one ``error:`` line on stderr naming the field or file, nothing written), 130 interrupted.
"""

from __future__ import annotations

import signal

from pinn_mrepu.errors import ConfigError

__all__ = ["EXIT_BAD_INPUT", "EXIT_FAILED", "EXIT_INTERRUPTED", "EXIT_OK", "StopFlag", "io_error", "one_line"]

EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT, EXIT_INTERRUPTED = 0, 1, 2, 130


def one_line(exc: BaseException) -> str:
    """The first line of an exception's text (its type name when empty), at most 200 characters."""
    text = str(exc).strip()
    return (text.splitlines()[0] if text else type(exc).__name__)[:200]


def io_error(exc: OSError) -> ConfigError:
    """An OSError as a one-line ConfigError naming the file."""
    name = exc.filename if exc.filename is not None else "?"
    return ConfigError("file", name, f"cannot read or write {name} ({exc.strerror or one_line(exc)})")


class StopFlag:
    """Set by SIGINT/SIGTERM; polled by the trainer between steps."""

    def __init__(self):
        self.stopped = False

    def __call__(self) -> bool:
        return self.stopped

    def install(self) -> None:
        def handler(signum, frame):
            self.stopped = True

        signal.signal(signal.SIGINT, handler)
        signal.signal(signal.SIGTERM, handler)

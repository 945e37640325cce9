"""What every command shares: exit statuses and the SIGINT/SIGTERM stop flag polled by the trainer."""

from __future__ import annotations

import signal

__all__ = ["EXIT_OK", "EXIT_FAILED", "EXIT_BAD_INPUT", "EXIT_INTERRUPTED", "StopFlag"]

EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT, EXIT_INTERRUPTED = 0, 1, 2, 130


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

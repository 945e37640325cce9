"""Exception types of pinn_mrepu.

Every user-facing validation error is a :class:`ConfigError` whose message is one line naming the field, the
value and the rule, e.g. ``network.depth: got 0, must be an integer >= 1``.  The message stays one short line
whatever the input: the echoed value is a bounded repr (at most :data:`MAX_SHOWN` characters, so a YAML alias
bomb or a megabyte string is never expanded into it), and line breaks or control characters in the field or
the rule are escaped.
"""

from __future__ import annotations

import reprlib

__all__ = ["MAX_SHOWN", "ConfigError", "PinnMrepuError", "TrainingError", "shown"]

#: The most characters of a value that an error message echoes.
MAX_SHOWN = 80
_MAX_FIELD, _MAX_RULE = 120, 400


class _Bounded(reprlib.Repr):
    """``reprlib`` with small limits and an integer repr that never converts a huge int to decimal."""

    def __init__(self):
        super().__init__()
        self.maxlevel, self.maxdict, self.maxlist, self.maxtuple, self.maxset = 3, 4, 6, 6, 6
        self.maxstring, self.maxother, self.maxlong = MAX_SHOWN, MAX_SHOWN, 40

    def repr_int(self, x: int, level: int) -> str:
        if x.bit_length() > 128:  # str() of a 5000-digit int raises (and a huge one is slow)
            return f"<an integer of about {int(x.bit_length() * 0.30103) + 1} digits>"
        return super().repr_int(x, level)


_REPR = _Bounded()


def _one_line(text: str, limit: int) -> str:
    text = "".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in text[: 4 * limit])
    return text if len(text) <= limit else text[: limit - 3] + "..."


def shown(value: object, limit: int = MAX_SHOWN) -> str:
    """A one-line repr of ``value`` of at most ``limit`` characters (cheap for any size of value)."""
    try:
        text = _REPR.repr(value)
    except Exception:  # noqa: BLE001 - a broken __repr__ must not hide the error being reported
        text = f"<{type(value).__name__}>"
    return _one_line(text, limit)


class PinnMrepuError(Exception):
    """Base class of the package's own errors."""


class ConfigError(PinnMrepuError, ValueError):
    """Bad input: a malformed, unknown or out-of-range configuration value.

    The message is a single line ``<field>: got <value>, <rule>`` with the value shown by :func:`shown`.
    """

    def __init__(self, field: str, value: object, rule: str):
        self.field = field
        self.value = value
        self.rule = rule
        super().__init__(f"{_one_line(str(field), _MAX_FIELD)}: got {shown(value)}, {_one_line(str(rule), _MAX_RULE)}")

    def with_prefix(self, prefix: str) -> ConfigError:
        """The same error with ``prefix.`` put in front of the field name."""
        return ConfigError(f"{prefix}.{self.field}" if self.field else prefix, self.value, self.rule)


class TrainingError(PinnMrepuError, RuntimeError):
    """Training could not continue (e.g. a non-finite loss)."""

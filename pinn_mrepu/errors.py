"""Exception types of pinn_mrepu.

Every user-facing validation error is a :class:`ConfigError` whose message is one line naming the field, the
value and the rule, e.g. ``network.depth: got 0, must be an integer >= 1``.
"""

from __future__ import annotations


class PinnMrepuError(Exception):
    """Base class of the package's own errors."""


class ConfigError(PinnMrepuError, ValueError):
    """Bad input: a malformed, unknown or out-of-range configuration value.

    The message is a single line ``<field>: got <value>, <rule>``.
    """

    def __init__(self, field: str, value: object, rule: str):
        self.field = field
        self.value = value
        self.rule = rule
        super().__init__(f"{field}: got {value!r}, {rule}")

    def with_prefix(self, prefix: str) -> "ConfigError":
        """The same error with ``prefix.`` put in front of the field name."""
        return ConfigError(f"{prefix}.{self.field}" if self.field else prefix, self.value, self.rule)


class TrainingError(PinnMrepuError, RuntimeError):
    """Training could not continue (e.g. a non-finite loss)."""

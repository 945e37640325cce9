"""Derivative field names: the vocabulary shared by residuals (physics) and engines (derivatives).

A field name is an output name followed by the differentiation variables, one letter each: ``u`` (the value),
``u_x``, ``u_t``, ``u_xx``, ``u_xt``, ``u_yy``, ``u_xxx``.  The letters are sorted into the coordinate order, so
``u_tx`` is the same field as ``u_xt`` (returned under the name that was asked for).  Coordinates themselves
(``x``, ``t``) may also be requested and are returned as ``(N, 1)`` columns.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

__all__ = ["FieldSpec", "parse_field", "required_order", "is_field", "MAX_ORDER"]

#: Highest derivative order a field may have (both engines serve every field up to it).
MAX_ORDER = 4


@dataclass(frozen=True)
class FieldSpec:
    """A parsed field name: ``output`` differentiated along coordinate indices ``order`` (sorted)."""

    name: str
    output: str
    order: tuple[int, ...]


def parse_field(name: str, variables: Sequence[str], outputs: Sequence[str] = ("u",)) -> FieldSpec:
    """Parse ``"u_xt"`` into ``FieldSpec("u_xt", "u", (0, 1))`` for variables ``("x", "t")``.

    Raises:
        ValueError: unknown output or variable; the message lists the valid ones.
    """
    if name in variables:
        return FieldSpec(name, "", (variables.index(name),))
    out, sep, letters = name.partition("_")
    if out not in outputs:
        raise ValueError(
            f"field: got {name!r}, must be an output ({', '.join(outputs)}) optionally followed by '_' and "
            f"variable letters ({''.join(variables)}), or a coordinate"
        )
    if sep and not letters:
        raise ValueError(f"field: got {name!r}, a '_' must be followed by variable letters ({''.join(variables)})")
    idx = []
    for ch in letters:
        if ch not in variables:
            raise ValueError(f"field: got {name!r}, {ch!r} is not a variable (variables: {', '.join(variables)})")
        idx.append(variables.index(ch))
    return FieldSpec(name, out, tuple(sorted(idx)))


def required_order(names: Iterable[str], variables: Sequence[str], outputs: Sequence[str] = ("u",)) -> int:
    """Highest derivative order among ``names`` (0 for values and coordinates)."""
    return max((len(s.order) for s in (parse_field(n, variables, outputs) for n in names) if s.output), default=0)


def is_field(name: str, variables: Sequence[str], outputs: Sequence[str]) -> bool:
    """True when ``name`` is an output or a derivative of one (``u``, ``u_x``, ``v_xyy``), coordinates excluded."""
    try:
        return bool(parse_field(name, variables, outputs).output)
    except ValueError:
        return False

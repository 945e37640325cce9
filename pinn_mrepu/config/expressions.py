"""Safe arithmetic expressions for configuration values.

Boundary/initial values, source terms and exact solutions are written in YAML as strings such as
``"-sin(pi*x)"`` or ``"exp(-pi**2*alpha*t)*sin(pi*x)"``, or as plain numbers.  :func:`parse_expression` turns
them into an :class:`Expression` that evaluates with differentiable torch operations on a ``(N, d)`` tensor of
points (one column per variable) and returns ``(N, 1)`` on the points' dtype and device.

Nothing is ever passed to ``eval``/``exec``/``compile``: the text is parsed with ``ast.parse(..., mode="eval")``
and the tree is walked against a strict whitelist -- numeric literals, the problem's variables and parameters,
the constants ``pi`` and ``e``, binary ``+ - * / **``, unary ``+ -``, and one-argument calls of
``sin cos tan exp log sqrt tanh sinh cosh abs``.  Anything else raises :class:`~pinn_mrepu.errors.ConfigError`.
Parameters are plain floats substituted at parse time.

Equations and operator conditions also read **derivative fields** (``u``, ``u_x``, ``v_yy``, ``u_xxxx``): pass
``fields=`` a predicate that recognises field names; the expression then records the fields it reads
(:attr:`Expression.fields_used`) and is evaluated as ``expr(points, fields)`` with ``fields`` mapping each name to
an ``(N, 1)`` tensor.
"""

from __future__ import annotations

import ast
import difflib
import math
import numbers
from typing import Callable, Mapping, Sequence

import numpy as np
import torch

from pinn_mrepu.errors import ConfigError

__all__ = ["Expression", "parse_expression", "FUNCTIONS", "CONSTANTS", "MAX_LENGTH"]

MAX_LENGTH = 1000
_MAX_DEPTH = 200
FUNCTIONS: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
    "sin": torch.sin, "cos": torch.cos, "tan": torch.tan, "exp": torch.exp, "log": torch.log,
    "sqrt": torch.sqrt, "tanh": torch.tanh, "sinh": torch.sinh, "cosh": torch.cosh, "abs": torch.abs,
}
CONSTANTS: dict[str, float] = {"pi": math.pi, "e": math.e}
_BINOPS = {ast.Add: torch.add, ast.Sub: torch.sub, ast.Mult: torch.mul, ast.Div: torch.div, ast.Pow: torch.pow}
_OP_SYMBOLS = {ast.FloorDiv: "//", ast.Mod: "%", ast.MatMult: "@", ast.LShift: "<<", ast.RShift: ">>",
               ast.BitOr: "|", ast.BitXor: "^", ast.BitAnd: "&", ast.Not: "not", ast.Invert: "~"}
_NODE_NAMES = {
    ast.Attribute: "attribute access", ast.Subscript: "indexing", ast.Lambda: "lambda",
    ast.ListComp: "comprehension", ast.SetComp: "comprehension", ast.DictComp: "comprehension",
    ast.GeneratorExp: "comprehension", ast.Compare: "comparison", ast.BoolOp: "boolean operator",
    ast.IfExp: "conditional expression", ast.JoinedStr: "f-string", ast.NamedExpr: "assignment expression",
    ast.List: "list", ast.Tuple: "tuple", ast.Set: "set", ast.Dict: "dict", ast.Starred: "starred argument",
    ast.Await: "await", ast.Yield: "yield", ast.YieldFrom: "yield", ast.Slice: "slice",
}

# A compiled node: maps (columns by name, 0-dim template tensor) to a tensor broadcastable to (N,).
_Fn = Callable[[dict, torch.Tensor], torch.Tensor]


class _Node:
    """A compiled subtree; ``const`` is the value when the subtree is a (signed) numeric literal."""

    __slots__ = ("fn", "const")

    def __init__(self, fn: _Fn, const: float | None = None):
        self.fn = fn
        self.const = const


def _constant(value: float) -> _Node:
    return _Node(lambda cols, like: like.new_tensor(value), const=value)


class Expression:
    """A parsed, safe expression over named variables; call it on ``(N, len(variables))`` points."""

    def __init__(self, text: str, variables: tuple[str, ...], names_used: frozenset[str], node: _Node,
                 fields_used: tuple[str, ...] = ()):
        self.text = text
        self.variables = variables
        self.names_used = names_used
        self.fields_used = fields_used
        self._node = node

    @property
    def is_constant(self) -> bool:
        """True when no variable or field is referenced (the value is the same at every point)."""
        return not (self.names_used & set(self.variables)) and not self.fields_used

    def __call__(self, points: torch.Tensor, fields: Mapping[str, torch.Tensor] | None = None) -> torch.Tensor:
        """Evaluate at ``points`` of shape ``(N, d)``; returns ``(N, 1)`` with the points' dtype and device.

        ``fields`` maps every name in :attr:`fields_used` to an ``(N, 1)`` (or ``(N,)``) tensor.
        """
        if not isinstance(points, torch.Tensor):
            raise TypeError(f"expression {self.text!r}: points must be a torch.Tensor, got {type(points).__name__}")
        d = len(self.variables)
        if points.dim() != 2 or points.shape[1] != d:
            raise ValueError(f"expression {self.text!r}: points must have shape (N, {d}) for variables "
                             f"{', '.join(self.variables)}; got {tuple(points.shape)}")
        if not points.is_floating_point():
            points = points.to(torch.get_default_dtype())
        cols = {name: points[:, i] for i, name in enumerate(self.variables)}
        if self.fields_used:
            missing = [k for k in self.fields_used if fields is None or k not in fields]
            if missing:
                raise ValueError(f"expression {self.text!r}: needs the fields {', '.join(missing)}")
            cols.update({k: fields[k].reshape(-1) for k in self.fields_used})
        like = points.new_zeros(())
        out = self._node.fn(cols, like)
        n = points.shape[0]
        if out.dim() == 0:
            return out.reshape(1, 1).expand(n, 1).clone()
        return out.reshape(n, 1)

    def numpy(self, points: np.ndarray) -> np.ndarray:
        """Evaluate on a float64 numpy array ``(N, d)``; returns ``(N,)``."""
        arr = np.asarray(points, dtype=np.float64)
        with torch.no_grad():
            return self(torch.from_numpy(np.ascontiguousarray(arr))).numpy().reshape(-1).copy()

    def __repr__(self) -> str:
        return f"Expression({self.text!r}, variables={self.variables})"


def parse_expression(text: str | int | float, *, variables: Sequence[str],
                     params: Mapping[str, float] | None = None, field: str = "expression",
                     fields: Callable[[str], bool] | None = None, fields_help: str = "") -> Expression:
    """Parse ``text`` (a string or a real number) into an :class:`Expression` over ``variables``.

    ``params`` maps parameter names to floats substituted at parse time.  ``fields`` (optional) recognises
    derivative field names the expression may read; ``fields_help`` describes them in error messages (e.g.
    ``"u and its derivatives u_x, u_tt, ..."``).  Any disallowed construct, unknown name, syntax error or bad
    value raises :class:`ConfigError` naming ``field``.
    """
    variables = tuple(variables)
    param_values: dict[str, float] = {}
    for name, value in (params or {}).items():
        if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(float(value)):
            raise ConfigError(f"params.{name}", value, "must be a finite real number")
        if name in variables:
            raise ConfigError(f"params.{name}", value, f"parameter name clashes with the variable {name!r}")
        param_values[str(name)] = float(value)
    allowed = ("must be an expression over " + (", ".join(variables) or "no variables")
               + (f", the fields {fields_help}" if fields is not None and fields_help else "")
               + (f" (parameters: {', '.join(param_values)})" if param_values else "")
               + " using numbers, pi, e, + - * / **, and " + " ".join(FUNCTIONS))

    def fail(value: object, found: str) -> ConfigError:
        return ConfigError(field, value, f"{allowed}; {found}")

    if isinstance(text, numbers.Real) and not isinstance(text, bool):
        if not math.isfinite(float(text)):
            raise fail(text, "the number must be finite")
        return Expression(str(text), variables, frozenset(), _constant(float(text)))
    if not isinstance(text, str):
        kind = "None" if text is None else f"a {type(text).__name__}"
        raise fail(text, f"{kind} is not allowed (give a string or a number)")
    shown = text if len(text) <= 80 else text[:77] + "..."
    if len(text) > MAX_LENGTH:
        raise fail(shown, f"the text is {len(text)} characters long (at most {MAX_LENGTH})")
    source = text.strip()
    if not source:
        raise fail(text, "the expression is empty")
    try:
        tree = ast.parse(source, mode="eval")
    except SyntaxError as exc:
        where = f" at column {exc.offset}" if exc.offset else ""
        detail = f" ({exc.msg})" if exc.msg and exc.msg != "invalid syntax" else ""
        raise fail(shown, f"invalid syntax{where}{detail}") from None
    except (ValueError, RecursionError, MemoryError) as exc:
        raise fail(shown, f"cannot be parsed ({type(exc).__name__})") from None

    used: set[str] = set()
    fields_used: dict[str, None] = {}

    def hint(name: str, candidates: Sequence[str]) -> str:
        close = difflib.get_close_matches(name, list(candidates), n=1)
        return f"; did you mean {close[0]!r}?" if close else ""

    def walk(node: ast.AST, depth: int) -> _Node:
        if depth > _MAX_DEPTH:
            raise fail(shown, f"the expression is nested more than {_MAX_DEPTH} levels deep")
        if isinstance(node, ast.Constant):
            value = node.value
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                kind = "boolean" if isinstance(value, bool) else type(value).__name__
                raise fail(shown, f"a {kind} literal ({value!r}) is not allowed")
            try:
                number = float(value)
            except OverflowError:
                raise fail(shown, "a numeric literal is too large") from None
            if not math.isfinite(number):
                raise fail(shown, "a numeric literal is too large")
            return _constant(number)
        if isinstance(node, ast.Name):
            name = node.id
            if name in variables:
                used.add(name)
                return _Node(lambda cols, like: cols[name])
            if name in param_values:
                used.add(name)
                return _constant(param_values[name])
            if name in CONSTANTS:
                return _constant(CONSTANTS[name])
            if fields is not None and fields(name):
                fields_used[name] = None
                return _Node(lambda cols, like: cols[name])
            if name in FUNCTIONS:
                raise fail(shown, f"{name!r} is a function; call it like {name}(x)")
            known = [*variables, *param_values, *CONSTANTS, *FUNCTIONS]
            raise fail(shown, f"unknown name {name!r} (variables: {', '.join(variables) or 'none'})"
                       + hint(name, known))
        if isinstance(node, ast.BinOp):
            op = _BINOPS.get(type(node.op))
            if op is None:
                raise fail(shown, f"the operator {_OP_SYMBOLS.get(type(node.op), type(node.op).__name__)!r}"
                           " is not allowed")
            left, right = walk(node.left, depth + 1), walk(node.right, depth + 1)
            if op is torch.pow and right.const is not None:
                exponent = right.const  # a literal exponent keeps x**2 exact and well-behaved for x < 0
                return _Node(lambda cols, like: torch.pow(left.fn(cols, like), exponent))
            return _Node(lambda cols, like: op(left.fn(cols, like), right.fn(cols, like)))
        if isinstance(node, ast.UnaryOp):
            if isinstance(node.op, ast.UAdd):
                return walk(node.operand, depth + 1)
            if isinstance(node.op, ast.USub):
                inner = walk(node.operand, depth + 1)
                if inner.const is not None:
                    return _constant(-inner.const)
                return _Node(lambda cols, like: torch.neg(inner.fn(cols, like)))
            raise fail(shown, f"the operator {_OP_SYMBOLS.get(type(node.op), type(node.op).__name__)!r}"
                       " is not allowed")
        if isinstance(node, ast.Call):
            if not isinstance(node.func, ast.Name):
                raise fail(shown, "calling anything but a named function is not allowed")
            fname = node.func.id
            if fname not in FUNCTIONS:
                raise fail(shown, f"unknown function {fname!r}" + hint(fname, list(FUNCTIONS)))
            if node.keywords or len(node.args) != 1 or isinstance(node.args[0], ast.Starred):
                raise fail(shown, f"{fname}() takes exactly one positional argument")
            func, arg = FUNCTIONS[fname], walk(node.args[0], depth + 1)
            return _Node(lambda cols, like: func(arg.fn(cols, like)))
        kind = next((label for cls, label in _NODE_NAMES.items() if isinstance(node, cls)), None)
        raise fail(shown, f"{kind or type(node).__name__!r} is not allowed")

    try:
        root = walk(tree.body, 0)
    except RecursionError:
        raise fail(shown, "the expression is nested too deeply") from None
    return Expression(text, variables, frozenset(used), root, tuple(fields_used))

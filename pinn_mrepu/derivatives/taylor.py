"""Taylor-mode derivative engine: exact input derivatives of an MLP in one stacked forward pass.

For an :class:`~pinn_mrepu.nn.MLP` the value and every needed input derivative ("stream") are pushed
through the network together.  With ``z = W h + b`` and ``a = sigma(z)`` the streams obey, for coordinate
directions k, l, m, n (Faa di Bruno)::

    linear:      z_k = W h_k,   z_kl = W h_kl,   z_klm = W h_klm, ...     (the bias enters the value only)
    activation:  a_k    = s1 z_k
                 a_kl   = s1 z_kl + s2 z_k z_l
                 a_klm  = s1 z_klm + s2 (z_kl z_m + z_km z_l + z_lm z_k) + s3 z_k z_l z_m
                 a_klmn = s1 z_klmn + s2 (4 terms z_klm z_n + 3 terms z_kl z_mn) + s3 (6 terms z_kl z_m z_n)
                          + s4 z_k z_l z_m z_n

that is, a sum over the set partitions of the directions, ``s_|partition|`` times one stream per block, with
``s_n = sigma^(n)(z)`` from the activation's closed forms (:meth:`Activation.derivatives`, n <= 4).  Repeated
directions (``u_xxxx``, ``u_xxyy``) merge equal terms into integer coefficients (:class:`_Plan`).  The input
map ``h0 = (x - shift) * scale`` gives first-layer tangents ``z_k = W[:, k] * scale[k]`` (the same for every
point) and zero higher streams, so the first layer is done in closed form on ``(width,)`` vectors.

The streams are packed into one ``(rows, width)`` matrix (:class:`~pinn_mrepu.derivatives.taylor_fused.Layout`), so each linear layer is a single
matrix product ``(rows, width) @ W^T``: first the value rows of every point, then one block per derivative
stream (value first, then first, second, third and fourth derivatives, only those a request needs: Burgers
``u, u_x, u_t, u_xx`` carries S = 4 streams: value, x, t, xx).  :func:`taylor_fields_many` packs several point
sets into the same pass: a training loss's residual points carry the streams, and its boundary and initial
points that need only values ride along as extra value rows, so one step is one network pass instead of one
per condition (the sets that need derivatives all carry the union of their streams).

For derivatives up to order 2, in eager mode, the whole network is one :class:`torch.autograd.Function`
(:class:`~pinn_mrepu.derivatives.taylor_fused.TaylorNet`) whose backward is written in closed form (it needs the third derivative of sigma, also a
closed form): one autograd node instead of a dozen per layer, and fewer temporaries.  Order 3 and 4 requests,
``torch.compile`` tracing and activations with trainable parameters use plain torch operations on the same
layout instead (autograd differentiates the closed forms).  Either way the parameter gradient of any loss built
on the fields is an ordinary first-order backward through this forward, and equals the nested-autograd
reference to round-off (tests/test_taylor.py, tests/test_taylor_packed.py).
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from pinn_mrepu.activations import Activation
from pinn_mrepu.nn import MLP

from .fields import MAX_ORDER, FieldSpec
from .taylor_fused import Layout, TaylorNet

__all__ = ["MAX_ORDER", "taylor_fields", "taylor_fields_many"]

# MAX_ORDER = 4 is the field vocabulary's (pinn_mrepu.fields): sigma'''' is the highest closed form


@dataclass(frozen=True)
class _Plan:
    """Streams to carry and, for each, the Faa di Bruno terms ``(coef, n_blocks, block stream indices)``."""

    streams: tuple[tuple[int, ...], ...]  # multi-indices; streams[0] = () is the value
    terms: tuple[tuple[tuple[int, int, tuple[int, ...]], ...], ...]
    pairs: tuple[tuple[int, int, int], ...]  # order-2 streams as (stream, first-order k, first-order l)
    max_order: int

    @property
    def index(self) -> dict[tuple[int, ...], int]:
        return {a: i for i, a in enumerate(self.streams)}

    @property
    def firsts(self) -> list[int]:
        """Coordinate index of each first-order stream (streams 1..F, in order)."""
        return [a[0] for a in self.streams if len(a) == 1]


def _set_partitions(items: list[int]):
    """All set partitions of ``items`` (lists of blocks)."""
    if not items:
        yield []
        return
    first, rest = items[0], items[1:]
    for part in _set_partitions(rest):
        yield [[first]] + part
        for i in range(len(part)):
            yield part[:i] + [[first] + part[i]] + part[i + 1 :]


def _make_plan(orders: tuple[tuple[int, ...], ...]) -> _Plan:
    needed = set()
    for alpha in orders:
        for r in range(1, len(alpha) + 1):
            needed.update(itertools.combinations(alpha, r))  # alpha is sorted, so are its sub-multisets
    streams = ((),) + tuple(sorted(needed, key=lambda a: (len(a), a)))
    index = {a: i for i, a in enumerate(streams)}
    terms: list[tuple[tuple[int, int, tuple[int, ...]], ...]] = [()]
    for alpha in streams[1:]:
        acc: dict[tuple[int, tuple[int, ...]], int] = {}
        for part in _set_partitions(list(range(len(alpha)))):
            blocks = tuple(sorted(index[tuple(sorted(alpha[p] for p in block))] for block in part))
            key = (len(part), blocks)
            acc[key] = acc.get(key, 0) + 1
        terms.append(tuple((c, m, b) for (m, b), c in sorted(acc.items())))
    pairs = tuple((index[a], index[a[:1]], index[a[1:]]) for a in streams if len(a) == 2)
    return _Plan(streams, tuple(terms), pairs, max(len(a) for a in streams))


_cached_plan = functools.lru_cache(maxsize=256)(_make_plan)  # eager calls; torch.compile traces _make_plan


def _activate(sig: Sequence[torch.Tensor], z: Sequence[torch.Tensor | None], plan: _Plan, nd: int) -> torch.Tensor:
    """Packed ``(rows, width)`` streams of ``sigma(z)`` with plain torch ops (see :class:`~pinn_mrepu.derivatives.taylor_fused.Layout`).

    ``sig[n]`` is sigma^(n) at the value rows; ``z[s]`` the stream ``s >= 1`` (``None``: a zero stream, a
    ``(width,)`` vector: the same at every point).
    """
    sd = [s[:nd] for s in sig]
    out = [sig[0]]
    width = sig[0].shape[1]
    for terms in plan.terms[1:]:
        acc = None
        for coef, m, blocks in terms:
            if any(z[b] is None for b in blocks):
                continue
            term = sd[m]
            for b in blocks:
                term = term * z[b]
            if coef != 1:
                term = coef * term
            acc = term if acc is None else acc + term
        out.append(acc.expand(nd, width))
    return torch.cat(out) if len(out) > 1 else out[0]


def _check_model(model: torch.nn.Module) -> MLP:
    if not isinstance(model, MLP) or type(model).forward is not MLP.forward:
        raise TypeError(
            f"taylor engine: got a {type(model).__name__}, it supports only pinn_mrepu.nn.MLP (with the "
            "stock forward); use engine='autograd' for other models"
        )
    if not isinstance(model.activation, Activation):
        kind = type(model.activation).__name__
        raise TypeError(f"taylor engine: the MLP's activation is a {kind}, not a pinn_mrepu Activation")
    return model


def taylor_fields(
    model: torch.nn.Module,
    points: torch.Tensor,
    specs: Sequence[FieldSpec],
    *,
    outputs: Sequence[str] = ("u",),
    create_graph: bool = True,
    fused: bool | None = None,
) -> dict[str, torch.Tensor]:
    """Derivative fields of an MLP by forward Taylor-mode propagation.  Same contract as
    :func:`pinn_mrepu.derivatives.autograd_fields`.

    Args:
        model: a :class:`~pinn_mrepu.nn.MLP` mapping ``(N, d)`` to ``(N, len(outputs))``.
        points: ``(N, d)`` coordinates.
        specs: parsed fields (:func:`~pinn_mrepu.derivatives.parse_field`); orders up to :data:`MAX_ORDER` (4).
        outputs: the model's output names.
        create_graph: keep the graph for a parameter backward; ``False`` returns detached tensors.
        fused: use the fused closed-form network step (orders <= 2 only).  ``None``: yes in eager mode,
            no while ``torch.compile`` traces or when the activation has trainable parameters.

    Returns:
        ``{spec.name: (N, 1) tensor}``.

    Raises:
        TypeError: the model is not an MLP.
        ValueError: a derivative of order > 4, an unknown output, or points of the wrong shape.
    """
    return taylor_fields_many(model, [(points, specs)], outputs=outputs, create_graph=create_graph, fused=fused)[0]


def taylor_fields_many(
    model: torch.nn.Module,
    requests: Sequence[tuple[torch.Tensor, Sequence[FieldSpec]]],
    *,
    outputs: Sequence[str] = ("u",),
    create_graph: bool = True,
    fused: bool | None = None,
) -> list[dict[str, torch.Tensor]]:
    """Fields of several point sets in one packed pass: ``[(points, specs), ...]`` to ``[{name: (N_i, 1)}, ...]``.

    All sets share one forward (one matrix product per layer): the value rows of every set, and derivative
    streams for the sets that ask for derivatives (each such set carries the union of their streams).  A
    training step with a PDE residual and value-only boundary/initial terms is thus one network pass, not
    three.  Arguments and errors as in :func:`taylor_fields`.
    """
    mlp = _check_model(model)
    outputs = tuple(outputs)
    with_derivs, values_only = [], []
    for i, (points, specs) in enumerate(requests):
        orders = _check_request(mlp, points, specs, outputs)
        (with_derivs if orders else values_only).append((i, points, orders))
    compiling = torch.compiler.is_compiling()
    key = tuple(sorted({o for _, _, orders in with_derivs for o in orders}))
    plan = _make_plan(key) if compiling else _cached_plan(key)
    if fused is None:
        fused = not compiling and not any(p.requires_grad for p in mlp.activation.parameters())
    fused = fused and plan.max_order <= 2
    packed = with_derivs + values_only
    nd = sum(p.shape[0] for _, p, _ in with_derivs)
    lay = Layout(sum(p.shape[0] for _, p, _ in packed), nd, len(plan.streams))
    x = packed[0][1] if len(packed) == 1 else torch.cat([p for _, p, _ in packed])

    with torch.set_grad_enabled(create_graph and torch.is_grad_enabled()):
        xhat = mlp.normalise(x.detach())
        if fused:
            params = [t for lin in mlp.linears for t in (lin.weight, lin.bias)]
            grad = torch.is_grad_enabled() and any(t.requires_grad for t in params)
            y = TaylorNet.apply(xhat, mlp.input_scale, lay, plan, mlp.activation, grad, *params)
        else:
            y = _forward(mlp, xhat, lay, plan)
        results: list[dict[str, torch.Tensor]] = [{} for _ in requests]
        index, offset = plan.index, 0
        for i, points, _ in packed:
            n = points.shape[0]
            for spec in requests[i][1]:
                if spec.output == "":
                    col = points[:, spec.order[0] : spec.order[0] + 1]
                    results[i][spec.name] = col if create_graph else col.detach()
                else:
                    k, a = outputs.index(spec.output), lay.start(index[spec.order]) + offset
                    results[i][spec.name] = y[a : a + n, k : k + 1]
            offset += n
        return results


def _check_request(mlp: MLP, points: torch.Tensor, specs: Sequence[FieldSpec], outputs: tuple[str, ...]) -> set:
    """Validate one ``(points, specs)`` request; return the derivative orders (multi-indices) it needs."""
    if points.ndim != 2 or points.shape[1] != mlp.in_dim:
        raise ValueError(f"points: got shape {tuple(points.shape)}, must be (N, {mlp.in_dim}) for this MLP")
    if len(outputs) > mlp.out_dim:
        raise ValueError(f"outputs: got {outputs!r}, the MLP has only {mlp.out_dim} output(s)")
    orders = set()
    for spec in specs:
        if not spec.output:
            continue
        if spec.output not in outputs:
            raise ValueError(f"field: got {spec.name!r}, output {spec.output!r} is not one of {outputs}")
        if len(spec.order) > MAX_ORDER:
            raise ValueError(
                f"field: got {spec.name!r} of order {len(spec.order)}; the taylor engine supports derivatives up "
                f"to order {MAX_ORDER} (sigma'''' is the highest closed form), use engine='autograd'"
            )
        if any(not 0 <= k < mlp.in_dim for k in spec.order):
            raise ValueError(f"field: got {spec.name!r}, coordinate index out of range for {mlp.in_dim} inputs")
        if spec.order:
            orders.add(spec.order)
    return orders


def _forward(mlp: MLP, xhat: torch.Tensor, lay: Layout, plan: _Plan) -> torch.Tensor:
    """Packed output streams ``(rows, out_dim)`` of ``mlp`` with plain torch operations (autograd differentiates
    them): the path for ``torch.compile``, order-3 and -4 fields and activations with trainable parameters."""
    act = mlp.activation
    first, *hidden, last = mlp.linears
    nv, nd, order = lay.n_v, lay.n_d, plan.max_order
    firsts = plan.firsts
    # Layer 1: tangents are the weight columns times the input scale; higher streams start at zero.
    z0 = F.linear(xhat, first.weight, first.bias)
    cols = (first.weight[:, firsts] * mlp.input_scale[firsts]).T  # (F, width): d z / d x_k per first-order stream
    zs = [None] + list(cols.unbind(0)) + [None] * (lay.n_streams - 1 - len(firsts))
    h = _activate(act.derivatives(z0, order), zs, plan, nd)
    for lin in hidden:
        z = F.linear(h, lin.weight)  # all streams of all points: one matrix product
        zs = [None] + [lay.block(z, s) for s in range(1, lay.n_streams)]
        h = _activate(act.derivatives(z[:nv] + lin.bias, order), zs, plan, nd)
    y = F.linear(h, last.weight)
    return torch.cat([y[:nv] + last.bias, y[nv:]]) if lay.n_streams > 1 else y + last.bias

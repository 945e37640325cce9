"""Taylor-mode derivative engine: exact input derivatives of an MLP in one stacked forward pass.

For an :class:`~pinn_mrepu.networks.MLP` the value and every needed input derivative ("stream") are pushed
through the network together.  With ``z = W h + b`` and ``a = sigma(z)`` the streams obey, for coordinate
directions k, l, m (Faa di Bruno)::

    linear:      z_k = W h_k,   z_kl = W h_kl,   z_klm = W h_klm          (the bias enters the value only)
    activation:  a_k   = s1 z_k
                 a_kl  = s1 z_kl + s2 z_k z_l
                 a_klm = s1 z_klm + s2 (z_kl z_m + z_km z_l + z_lm z_k) + s3 z_k z_l z_m

with ``s_n = sigma^(n)(z)`` from the activation's closed forms (:meth:`Activation.derivatives`).  The input
map ``h0 = (x - shift) * scale`` gives first-layer tangents ``z_k = W[:, k] * scale[k]`` (the same for every
point) and zero higher streams, so the first layer is done in closed form on ``(width,)`` vectors.

The S streams (value first, then first, second and third derivatives) are stacked into one ``(S, N, width)``
tensor, so each linear layer is a single matrix product ``(S*N, width) @ W^T``.  Only the streams a request
needs are carried: Burgers (``u, u_x, u_t, u_xx``) carries S = 4 (value, x, t, xx).

For derivatives up to order 2, in eager mode, each hidden activation is one fused :class:`torch.autograd.Function`
whose backward is written in closed form (it needs sigma''', also a closed form), which saves memory traffic
and kernel launches.  Order 3 requests, ``torch.compile`` tracing and activations with trainable parameters
use plain torch operations instead (autograd differentiates the closed forms).  Parameter gradients of any
loss built on the fields come from one ordinary backward pass through this forward.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch.autograd.function import once_differentiable

from .activations import Activation
from .derivatives import FieldSpec
from .networks import MLP

__all__ = ["taylor_fields", "MAX_ORDER"]

MAX_ORDER = 3  # sigma''' is the highest closed-form derivative an Activation provides


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


def _activate(sig: Sequence[torch.Tensor], z: Sequence[torch.Tensor | None], plan: _Plan) -> torch.Tensor:
    """Stacked ``(S, N, width)`` streams of ``sigma(z)`` with plain torch ops; ``None`` marks a zero stream."""
    out = [sig[0]]
    for terms in plan.terms[1:]:
        acc = None
        for coef, m, blocks in terms:
            if any(z[b] is None for b in blocks):
                continue
            term = sig[m]
            for b in blocks:
                term = term * z[b]
            if coef != 1:
                term = coef * term
            acc = term if acc is None else acc + term
        out.append(acc)
    n, w = sig[0].shape
    return torch.stack([t.expand(n, w) for t in out])


class _TaylorAct2(torch.autograd.Function):
    """Fused activation of stacked order <= 2 streams, bias added to the value stream; closed-form backward.

    Input ``z`` is ``(S, N, width)`` (linear layer output without bias), ``b`` the bias ``(width,)``.
    """

    @staticmethod
    def forward(ctx, z, b, act, pairs, grad):
        z0 = z[0] + b
        s0, s1, s2, *s3 = act.derivatives(z0, 3 if grad else 2)  # sigma''' only for the backward
        out = torch.empty_like(z)
        out[0] = s0
        torch.mul(z[1:], s1, out=out[1:])  # s1 * z_k and the s1 * z_kl part of the pairs
        for q, k, l in pairs:
            zz = torch.square(z[k]) if k == l else z[k] * z[l]
            out[q].addcmul_(zz, s2)
        if grad:
            ctx.save_for_backward(z, s1, s2, s3[0])
        ctx.pairs = pairs
        return out

    @staticmethod
    @once_differentiable
    def backward(ctx, g):
        # d/dz0: s1 g_0 + s2 sum_{s>0} g_s z_s + s3 sum_kl g_kl z_k z_l;  d/dz_s: s1 g_s (+ s2 g_kl z_l for s = k)
        z, s1, s2, s3 = ctx.saved_tensors
        gz = g * s1
        g0 = gz[0]
        if z.shape[0] > 1:
            acc = g[1] * z[1]
            for s in range(2, z.shape[0]):
                acc.addcmul_(g[s], z[s])
            g0.addcmul_(acc, s2)
        acc = None
        for q, k, l in ctx.pairs:
            w = g[q] * z[k]  # g_kl z_k
            gz[l].addcmul_(w, s2, value=2.0 if k == l else 1.0)
            if k != l:
                gz[k].addcmul_(g[q] * z[l], s2)
            if acc is None:
                acc = w.mul_(z[l])
            else:
                acc.addcmul_(w, z[l])
        if acc is not None:
            g0.addcmul_(acc, s3)
        return gz, g0.sum(0), None, None, None


class _TaylorAct2First(torch.autograd.Function):
    """Fused first-layer activation: value pre-activation ``z0`` ``(N, width)``, first-order tangents ``c``
    ``(F, width)`` (the same at every point), zero second-order streams; closed-form backward."""

    @staticmethod
    def forward(ctx, z0, c, act, pairs, grad):
        s0, s1, s2, *s3 = act.derivatives(z0, 3 if grad else 2)
        f = c.shape[0]
        out = z0.new_empty((1 + f + len(pairs),) + z0.shape)
        out[0] = s0
        torch.mul(s1, c.unsqueeze(1), out=out[1 : f + 1])
        for q, k, l in pairs:
            torch.mul(s2, c[k - 1] * c[l - 1], out=out[q])
        if grad:
            ctx.save_for_backward(c, s1, s2, s3[0])
        ctx.pairs = pairs
        return out

    @staticmethod
    @once_differentiable
    def backward(ctx, g):
        c, s1, s2, s3 = ctx.saved_tensors
        f = c.shape[0]
        gz0 = g[0] * s1
        gc = (g[1 : f + 1] * s1).sum(1)  # (F, width)
        for k in range(f):
            gz0.addcmul_(g[k + 1], s2 * c[k])
        for q, k, l in ctx.pairs:
            k, l = k - 1, l - 1
            gq = g[q]
            gz0.addcmul_(gq, s3 * (c[k] * c[l]))
            t = (gq * s2).sum(0)
            if k == l:
                gc[k].addcmul_(t, c[k], value=2.0)
            else:
                gc[k].addcmul_(t, c[l])
                gc[l].addcmul_(t, c[k])
        return gz0, gc, None, None, None


def _check_model(model: torch.nn.Module) -> MLP:
    if not isinstance(model, MLP) or type(model).forward is not MLP.forward:
        raise TypeError(
            f"taylor engine: got a {type(model).__name__}, it supports only pinn_mrepu.networks.MLP (with the "
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
        model: a :class:`~pinn_mrepu.networks.MLP` mapping ``(N, d)`` to ``(N, len(outputs))``.
        points: ``(N, d)`` coordinates.
        specs: parsed fields (:func:`~pinn_mrepu.derivatives.parse_field`); orders up to 3.
        outputs: the model's output names.
        create_graph: keep the graph for a parameter backward; ``False`` returns detached tensors.
        fused: use the fused closed-form activation step (orders <= 2 only).  ``None``: yes in eager mode,
            no while ``torch.compile`` traces or when the activation has trainable parameters.

    Returns:
        ``{spec.name: (N, 1) tensor}``.

    Raises:
        TypeError: the model is not an MLP.
        ValueError: a derivative of order > 3, an unknown output, or points of the wrong shape.
    """
    mlp = _check_model(model)
    outputs = tuple(outputs)
    if points.ndim != 2 or points.shape[1] != mlp.in_dim:
        raise ValueError(f"points: got shape {tuple(points.shape)}, must be (N, {mlp.in_dim}) for this MLP")
    if len(outputs) > mlp.out_dim:
        raise ValueError(f"outputs: got {outputs!r}, the MLP has only {mlp.out_dim} output(s)")
    orders = []
    for spec in specs:
        if not spec.output:
            continue
        if spec.output not in outputs:
            raise ValueError(f"field: got {spec.name!r}, output {spec.output!r} is not one of {outputs}")
        if len(spec.order) > MAX_ORDER:
            raise ValueError(
                f"field: got {spec.name!r} of order {len(spec.order)}; the taylor engine supports derivatives up "
                f"to order {MAX_ORDER} (sigma''' is the highest closed form), use engine='autograd'"
            )
        if any(not 0 <= k < mlp.in_dim for k in spec.order):
            raise ValueError(f"field: got {spec.name!r}, coordinate index out of range for {mlp.in_dim} inputs")
        orders.append(spec.order)
    compiling = torch.compiler.is_compiling()
    key = tuple(sorted(set(orders)))
    plan = _make_plan(key) if compiling else _cached_plan(key)
    if fused is None:
        fused = not compiling and not any(p.requires_grad for p in mlp.activation.parameters())
    fused = fused and plan.max_order <= 2

    with torch.set_grad_enabled(create_graph and torch.is_grad_enabled()):
        y = _forward(mlp, points.detach(), plan, fused)
        return _collect(mlp, points, y, specs, outputs, plan, create_graph)


def _collect(mlp, points, y, specs, outputs, plan, create_graph) -> dict[str, torch.Tensor]:
    index = plan.index
    result = {}
    for spec in specs:
        if spec.output == "":
            col = points[:, spec.order[0] : spec.order[0] + 1]
            result[spec.name] = col if create_graph else col.detach()
        else:
            k = outputs.index(spec.output)
            field = y[index[spec.order], :, k : k + 1]
            result[spec.name] = field + mlp.linears[-1].bias[k] if not spec.order else field
    return result


def _forward(mlp: MLP, x: torch.Tensor, plan: _Plan, fused: bool) -> torch.Tensor:
    """Stacked output streams ``(S, N, out_dim)`` of ``mlp`` at ``x`` for ``plan``, without the output bias."""
    act = mlp.activation
    first, *hidden, last = mlp.linears
    scale = mlp.input_scale
    # Layer 1: tangents are the weight columns times the input scale; higher streams start at zero.
    z0 = F.linear((x - mlp.input_shift) * scale, first.weight, first.bias)
    firsts = [a[0] for a in plan.streams if len(a) == 1]
    n_first = len(firsts)
    cols = (first.weight * scale).T[firsts]  # (F, width): d z / d x_k for each first-order stream
    grad = torch.is_grad_enabled()  # the fused steps compute and keep sigma''' only when a backward can follow
    if fused:
        a = _TaylorAct2First.apply(z0, cols, act, plan.pairs, grad)
    else:
        zs = [z0] + list(cols.unbind(0)) + [None] * (len(plan.streams) - 1 - n_first)
        a = _activate(act.derivatives(z0, plan.max_order), zs, plan)
    for lin in hidden:
        z = F.linear(a, lin.weight)  # (S, N, width): one matrix product for all streams
        if fused:
            a = _TaylorAct2.apply(z, lin.bias, act, plan.pairs, grad)
        else:
            z0 = z[0] + lin.bias
            a = _activate(act.derivatives(z0, plan.max_order), [z0] + list(z[1:].unbind(0)), plan)
    return F.linear(a, last.weight)  # the output bias is added to the value stream by the caller

"""The fused Taylor-mode network step: the packed row layout and one autograd node for a whole MLP.

:func:`pinn_mrepu.derivatives.taylor.taylor_fields_many` packs the value and derivative streams of all point sets into one
``(rows, width)`` matrix (:class:`Layout`).  For derivatives up to order 2 in eager mode it runs the whole MLP as
one :class:`TaylorNet`: the forward of :mod:`pinn_mrepu.derivatives.taylor`'s docstring, and a backward written in closed
form through every layer (it uses the activation's closed-form derivatives up to the third).  The plain-op path
for ``torch.compile``, orders 3 and 4 and trainable activations stays in :mod:`pinn_mrepu.derivatives.taylor`; both are tested
against nested autograd.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch.autograd.function import once_differentiable

__all__ = ["Layout", "TaylorNet"]


@dataclass(frozen=True)
class Layout:
    """Rows of the packed stream matrix ``(rows, width)``: the value rows of all ``n_v`` points (the ``n_d`` points
    that need derivatives first), then one block of ``n_d`` rows for each derivative stream 1..S-1."""

    n_v: int
    n_d: int
    n_streams: int

    @property
    def rows(self) -> int:
        return self.n_v + (self.n_streams - 1) * self.n_d

    def start(self, s: int) -> int:
        """First row of stream ``s`` (``s = 0``: the value rows)."""
        return 0 if s == 0 else self.n_v + (s - 1) * self.n_d

    def block(self, t: torch.Tensor, s: int) -> torch.Tensor:
        """Rows of derivative stream ``s >= 1`` of ``t`` (a view)."""
        a = self.n_v + (s - 1) * self.n_d
        return t[a : a + self.n_d]

    def streams(self, t: torch.Tensor) -> torch.Tensor:
        """All derivative-stream rows of ``t`` as an ``(S-1, n_d, width)`` view."""
        return t[self.n_v :].view(self.n_streams - 1, self.n_d, t.shape[-1])


class TaylorNet(torch.autograd.Function):
    """The whole packed Taylor forward of an MLP (orders <= 2) as one autograd node, with a closed-form backward.

    Inputs: ``xhat`` (normalised points, ``(n_v, d)``), the input ``scale``, the layout, the plan, the activation,
    whether a backward can follow, then ``weight, bias`` of every linear layer.  Output: ``(rows, out_dim)``, the
    output bias added to the value rows.  One node instead of a dozen per layer keeps the autograd engine out of
    the way on small networks, where per-operation overhead, not arithmetic, sets the step time.
    """

    @staticmethod
    def forward(ctx, xhat, scale, lay, plan, act, grad, *params):
        weights, biases = params[0::2], params[1::2]
        nv, nd, n_streams = lay.n_v, lay.n_d, lay.n_streams
        order = 3 if grad else 2  # the third derivative is needed only by the backward
        firsts = plan.firsts
        nf = len(firsts)
        # Layer 1: tangents are the (scaled) weight columns, the same at every point; second-order streams are 0.
        cols = (weights[0][:, firsts] * scale[firsts]).T  # (F, width)
        z0 = torch.addmm(biases[0], xhat, weights[0].T)
        s = act.derivatives(z0, order)
        h = z0.new_empty((lay.rows, z0.shape[1]))
        h[:nv] = s[0]
        if n_streams > 1:
            s2d = s[2][:nd]
            torch.mul(s[1][:nd], cols.unsqueeze(1), out=h[nv : nv + nf * nd].view(nf, nd, -1))
            for q, k, l in plan.pairs:
                torch.mul(s2d, cols[k - 1] * cols[l - 1], out=lay.block(h, q))
        saved = [(xhat, cols, s[1], s[2][:nd], s[3][:nd] if grad else None)]
        for w, b in zip(weights[1:-1], biases[1:-1]):
            z = torch.mm(h, w.T)  # all streams of all points: one matrix product
            z0 = z[:nv]
            z0.add_(b)
            s = act.derivatives(z0, order)
            hn = torch.empty_like(z)
            hn[:nv] = s[0]
            if n_streams > 1:
                s2d = s[2][:nd]
                torch.mul(lay.streams(z), s[1][:nd], out=lay.streams(hn))  # s1 z_k, and the s1 z_kl of the pairs
                for q, k, l in plan.pairs:
                    zk = lay.block(z, k)
                    zz = torch.square(zk) if k == l else zk * lay.block(z, l)
                    lay.block(hn, q).addcmul_(zz, s2d)
            saved.append((h, z, s[1], s[2][:nd], s[3][:nd] if grad else None))
            h = hn
        y = torch.mm(h, weights[-1].T)
        y[:nv] += biases[-1]
        if grad:
            ctx.save_for_backward(*params)
            ctx.layers, ctx.h_last = saved, h
            ctx.lay, ctx.plan, ctx.scale = lay, plan, scale
        return y

    @staticmethod
    @once_differentiable
    def backward(ctx, gy):
        params = ctx.saved_tensors
        weights = params[0::2]
        lay, plan = ctx.lay, ctx.plan
        nv, nd, n_streams = lay.n_v, lay.n_d, lay.n_streams
        grads: list[torch.Tensor | None] = [None] * len(params)
        grads[-1] = gy[:nv].sum(0)
        grads[-2] = gy.T @ ctx.h_last
        w_last = weights[-1]
        # d loss / d (output of the last hidden layer); one output: a broadcast product, not a K = 1 matmul
        g = gy * w_last if w_last.shape[0] == 1 else gy @ w_last
        for j in range(len(weights) - 2, 0, -1):  # hidden layers, last first
            h_prev, z, s1, s2d, s3d = ctx.layers[j]
            gz = torch.empty_like(g)
            torch.mul(g[:nv], s1, out=gz[:nv])
            if n_streams > 1:
                # d/dz0: s1 g_0 + s2 sum_{s>0} g_s z_s + s3 sum_kl g_kl z_k z_l;  d/dz_s: s1 g_s (+ s2 g_kl z_l, s = k)
                gs, zs = lay.streams(g), lay.streams(z)
                torch.mul(gs, s1[:nd], out=lay.streams(gz))
                g0 = gz[:nd]
                g0.addcmul_(torch.mul(gs, zs).sum(0), s2d)
                acc = None
                for q, k, l in plan.pairs:
                    gq, zk, zl = lay.block(g, q), lay.block(z, k), lay.block(z, l)
                    w = gq * zk
                    lay.block(gz, l).addcmul_(w, s2d, value=2.0 if k == l else 1.0)
                    if k != l:
                        lay.block(gz, k).addcmul_(gq * zl, s2d)
                    acc = w.mul_(zl) if acc is None else acc.addcmul_(w, zl)
                if acc is not None:
                    g0.addcmul_(acc, s3d)
            grads[2 * j + 1] = gz[:nv].sum(0)
            grads[2 * j] = gz.T @ h_prev
            g = gz @ weights[j]
        xhat, cols, s1, s2d, s3d = ctx.layers[0]
        gz0 = g[:nv] * s1
        if n_streams > 1:
            nf = cols.shape[0]
            gd = gz0[:nd]
            gc = torch.mul(g[nv : nv + nf * nd].view(nf, nd, -1), s1[:nd]).sum(1)  # (F, width)
            for k in range(nf):
                gd.addcmul_(lay.block(g, k + 1), s2d * cols[k])
            for q, k, l in plan.pairs:
                gq = lay.block(g, q)
                k, l = k - 1, l - 1
                gd.addcmul_(gq, s3d * (cols[k] * cols[l]))
                t = (gq * s2d).sum(0)
                if k == l:
                    gc[k].addcmul_(t, cols[k], value=2.0)
                else:
                    gc[k].addcmul_(t, cols[l])
                    gc[l].addcmul_(t, cols[k])
        gw = gz0.T @ xhat
        if n_streams > 1:
            firsts = plan.firsts
            gw[:, firsts] += (gc * ctx.scale[firsts].unsqueeze(1)).T
        grads[0], grads[1] = gw, gz0.sum(0)
        return (None, None, None, None, None, None, *grads)

"""Limited-memory BFGS on a flat vector: two-loop recursion over the last ``history_size`` pairs.

H is never formed.  With pairs ``(s_i, y_i)``, ``rho_i = 1 / (y_i.s_i)`` (oldest first) and
``H0 = gamma I``, ``gamma = (s.y)/(y.y)`` of the newest pair, ``H g`` is (Nocedal & Wright alg. 7.4)

    q = g;   for i = newest..oldest:  a_i = rho_i s_i.q,  q <- q - a_i y_i
    r = gamma q;   for i = oldest..newest:  b = rho_i y_i.r,  r <- r + (a_i - b) s_i
    H g = r.

Memory ``2 m n`` numbers.  Same line search, statuses and robustness as the dense methods (see
:mod:`.base`): pairs with ``y.s <= curvature_eps |s||y|`` are not stored, a failure empties the memory
(the next direction is ``-gamma g``).  ``points_changed`` keeps the pairs by default (they describe
the curvature of the previous point set, which is close, and they are replaced within ``history_size``
iterations); pass ``reset_on_points_changed=True`` to drop them instead.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from .base import QuasiNewton


def two_loop(g: Tensor, s_list: list[Tensor], y_list: list[Tensor], rho_list: list[float], gamma: float) -> Tensor:
    """``H g`` for the L-BFGS matrix of the pairs (oldest first) with ``H0 = gamma I``; shape (n,)."""
    q = g.clone()
    alphas: list[Tensor] = []
    for s, y, rho in zip(reversed(s_list), reversed(y_list), reversed(rho_list)):
        a = torch.dot(s, q) * rho
        q.addcmul_(y, a, value=-1.0)
        alphas.append(a)
    r = q.mul_(gamma)
    for s, y, rho, a in zip(s_list, y_list, rho_list, reversed(alphas)):
        beta = torch.dot(y, r) * rho
        r.addcmul_(s, a - beta)
    return r


class LBFGS(QuasiNewton):
    """L-BFGS with the shared strong-Wolfe line search.

    Args:
        n: number of parameters.
        history_size: number of (s, y) pairs kept (m).
        **options: see :class:`QuasiNewton` (dtype, device, c1, c2, max_evals, tolerances, ...).
    """

    kind = "lbfgs"

    def __init__(self, n: int, history_size: int = 50, **options: Any) -> None:
        if int(history_size) < 1:
            raise ValueError(f"history_size must be >= 1, got {history_size}")
        super().__init__(n, **options)
        self.history_size = int(history_size)
        self.s_list: list[Tensor] = []
        self.y_list: list[Tensor] = []
        self.rho_list: list[float] = []

    def _apply_h(self, g: Tensor) -> Tensor:
        if not self.s_list:
            return g * (self.gamma if self.gamma > 0.0 else 1.0)
        return two_loop(g, self.s_list, self.y_list, self.rho_list, self.gamma)

    def _update(self, s: Tensor, y: Tensor, ys: float, alpha: float, g: Tensor) -> str:
        if len(self.s_list) == self.history_size:
            del self.s_list[0], self.y_list[0], self.rho_list[0]
        self.s_list.append(s.clone())
        self.y_list.append(y.clone())
        self.rho_list.append(1.0 / ys)
        return ""

    def _clear(self) -> None:
        self.s_list.clear()
        self.y_list.clear()
        self.rho_list.clear()

    def _state(self, copy: bool = True) -> dict[str, Any]:  # stacked: new tensors either way
        empty = torch.empty((0, self.n), dtype=self.dtype, device=self.device)
        return {"history_size": self.history_size,
                "S": torch.stack(self.s_list) if self.s_list else empty,
                "Y": torch.stack(self.y_list) if self.y_list else empty.clone(),
                "rho": torch.tensor(self.rho_list, dtype=torch.float64)}

    def _load_state(self, state: dict[str, Any]) -> None:
        S, Y, rho = state["S"], state["Y"], state["rho"]
        if S.shape != Y.shape or S.ndim != 2 or S.shape[1] != self.n or rho.shape != (S.shape[0],):
            raise ValueError(f"inconsistent L-BFGS memory shapes S {tuple(S.shape)}, Y {tuple(Y.shape)}, "
                             f"rho {tuple(rho.shape)} for n = {self.n}")
        keep = slice(max(0, S.shape[0] - self.history_size), S.shape[0])
        self.s_list = [v.to(dtype=self.dtype, device=self.device, copy=True) for v in S[keep]]
        self.y_list = [v.to(dtype=self.dtype, device=self.device, copy=True) for v in Y[keep]]
        self.rho_list = [float(r) for r in rho[keep]]

"""Poisson equation -Δu = f on a box in 1, 2 or 3 dimensions."""

from __future__ import annotations

from .base import PDE


class Poisson(PDE):
    """-Δu = f; residual ``-(u_xx + u_yy + ...) - f``."""

    name = "poisson"
    takes_source = True

    def fields(self):
        return self.laplacian_fields()

    def residual(self, f, points):
        return -self.laplacian(f) - self.source_term(points)

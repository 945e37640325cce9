"""Heat equation u_t = α Δu + f."""

from __future__ import annotations

from .base import PDE


class Heat(PDE):
    """u_t = α Δu + f with diffusivity α > 0; residual ``u_t - α Δu - f``."""

    name = "heat"
    time_dependent = True
    takes_source = True
    param_rules = {"alpha": (None, "positive")}

    def fields(self):
        return ("u_t",) + self.laplacian_fields()

    def residual(self, f, points):
        return f["u_t"] - self.params["alpha"] * self.laplacian(f) - self.source_term(points)

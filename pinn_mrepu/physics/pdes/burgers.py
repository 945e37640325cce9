"""Viscous Burgers equation u_t + u u_x = ν u_xx in one space dimension."""

from __future__ import annotations

from .base import PDE


class Burgers(PDE):
    """u_t + u u_x - ν u_xx = 0 with viscosity ν >= 0."""

    name = "burgers"
    time_dependent = True
    param_rules = {"nu": (None, "nonnegative")}
    space_dims = (1,)

    def fields(self):
        return ("u", "u_t", "u_x", "u_xx")

    def residual(self, f, points):
        return f["u_t"] + f["u"] * f["u_x"] - self.params["nu"] * f["u_xx"]

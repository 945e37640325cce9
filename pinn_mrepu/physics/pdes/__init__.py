"""PDE families, one small module each, and the :data:`PDES` registry (name -> class)."""

from pinn_mrepu.errors import ConfigError

from .base import PDE
from .burgers import Burgers
from .heat import Heat
from .poisson import Poisson

PDES: dict[str, type[PDE]] = {cls.name: cls for cls in (Poisson, Heat, Burgers)}


def get_pde(name: str) -> type[PDE]:
    """The PDE class registered as ``name``; raises ConfigError listing the valid names."""
    if name not in PDES:
        raise ConfigError("pde", name, f"must be one of {', '.join(sorted(PDES))}")
    return PDES[name]


__all__ = ["PDE", "PDES", "get_pde", "Poisson", "Heat", "Burgers"]

"""Geometry and collocation-point sampling.

A :class:`Domain` is a spatial box (an interval in 1D, a rectangle in 2D, ...) optionally times a time interval
[t0, t1].  Its coordinates are named (``x``, ``y``, ...; time is always ``t`` and comes last).  Points are
sampled

- in the interior (space x time),
- on the spatial boundary (faces ``x_min``, ``x_max``, ``y_min``, ... times the time interval), with outward
  normals,
- on the initial slice t = t0,

by ``uniform`` pseudo-random draws or the quasi-random ``sobol``, ``halton`` and ``lhs`` designs of
:mod:`scipy.stats.qmc`.  Every draw takes an explicit integer seed and a tag (e.g. the resampling round), so a
run is reproducible from its seed alone; there is no hidden global state.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.stats import qmc

__all__ = ["SAMPLERS", "sample_unit", "Interval", "Rectangle", "TimeInterval", "Domain", "Face"]

SAMPLERS = ("uniform", "sobol", "halton", "lhs")


def _rng(seed: int, tag: Sequence[int]) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence([int(seed), *map(int, tag)]))


def sample_unit(n: int, dim: int, *, sampler: str, seed: int, tag: Sequence[int] = ()) -> np.ndarray:
    """``n`` points in [0, 1)^dim, float64, shape ``(n, dim)``.

    Sobol points are the first ``n`` of a scrambled sequence of the next power of two (so no balance warning).

    Raises:
        ValueError: unknown sampler or negative n.
    """
    if sampler not in SAMPLERS:
        raise ValueError(f"sampler: got {sampler!r}, must be one of {', '.join(SAMPLERS)}")
    if n < 0:
        raise ValueError(f"n: got {n}, must be >= 0")
    if dim == 0 or n == 0:
        return np.zeros((n, dim))
    rng = _rng(seed, tag)
    if sampler == "uniform":
        return rng.random((n, dim))
    if sampler == "sobol":
        m = max(0, math.ceil(math.log2(n)))
        return qmc.Sobol(dim, scramble=True, seed=rng).random_base2(m)[:n]
    if sampler == "halton":
        return qmc.Halton(dim, scramble=True, seed=rng).random(n)
    return qmc.LatinHypercube(dim, seed=rng).random(n)


@dataclass(frozen=True)
class Interval:
    """A 1D interval [a, b] of the coordinate ``name``."""

    name: str
    a: float
    b: float

    def __post_init__(self):
        if not (math.isfinite(self.a) and math.isfinite(self.b) and self.b > self.a):
            raise ValueError(f"{self.name}: got [{self.a}, {self.b}], must be a finite interval with lower < upper")


class TimeInterval(Interval):
    """The time interval [t0, t1] (coordinate ``t``)."""

    def __init__(self, t0: float, t1: float):
        super().__init__("t", t0, t1)


class Rectangle:
    """The box prod_i [a_i, b_i] over named coordinates; ``Rectangle([Interval("x", 0, 1), Interval("y", 0, 1)])``."""

    def __init__(self, intervals: Sequence[Interval]):
        if not intervals:
            raise ValueError("space: got no intervals, must have at least one coordinate")
        names = [iv.name for iv in intervals]
        if len(set(names)) != len(names) or "t" in names:
            raise ValueError(f"space: got coordinates {names}, must be distinct and not 't'")
        self.intervals = tuple(intervals)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(iv.name for iv in self.intervals)


@dataclass(frozen=True)
class Face:
    """A face of the spatial box: coordinate index ``axis`` fixed at its lower (side -1) or upper (+1) end."""

    axis: int
    side: int
    name: str


class Domain:
    """Space (a box) optionally times a time interval.  Coordinates ordered as ``variables`` (time last).

    Args:
        space: an :class:`Interval` or :class:`Rectangle`.
        time: an optional :class:`TimeInterval` (or ``(t0, t1)``).
    """

    def __init__(self, space: Interval | Rectangle, time: Interval | tuple[float, float] | None = None):
        self.space = Rectangle([space]) if isinstance(space, Interval) else space
        if isinstance(time, tuple):
            time = TimeInterval(*time)
        self.time = time
        ivs = list(self.space.intervals) + ([time] if time is not None else [])
        self.variables: tuple[str, ...] = tuple(iv.name for iv in ivs)
        self.lower = np.array([iv.a for iv in ivs], dtype=np.float64)
        self.upper = np.array([iv.b for iv in ivs], dtype=np.float64)
        self.space_dim = len(self.space.intervals)
        self.faces = tuple(
            Face(i, side, f"{iv.name}_{'min' if side < 0 else 'max'}")
            for i, iv in enumerate(self.space.intervals)
            for side in (-1, 1)
        )

    @property
    def dim(self) -> int:
        return len(self.variables)

    @property
    def time_dependent(self) -> bool:
        return self.time is not None

    def face(self, name: str) -> Face:
        """The face called ``name`` (``x_min``, ``x_max``, ...)."""
        for f in self.faces:
            if f.name == name:
                return f
        raise ValueError(f"face: got {name!r}, must be one of {', '.join(f.name for f in self.faces)}")

    def _scale(self, unit: np.ndarray, cols: Sequence[int]) -> np.ndarray:
        lo, hi = self.lower[list(cols)], self.upper[list(cols)]
        return lo + unit * (hi - lo)

    def sample_interior(self, n: int, *, sampler: str, seed: int, tag: Sequence[int] = ()) -> np.ndarray:
        """``(n, dim)`` points in the space-time box."""
        return self._scale(sample_unit(n, self.dim, sampler=sampler, seed=seed, tag=(1, *tag)), range(self.dim))

    def sample_initial(self, n: int, *, sampler: str, seed: int, tag: Sequence[int] = ()) -> np.ndarray:
        """``(n, dim)`` points on t = t0 (the spatial box at the initial time)."""
        if self.time is None:
            raise ValueError("initial condition: the domain has no time interval")
        space = self._scale(sample_unit(n, self.space_dim, sampler=sampler, seed=seed, tag=(2, *tag)), range(self.space_dim))
        return np.concatenate([space, np.full((n, 1), self.time.a)], axis=1)

    def sample_faces(
        self, n: int, faces: Sequence[Face], *, sampler: str, seed: int, tag: Sequence[int] = ()
    ) -> tuple[np.ndarray, np.ndarray]:
        """About ``n`` points on the given faces (times the time interval) and their outward unit normals.

        Points are shared among faces in proportion to each face's measure.  A face with no free coordinate (an
        end of a 1D steady interval) is a single point and gets exactly one.

        Returns:
            ``points (M, dim)``, ``normals (M, space_dim)``.
        """
        free_dims = self.dim - 1
        if free_dims == 0:
            counts = [1] * len(faces)
        else:
            measures = np.array([self._face_measure(f) for f in faces])
            share = n * measures / measures.sum()
            counts = np.floor(share).astype(int)
            for k in np.argsort(-(share - counts))[: n - counts.sum()]:
                counts[k] += 1
        pts, nrm = [], []
        for k, (face, m) in enumerate(zip(faces, counts)):
            cols = [c for c in range(self.dim) if c != face.axis]
            unit = sample_unit(int(m), free_dims, sampler=sampler, seed=seed, tag=(3, k, *tag))
            p = np.empty((int(m), self.dim))
            p[:, cols] = self._scale(unit, cols)
            p[:, face.axis] = self.lower[face.axis] if face.side < 0 else self.upper[face.axis]
            normal = np.zeros((int(m), self.space_dim))
            normal[:, face.axis] = face.side
            pts.append(p)
            nrm.append(normal)
        return np.concatenate(pts), np.concatenate(nrm)

    def _face_measure(self, face: Face) -> float:
        cols = [c for c in range(self.dim) if c != face.axis]
        return float(np.prod(self.upper[cols] - self.lower[cols]))

    def grid(self, counts: Sequence[int]) -> tuple[np.ndarray, list[np.ndarray]]:
        """A tensor-product grid with ``counts[i]`` equispaced nodes per coordinate (ends included).

        Returns:
            ``points (prod(counts), dim)`` in C order over ``axes`` (first coordinate slowest), and the
            1D node arrays.
        """
        if len(counts) != self.dim:
            raise ValueError(f"grid: got {list(counts)}, must give one count per coordinate {self.variables}")
        axes = [np.linspace(lo, hi, int(c)) for lo, hi, c in zip(self.lower, self.upper, counts)]
        mesh = np.meshgrid(*axes, indexing="ij")
        return np.stack([m.ravel() for m in mesh], axis=1), axes

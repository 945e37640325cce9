"""Domains: sampler contracts, faces and normals, boundary shares, initial slice, grids."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from pinn_mrepu.physics.domains import SAMPLERS, Domain, Interval, Rectangle, TimeInterval, sample_unit


def _box2d_time() -> Domain:
    return Domain(Rectangle([Interval("x", -1.0, 3.0), Interval("y", 0.0, 1.0)]), TimeInterval(0.5, 2.5))


@pytest.mark.parametrize("sampler", SAMPLERS)
@pytest.mark.parametrize("n, dim", [(1, 1), (100, 2), (257, 3)])
def test_sample_unit_contract(sampler, n, dim):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # e.g. scipy's Sobol balance warning for n not a power of two
        a = sample_unit(n, dim, sampler=sampler, seed=7, tag=(1, 2))
    assert a.shape == (n, dim) and a.dtype == np.float64
    assert np.all(a >= 0.0) and np.all(a < 1.0)
    np.testing.assert_array_equal(a, sample_unit(n, dim, sampler=sampler, seed=7, tag=(1, 2)))
    if n > 1:
        assert not np.array_equal(a, sample_unit(n, dim, sampler=sampler, seed=7, tag=(1, 3)))
        assert not np.array_equal(a, sample_unit(n, dim, sampler=sampler, seed=8, tag=(1, 2)))
        assert len(np.unique(a[:, 0])) == n


@pytest.mark.parametrize("sampler", SAMPLERS)
def test_samplers_fill_the_cube_evenly(sampler):
    a = sample_unit(1024, 2, sampler=sampler, seed=0)
    np.testing.assert_allclose(a.mean(axis=0), 0.5, atol=0.03)
    counts = np.histogram2d(a[:, 0], a[:, 1], bins=4, range=[[0, 1], [0, 1]])[0]
    assert counts.min() >= 32  # 64 expected per cell


@pytest.mark.parametrize("sampler", ["sobol", "halton", "lhs"])
def test_designs_are_stratified_in_1d(sampler):
    """Sobol and Halton (base-2 nets) and LHS put exactly one of n = 2^6 points in each of n equal strata."""
    n = 64
    a = sample_unit(n, 1, sampler=sampler, seed=3)[:, 0]
    assert sorted(np.floor(a * n).astype(int)) == list(range(n))


def test_sample_unit_edge_cases():
    assert sample_unit(0, 2, sampler="sobol", seed=0).shape == (0, 2)
    with pytest.raises(ValueError, match="sampler"):
        sample_unit(4, 2, sampler="grid", seed=0)
    with pytest.raises(ValueError, match="n: got -1"):
        sample_unit(-1, 2, sampler="uniform", seed=0)


def test_domain_layout():
    d = _box2d_time()
    assert d.variables == ("x", "y", "t") and d.dim == 3 and d.space_dim == 2 and d.time_dependent
    np.testing.assert_array_equal(d.lower, [-1.0, 0.0, 0.5])
    np.testing.assert_array_equal(d.upper, [3.0, 1.0, 2.5])
    assert [f.name for f in d.faces] == ["x_min", "x_max", "y_min", "y_max"]
    assert [(f.axis, f.side) for f in d.faces] == [(0, -1), (0, 1), (1, -1), (1, 1)]
    steady = Domain(Interval("x", 0.0, 1.0))
    assert steady.variables == ("x",) and not steady.time_dependent
    assert Domain(Interval("x", 0.0, 1.0), (0.0, 2.0)).variables == ("x", "t")


@pytest.mark.parametrize("sampler", SAMPLERS)
def test_interior_points_in_bounds_and_reproducible(sampler):
    d = _box2d_time()
    p = d.sample_interior(300, sampler=sampler, seed=1, tag=(4,))
    assert p.shape == (300, 3)
    assert np.all(p >= d.lower) and np.all(p <= d.upper)
    # the points spread over the whole box
    assert np.all(p.min(axis=0) < d.lower + 0.1 * (d.upper - d.lower))
    assert np.all(p.max(axis=0) > d.upper - 0.1 * (d.upper - d.lower))
    np.testing.assert_array_equal(p, d.sample_interior(300, sampler=sampler, seed=1, tag=(4,)))
    assert not np.array_equal(p, d.sample_interior(300, sampler=sampler, seed=1, tag=(5,)))


@pytest.mark.parametrize("sampler", SAMPLERS)
def test_boundary_points_lie_on_their_faces_with_outward_normals(sampler):
    d = _box2d_time()
    pts, nrm = d.sample_faces(400, d.faces, sampler=sampler, seed=2)
    assert pts.shape == (400, 3) and nrm.shape == (400, 2)
    assert np.all(pts >= d.lower) and np.all(pts <= d.upper)
    np.testing.assert_array_equal(np.abs(nrm).sum(axis=1), 1.0)  # unit, axis-aligned
    for face in d.faces:
        on = nrm[:, face.axis] == face.side
        assert on.sum() > 0
        end = d.lower[face.axis] if face.side < 0 else d.upper[face.axis]
        np.testing.assert_array_equal(pts[on, face.axis], end)
        # outward: stepping along the normal leaves the box
        out = pts[on, : d.space_dim] + 1e-3 * nrm[on]
        assert np.all(((out < d.lower[:2]) | (out > d.upper[:2])).any(axis=1))


def test_boundary_counts_proportional_to_face_measure():
    steady = Domain(Rectangle([Interval("x", 0.0, 2.0), Interval("y", 0.0, 1.0)]))
    pts, nrm = steady.sample_faces(600, steady.faces, sampler="sobol", seed=0)
    counts = [int((nrm[:, f.axis] == f.side).sum()) for f in steady.faces]
    # x faces have length 1 (the y extent), y faces have length 2: shares 1:1:2:2 of 600
    assert counts == [100, 100, 200, 200]
    d = _box2d_time()  # x faces: 1 * 2 (y * t), y faces: 4 * 2 (x * t) -> 1:1:4:4
    pts, nrm = d.sample_faces(101, d.faces, sampler="uniform", seed=0)
    counts = [int((nrm[:, f.axis] == f.side).sum()) for f in d.faces]
    assert sum(counts) == 101
    np.testing.assert_allclose(counts, [10.1, 10.1, 40.4, 40.4], atol=1.0)


def test_boundary_on_a_subset_of_faces():
    d = _box2d_time()
    pts, nrm = d.sample_faces(50, [d.face("y_max")], sampler="halton", seed=0)
    assert pts.shape == (50, 3)
    np.testing.assert_array_equal(pts[:, 1], 1.0)
    np.testing.assert_array_equal(nrm, np.tile([0.0, 1.0], (50, 1)))
    with pytest.raises(ValueError, match="x_min, x_max, y_min, y_max"):
        d.face("z_min")


def test_steady_1d_boundary_is_the_two_end_points():
    d = Domain(Interval("x", -1.0, 2.0))
    for n in (2, 50):
        pts, nrm = d.sample_faces(n, d.faces, sampler="sobol", seed=0)
        np.testing.assert_array_equal(pts, [[-1.0], [2.0]])
        np.testing.assert_array_equal(nrm, [[-1.0], [1.0]])


def test_time_dependent_1d_boundary_spans_time():
    d = Domain(Interval("x", -1.0, 1.0), (0.0, 1.0))
    pts, nrm = d.sample_faces(64, d.faces, sampler="sobol", seed=0)
    assert pts.shape == (64, 2)
    left = nrm[:, 0] < 0
    assert left.sum() == 32
    np.testing.assert_array_equal(pts[left, 0], -1.0)
    np.testing.assert_array_equal(pts[~left, 0], 1.0)
    assert pts[:, 1].min() < 0.1 and pts[:, 1].max() > 0.9


@pytest.mark.parametrize("sampler", SAMPLERS)
def test_initial_slice(sampler):
    d = _box2d_time()
    p = d.sample_initial(70, sampler=sampler, seed=3)
    assert p.shape == (70, 3)
    np.testing.assert_array_equal(p[:, 2], 0.5)
    assert np.all(p[:, :2] >= d.lower[:2]) and np.all(p[:, :2] <= d.upper[:2])
    with pytest.raises(ValueError, match="no time interval"):
        Domain(Interval("x", 0.0, 1.0)).sample_initial(4, sampler=sampler, seed=0)


def test_grid_shape_and_order():
    d = Domain(Interval("x", -1.0, 1.0), (0.0, 1.0))
    pts, axes = d.grid([5, 3])
    assert pts.shape == (15, 2)
    np.testing.assert_array_equal(axes[0], np.linspace(-1, 1, 5))
    np.testing.assert_array_equal(axes[1], np.linspace(0, 1, 3))
    # C order, first coordinate slowest: reshape to (5, 3) recovers x along axis 0, t along axis 1
    np.testing.assert_array_equal(pts[:, 0].reshape(5, 3), np.repeat(axes[0][:, None], 3, axis=1))
    np.testing.assert_array_equal(pts[:, 1].reshape(5, 3), np.repeat(axes[1][None, :], 5, axis=0))
    np.testing.assert_array_equal(pts[:4], [[-1, 0], [-1, 0.5], [-1, 1], [-0.5, 0]])
    with pytest.raises(ValueError, match="one count per coordinate"):
        d.grid([5])


def test_invalid_geometry():
    for a, b in [(1.0, 1.0), (1.0, 0.0), (0.0, float("inf")), (float("nan"), 1.0)]:
        with pytest.raises(ValueError, match="lower < upper"):
            Interval("x", a, b)
    with pytest.raises(ValueError, match="lower < upper"):
        TimeInterval(1.0, 0.0)
    with pytest.raises(ValueError, match="distinct"):
        Rectangle([Interval("x", 0, 1), Interval("x", 0, 2)])
    with pytest.raises(ValueError, match="not 't'"):
        Rectangle([Interval("t", 0, 1)])
    with pytest.raises(ValueError, match="at least one"):
        Rectangle([])

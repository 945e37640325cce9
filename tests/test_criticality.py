"""Criticality theory: Gaussian expectations, susceptibilities, critical (C_b, C_W), recursion vs random networks."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from scipy import integrate

from pinn_mrepu.activations import get_activation
from pinn_mrepu.criticality import (
    critical_init,
    fixed_points,
    gaussian_expectation,
    kernel_recursion,
    susceptibilities,
)
from pinn_mrepu.criticality.ensembles import empirical_kernels
from pinn_mrepu.criticality.report import criticality_report
from pinn_mrepu.errors import ConfigError
from pinn_mrepu.nn import MLP

KS = np.array([1e-6, 1e-3, 0.1, 1.0, 3.7, 50.0])
SMOOTH = ["tanh", "gelu", "silu", "sin"]
KINKED = [("mrepu", {"p": 1}), ("mrepu", {"p": 2}), ("mrepu", {"p": 3}), ("repu", {"p": 2}), ("relu", {})]


@pytest.fixture(scope="module", autouse=True)
def _one_thread():
    """The ensembles are many small tensor ops; on a shared 2-core machine one thread is several times faster."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def _sigma(name, n=0, **params):
    act = get_activation(name, **params)
    return lambda z: act.derivative(z, n)


def _quad(f, K, kinks=()):
    """Reference E f(z), z ~ N(0, K), by adaptive scipy quad on [-14 sqrt K, 14 sqrt K] split at the kinks."""
    s = math.sqrt(K)
    pts = [c for c in kinks if -14 * s < c < 14 * s]
    dens = lambda z: f(z) * math.exp(-z * z / (2 * K)) / math.sqrt(2 * math.pi * K)  # noqa: E731
    val, err = integrate.quad(dens, -14 * s, 14 * s, points=pts or None, epsabs=0.0, epsrel=1e-13, limit=500)
    return val


# --- Gaussian expectations ------------------------------------------------------------------------------------


def test_closed_forms():
    relu = lambda z: torch.relu(z)  # noqa: E731
    np.testing.assert_allclose(gaussian_expectation(lambda z: z * z, KS), KS, rtol=1e-13)
    np.testing.assert_allclose(gaussian_expectation(lambda z: relu(z) ** 2, KS, kinks=(0.0,)), KS / 2, rtol=1e-13)
    np.testing.assert_allclose(gaussian_expectation(lambda z: relu(z) ** 4, KS, kinks=(0.0,)), 1.5 * KS**2,
                               rtol=1e-13)
    np.testing.assert_allclose(gaussian_expectation(torch.cos, KS), np.exp(-KS / 2), rtol=1e-12, atol=1e-16)
    # E|z| has a kink at 0 too
    np.testing.assert_allclose(gaussian_expectation(torch.abs, KS, kinks=(0.0,)), np.sqrt(2 * KS / np.pi),
                               rtol=1e-13)
    assert gaussian_expectation(lambda z: torch.cos(z) + 2.0, 0.0) == pytest.approx(3.0, abs=1e-15)


def test_shapes_and_validation():
    out = gaussian_expectation(lambda z: z * z, np.full((2, 3), 0.5))
    assert out.shape == (2, 3)
    assert isinstance(gaussian_expectation(lambda z: z * z, 0.5), float)
    with pytest.raises(ValueError, match="K"):
        gaussian_expectation(lambda z: z, -1.0)
    with pytest.raises(ValueError, match="K"):
        gaussian_expectation(lambda z: z, np.nan)


@pytest.mark.parametrize("K", [0.05, 1.0, 7.0, 40.0])
def test_tanh_prime_vs_adaptive_quadrature(K):
    """E[tanh'(z)^2] against scipy's adaptive quad.  (A 200-point Gauss-Hermite rule is off by 1e-4 at K = 7:
    the poles of tanh at z = i pi/2 sit at distance pi/(2 sqrt K) from the real u-axis, so a single global
    rule converges slowly; the panels of width <= 3 in z do not care.)"""
    got = gaussian_expectation(lambda z: _sigma("tanh", 1)(z) ** 2, K)
    assert got == pytest.approx(_quad(lambda z: (1 - math.tanh(z) ** 2) ** 2, K), rel=1e-12)
    x, w = np.polynomial.hermite_e.hermegauss(200)
    if K <= 1.0:
        ref = np.sum(w * (1 - np.tanh(math.sqrt(K) * x) ** 2) ** 2) / math.sqrt(2 * math.pi)
        assert got == pytest.approx(ref, rel=1e-12)


@pytest.mark.parametrize("p", [1, 2, 3])
@pytest.mark.parametrize("K", [1e-3, 0.2, 1.0, 4.0, 30.0])
def test_mrepu_square_vs_scipy_quad(p, K):
    f = lambda z: z * z * max(z + 1.0, 0.0) ** (2 * p)  # noqa: E731
    got = gaussian_expectation(lambda z: _sigma("mrepu", p=p)(z) ** 2, K, kinks=(-1.0,))
    assert got == pytest.approx(_quad(f, K, kinks=(-1.0,)), rel=1e-11)


@pytest.mark.parametrize("name", SMOOTH)
def test_quadrature_converged_smooth(name):
    """Doubling the nodes per panel changes nothing beyond 1e-10 (relative)."""
    act = get_activation(name)
    for n in (0, 1, 2):
        f = lambda z, n=n: act.derivative(z, n) ** 2  # noqa: E731
        a, b = (gaussian_expectation(f, KS, n_nodes=m) for m in (24, 48))
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-300)


@pytest.mark.parametrize("name,params", KINKED)
def test_quadrature_converged_kinked(name, params):
    """With the line split at the kinks, 12 nodes per piece already agree with 48 to 1e-10."""
    act = get_activation(name, **params)
    for n in (0, 1):
        f = lambda z, n=n: act.derivative(z, n) ** 2  # noqa: E731
        a, b = (gaussian_expectation(f, KS, n_nodes=m, kinks=act.kinks) for m in (12, 48))
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-300)


def test_kink_split_matters():
    """Without the split the kinked integrand converges only algebraically; with it, to machine precision."""
    f = lambda z: torch.relu(z + 1.0) ** 3  # noqa: E731  (jump in the third derivative at -1)
    ref = _quad(lambda z: max(z + 1.0, 0.0) ** 3, 0.3, kinks=(-1.0,))
    assert gaussian_expectation(f, 0.3, kinks=(-1.0,), n_nodes=16) == pytest.approx(ref, rel=1e-13)
    assert abs(gaussian_expectation(f, 0.3, n_nodes=16) / ref - 1) > 1e-9
    assert abs(gaussian_expectation(f, 0.3, n_nodes=64) / ref - 1) > 1e-12


# --- susceptibilities ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("p", [2, 3])
def test_repu_ratio_is_scale_invariant(p):
    k = np.array([1e-4, 1e-2, 0.3, 1.0, 10.0, 300.0])
    par, perp = susceptibilities(get_activation("repu", p=p), k, 1.7)
    np.testing.assert_allclose(par / perp, (2 * p - 1) / p, rtol=1e-8)


@pytest.mark.parametrize("name,params", [("mrepu", {"p": 1}), ("mrepu", {"p": 2}), ("gelu", {}), ("tanh", {}),
                                         ("repu", {"p": 3})])
@pytest.mark.parametrize("K", [0.4, 2.5])
def test_chi_par_is_the_slope_of_the_kernel_map(name, params, K):
    """chi_par = C_W d<sigma^2>/dK (central difference) = C_W <sigma'^2 + sigma sigma''> (integration by parts)."""
    act = get_activation(name, **params)
    h = 1e-4 * K
    m0 = lambda k: gaussian_expectation(lambda z: act(z) ** 2, k, kinks=act.kinks)  # noqa: E731
    slope = 1.3 * (m0(K + h) - m0(K - h)) / (2 * h)
    assert susceptibilities(act, K, 1.3)[0] == pytest.approx(slope, rel=1e-7)


@pytest.mark.parametrize("p", [2, 3])
def test_mrepu_ratio_tends_to_one(p):
    """chi_par, chi_perp -> 1 at C_W = 1 and chi_par/chi_perp = 1 + (5p^2 - 3p) K + O(K^2) as K -> 0."""
    k = np.logspace(-8, -1, 15)
    par, perp = susceptibilities(get_activation("mrepu", p=p), k, 1.0)
    ratio = par / perp
    assert np.all(np.diff(ratio) > 0) and np.all(ratio > 1.0)
    assert abs(ratio[0] - 1.0) < 1e-6 and abs(par[0] - 1.0) < 1e-5 and abs(perp[0] - 1.0) < 1e-5
    np.testing.assert_allclose((ratio[:4] - 1) / k[:4], 5 * p * p - 3 * p, rtol=1e-3)


# --- critical initialisation -----------------------------------------------------------------------------------


def test_known_critical_points():
    tanh, relu, sin = critical_init("tanh"), critical_init("relu"), critical_init("sin")
    assert (tanh.universality, tanh.c_b, tanh.c_w, tanh.a1) == ("k_star_zero", 0.0, 1.0, -2.0)
    assert (sin.universality, sin.c_b, sin.c_w, sin.a1) == ("k_star_zero", 0.0, 1.0, -1.0)
    assert relu.universality == "scale_invariant"
    assert relu.c_b == 0.0 and relu.c_w == pytest.approx(2.0, rel=1e-14)
    assert fixed_points("relu", 0.0, relu.c_w).continuum


@pytest.mark.parametrize("p", [2, 3])
def test_repu_has_no_criticality(p):
    ci = critical_init("repu", p=p)
    assert ci.universality == "none" and f"{(2 * p - 1) / p:.6g}" in ci.message
    # best effort: C_W makes the recursion stationary at K^(1) = mean x^2, an unstable fixed point with chi_par = p
    for m in (1 / 3, 0.5):
        (cb1, cw1), (cb, cw) = ci.layer_variances(3, input_second_moment=m)[:2]
        assert (cb1, cw1, cb) == (0.0, 1.0, 0.0)
        assert cw == pytest.approx(m ** (1 - p) * 2 / math.prod(range(1, 2 * p, 2)), rel=1e-12)
        np.testing.assert_allclose(kernel_recursion(ci._act, m, 10, 0.0, cw), m, rtol=1e-11)
        assert susceptibilities(ci._act, m, cw)[0] == pytest.approx(p, rel=1e-11)


@pytest.mark.parametrize("name", ["gelu", "silu"])
def test_nonzero_fixed_point_is_critical(name):
    ci = critical_init(name)
    assert ci.universality == "nonzero_fixed_point" and ci.k_star > 0 and ci.c_b > 0
    chi_par, chi_perp = susceptibilities(name, ci.k_star, ci.c_w)
    assert abs(chi_par - 1) < 1e-6 and abs(chi_perp - 1) < 1e-6
    fp = fixed_points(name, ci.c_b, ci.c_w)
    assert np.min(np.abs(fp.k_star - ci.k_star)) < 1e-8 * ci.k_star
    # starting layer 1 at K* keeps every layer there
    (cb1, cw1), (cb, cw) = ci.layer_variances(4)[:2]
    assert cb1 + cw1 / 3 == pytest.approx(ci.k_star, rel=1e-14)
    np.testing.assert_allclose(kernel_recursion(name, ci.k_star, 30, cb, cw), ci.k_star, rtol=1e-9)


def test_gelu_closed_form():
    """For GELU <sigma sigma''>_K = 0 reduces to K^2 - 3K - 2 = 0 (Roberts-Yaida-Hanin): K* = (3 + sqrt 17)/2."""
    ci = critical_init("gelu")
    assert ci.k_star == pytest.approx((3 + math.sqrt(17)) / 2, rel=1e-12)
    assert (ci.c_b, ci.c_w) == pytest.approx((0.17292239, 1.98305826), abs=1e-8)


@pytest.mark.parametrize("p", [1, 2, 3])
def test_mrepu_is_k_star_zero_with_repulsive_zero(p):
    ci = critical_init("mrepu", p=p)
    assert (ci.universality, ci.c_b, ci.c_w, ci.k_star) == ("k_star_zero", 0.0, 1.0, 0.0)
    assert ci.a1 == pytest.approx(3 * p * (2 * p - 1), rel=1e-14)
    k1 = 1e-5  # K -> K + a1 K^2 + O(K^3)
    k2 = kernel_recursion(ci._act, k1, 2, 0.0, 1.0)[1]
    assert (k2 - k1) / k1**2 == pytest.approx(ci.a1, rel=1e-3)
    assert fixed_points(ci._act, 0.0, 1.0).k_star.tolist() == [0.0]  # no nonzero fixed point at criticality


@pytest.mark.parametrize("p", [2, 3])
@pytest.mark.parametrize("m", [1 / 3, 0.5])
def test_mrepu_first_layer_recipe(p, m):
    """The growth bound holds at the largest input kernel (M = sup mean x^2 = 1 on [-1, 1]^d, or a given M),
    inflated by the finite-width margin F = exp(sqrt(2 (n_linear - 1) / width)); the mean input grows less."""
    ci = critical_init("mrepu", p=p)
    for n_linear in (4, 12):
        for width, m_max in ((None, 1.0), (None, 0.7), (20, 1.0), (64, 0.7)):
            lv = ci.layer_variances(n_linear, input_second_moment=m, input_max_moment=m_max, width=width)
            assert len(lv) == n_linear and lv[1:] == [(0.0, 1.0)] * (n_linear - 1)
            margin = 1.0 if width is None else math.exp(math.sqrt(2 * (n_linear - 1) / width))
            k = kernel_recursion(ci._act, lv[0][1] * m_max * margin, n_linear, 0.0, 1.0)
            assert k[-1] / k[0] == pytest.approx(ci.max_growth, rel=1e-6)
            k_mean = kernel_recursion(ci._act, lv[0][1] * m, n_linear, 0.0, 1.0)
            assert 1.0 < k_mean[-1] / k_mean[0] < ci.max_growth
        # narrower and deeper: a smaller first layer
        assert (ci.layer_variances(n_linear, width=20)[0][1] < ci.layer_variances(n_linear, width=200)[0][1]
                < ci.layer_variances(n_linear)[0][1])
    assert ci.layer_variances(1, input_second_moment=m) == [(0.0, 1.0)]
    for bad in (0, -1.0, math.inf, "x"):
        with pytest.raises(ConfigError, match="input_max_moment"):
            ci.layer_variances(4, input_max_moment=bad)
    for bad in (0, 2.5, True):
        with pytest.raises(ConfigError, match="width"):
            ci.layer_variances(4, width=bad)


@pytest.mark.parametrize("p", [2, 3])
def test_mrepu_critical_init_stays_bounded_at_finite_width(p):
    """Width-20 MRePU networks at init: output and kernel growth stay bounded at every depth (40 seeds, 1000
    inputs in [-1, 1]^2).  The recipe without the corner bound and margin gave max|u| ~ 1e27 at depth 10 and
    non-finite outputs at depth 15 on these seeds (scratch probe, session 5)."""
    x = torch.rand(1000, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(5)) * 2 - 1
    for depth in (3, 7, 10, 15):
        growth, top = [], []
        for seed in range(40):
            net = MLP(2, 1, width=20, depth=depth, activation="mrepu", activation_params={"p": p},
                      dtype=torch.float64, generator=seed)
            with torch.no_grad():
                h, ks = x, []
                for lin in net.linears[:-1]:
                    z = lin(h)
                    ks.append(float(z.pow(2).mean()))
                    h = net.activation(z)
                top.append(float(net.linears[-1](h).abs().max()))
            growth.append(ks[-1] / ks[0])
        assert max(top) < 5.0 and max(growth) < 10.0, (depth, max(top), max(growth))
        assert np.median(top) > 1e-3  # not a vanishing init either


def test_layer_variances_layout_and_validation():
    tanh = critical_init("tanh")
    assert tanh.layer_variances(5) == [(0.0, 1.0)] * 5
    relu = critical_init("relu")
    assert relu.layer_variances(3, input_second_moment=0.9) == [(0.0, relu.c_w)] * 3
    for bad in (0, -1, 2.0, True):
        with pytest.raises(ConfigError, match="n_linear"):
            tanh.layer_variances(bad)
    with pytest.raises(ConfigError, match="input_second_moment"):
        tanh.layer_variances(3, input_second_moment=0.0)


def test_duck_typed_activation():
    """Any object with .derivatives works; 2 tanh(z) has sigma'(0) = 2, so C_W = 1/4."""

    class TwoTanh:
        def derivatives(self, z, order):
            return [2 * d for d in get_activation("tanh").derivatives(z, order)]

    ci = critical_init(TwoTanh())
    assert ci.universality == "k_star_zero" and ci.c_w == pytest.approx(0.25, rel=1e-14)
    assert ci.activation == "TwoTanh"


def test_fixed_points_generic():
    fp = fixed_points("tanh", 0.1, 1.5)
    assert fp.k_star.size == 1 and fp.stable.all()
    k = fp.k_star[0]
    assert 0.1 + 1.5 * gaussian_expectation(lambda z: torch.tanh(z) ** 2, k) == pytest.approx(k, rel=1e-12)
    fp = fixed_points(get_activation("repu", p=2), 0.0, 2.0)
    np.testing.assert_allclose(fp.k_star, [0.0, 1 / 3], atol=1e-12)
    assert fp.chi_par[1] == pytest.approx(2.0) and not fp.stable[1]


# --- recursion vs random networks ------------------------------------------------------------------------------

X = np.array([[0.5, -0.3], [1 / math.sqrt(3), 1 / math.sqrt(3)], [0.1, 0.2]])  # mean x^2 = 0.17, 1/3, 0.025


def _ensemble(name, params, depth, width, n_networks=400, seed=0, method="gram"):
    ci = critical_init(name, **params)
    lv = ci.layer_variances(depth)
    return empirical_kernels(ci._act, width=width, depth=depth, n_networks=n_networks, inputs=X, c_b=lv[1][0],
                             c_w=lv[1][1], first_layer=lv[0], seed=seed, method=method)


def test_tanh_recursion_matches_ensemble():
    """Width 512, 400 networks, depth 20: the mean kernel is within 4 % of the recursion at every l >= 10
    (worst seen over seeds 0-7: 2.8 %; a -1 % bias at l = 20 is the O(depth/width) finite-width correction)."""
    r = _ensemble("tanh", {}, 20, 512)
    dev = r.kernel[9:] / r.theory[9:] - 1
    assert np.abs(dev).max() < 0.04
    assert np.all(r.theory[-1] < 0.6 * r.theory[0])  # the K* = 0 class: the kernel decays, ~ 1/(2 l)


@pytest.mark.parametrize("p", [2, 3])
def test_mrepu_recursion_matches_ensemble(p):
    """MRePU at critical init with the first-layer recipe (depth 12, growth 2): width 2048, 400 networks, the mean
    kernel is within 4 % of the recursion at l >= 10 (worst seen over seeds 0-7: 3.2 %).  At width 512 the
    mean sits ~ +5 % above theory for the mean x^2 = 1/3 input: an O(1/width) bias that the convex kernel map
    (a1 > 0) turns positive; it shrinks ~ 1/width (results/criticality/README.md)."""
    r = _ensemble("mrepu", {"p": p}, 12, 2048)
    dev = r.kernel[9:] / r.theory[9:] - 1
    assert np.abs(dev).max() < 0.04
    # the growth bound is set at the corner input (mean x^2 = 1): the mean x^2 = 1/3 input grows less
    assert 1.0 < r.theory[-1, 1] / r.theory[0, 1] < 2.0


def test_weights_and_gram_sample_the_same_networks():
    """Explicit weight matrices and the exact conditional (Gram) sampler give the same kernel statistics."""
    args = dict(width=128, depth=6, n_networks=200, inputs=X, c_b=0.05, c_w=1.2, seed=3)
    a = empirical_kernels("tanh", method="weights", **args)
    b = empirical_kernels("tanh", method="gram", **args)
    se = np.sqrt((a.spread**2 + b.spread**2) / 200)
    assert np.all(np.abs(a.kernel - b.kernel) < 4 * se)
    assert np.all(np.abs(a.spread / b.spread - 1) < 0.3)
    np.testing.assert_allclose(a.theory, b.theory)


def test_ensemble_is_reproducible():
    args = dict(width=64, depth=4, n_networks=30, inputs=X, c_b=0.0, c_w=1.0)
    for method in ("weights", "gram"):
        a = empirical_kernels("sin", seed=7, method=method, **args)
        b = empirical_kernels("sin", seed=7, method=method, **args)
        c = empirical_kernels("sin", seed=8, method=method, **args)
        np.testing.assert_array_equal(a.per_network, b.per_network)
        assert not np.array_equal(a.per_network, c.per_network)


@pytest.mark.parametrize("c_w,direction", [(1.6, -1), (2.4, +1)])
def test_repu_blow_up_or_decay_predicted(c_w, direction):
    """RePU_2 from K^(1) = 1/3: C_W = 2 is stationary; 20 % off it the recursion predicts double-exponential
    decay / growth, and the median network follows by orders of magnitude in the same direction."""
    depth = 8
    r = empirical_kernels("repu", width=512, depth=depth, n_networks=200, inputs=X[1:2], c_b=0.0, c_w=c_w,
                          first_layer=(0.0, 1.0), seed=0)
    theory = np.log10(r.theory[-1, 0] / r.theory[0, 0])
    median = np.log10(np.median(r.per_network[-1, :, 0]) / r.theory[0, 0])
    assert direction * theory > 8 and direction * median > 4


def test_report_mentions_the_essentials():
    text = criticality_report("mrepu", p=2, depth=10)
    assert "k_star_zero" in text and "a1" in text and "(0, 1)" in text
    assert all(f"\n  {l:>4}  " in text for l in (1, 2, 5, 10))
    assert "none" in criticality_report("repu", p=3, depth=5)
    with pytest.raises(ValueError, match="activation"):
        criticality_report("nope")


# --------------------------------------------------------------------------------------------------------------------
# Report wording, CLI help, figures of the chosen activation
# --------------------------------------------------------------------------------------------------------------------

def test_report_counts_hidden_layers_like_network_depth():
    """README and network.depth count hidden layers L; the report uses the variances init: critical gives such a
    network (L + 1 linear layers)."""
    from pinn_mrepu.nn import layer_variances

    text = criticality_report("mrepu", p=2, depth=10)
    assert "L = 10 hidden layers" in text and "linear layers L" not in text
    fan = [(2, 20)] + [(20, 20)] * 9 + [(20, 1)]  # MLP(2, 1, width=20, depth=10): 11 nn.Linear layers
    cb1, cw1 = layer_variances("critical", get_activation("mrepu", p=2), fan)[0]
    assert f"layer 1              : (c_b, c_w) = ({cb1:.6g}, {cw1:.6g})" in text
    assert "\n    11  " in text  # the output layer's kernel is listed


def test_criticality_help_shows_defaults(capsys):
    from pinn_mrepu.cli.main import main

    with pytest.raises(SystemExit):
        main(["criticality", "--help"])
    out = " ".join(capsys.readouterr().out.split())
    assert "(default: mrepu)" in out and "(default: 20)" in out and "hidden layers" in out


def _draw(fig):
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(fig).draw()
    return fig


@pytest.fixture(scope="module")
def tanh_figures():
    from pinn_mrepu.criticality.plots import criticality_figures

    figs = criticality_figures("tanh", depth=4, width=16, n_networks=4, phase_grid=(5, 4))
    return {name: _draw(fig) for name, fig in figs.items()}


def test_kernel_panels_are_all_of_the_chosen_activation(tanh_figures):
    """Every panel of kernel_vs_layer is tanh's (three used to be RePU p=2 whatever the activation): titles say so
    and each theory curve is tanh's recursion for the panel's (C_b, C_W) over L + 1 = 5 layers."""
    axes = tanh_figures["kernel_vs_layer"].axes
    assert len(axes) == 4
    lv = critical_init("tanh").layer_variances(5)
    k1 = lv[0][0] + lv[0][1] / 3
    for ax, f in zip(axes[:3], (0.9, 1.0, 1.1)):
        assert ax.get_title().startswith("tanh:")
        theory = ax.get_lines()[0].get_ydata()
        np.testing.assert_allclose(theory, kernel_recursion("tanh", k1, 5, lv[1][0], f * lv[1][1]), rtol=1e-12)
        assert not np.allclose(theory, kernel_recursion("repu", k1, 5, 0.0, f * 2.0))
    assert axes[3].get_title().startswith("tanh:")
    for name in ("susceptibilities", "phase_diagram"):
        titles = [ax.get_title() for ax in tanh_figures[name].axes if ax.get_title()]
        assert titles and all(t.startswith(("tanh", "reference:")) for t in titles), titles


def test_legends_do_not_cover_the_axes(tanh_figures):
    for name, fig in tanh_figures.items():
        legends = [(ax, ax.get_legend()) for ax in fig.axes if ax.get_legend() is not None]
        assert legends, name
        for ax, leg in legends:
            assert not leg.get_window_extent().overlaps(ax.get_window_extent()), (name, ax.get_title())


def test_initialisation_legend_is_words_not_class_names(tanh_figures):
    from pinn_mrepu.criticality.plots import describe_init

    texts = [t.get_text() for ax in tanh_figures["phase_diagram"].axes if ax.get_legend()
             for t in ax.get_legend().get_texts()]
    assert texts and not any("critical_init" in t or "(none)" in t or "k_star_zero" in t for t in texts)
    assert describe_init(critical_init("tanh")) in texts
    assert "no critical point" in describe_init(critical_init("repu", p=2))


def test_write_criticality_figures_writes_pngs(tmp_path):
    from pinn_mrepu.criticality.plots import write_criticality_figures

    paths = write_criticality_figures("relu", depth=2, out_dir=tmp_path, width=8, n_networks=2, phase_grid=(3, 3))
    assert [p.name for p in paths] == ["kernel_vs_layer.png", "susceptibilities.png", "phase_diagram.png"]
    assert all(p.stat().st_size > 1000 for p in paths)
    with pytest.raises(ConfigError, match="^depth"):
        write_criticality_figures("relu", depth=0, out_dir=tmp_path)

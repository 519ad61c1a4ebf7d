"""Quadrature rules of AumannShapley (method=) and the resolution chosen by the
completeness gap (tolerance=): closed forms on polynomials along the path,
completeness on a linear model, nesting, and the points actually evaluated."""
import numpy as np
import pytest
import theano.tensor as T

import toys
from AumannShapley import RULES, AumannShapley, quadrature, refinement
from Explanation import Explanation


def integral_of_power(p):
    return 1.0 / (p + 1)


# degree of the polynomials each rule integrates exactly at resolution m
EXACT_DEGREE = {"riemann_right": lambda m: 0, "riemann_left": lambda m: 0,
                "riemann_middle": lambda m: 1, "trapezoid": lambda m: 1,
                "gausslegendre": lambda m: 2 * m - 1, "trapezoid_cosine": lambda m: 1}
N_POINTS = {"trapezoid": lambda m: m + 1, "trapezoid_cosine": lambda m: m - 1}


# -- the rules themselves ---------------------------------------------------------
@pytest.mark.parametrize("method", RULES)
@pytest.mark.parametrize("m", [1, 2, 5, 16])
def test_rule_points_weights_and_exact_degree(method, m):
    if method == "trapezoid_cosine" and m == 1:
        with pytest.raises(ValueError, match="trapezoid_cosine needs resolution >= 2"):
            quadrature(method, m)
        return
    a, w = quadrature(method, m)
    assert len(a) == len(w) == N_POINTS.get(method, lambda m: m)(m)
    assert np.all((a >= 0) & (a <= 1)) and np.all(w > 0)
    assert abs(w.sum() - 1) < 1e-12
    d = EXACT_DEGREE[method](m)
    for p in range(d + 1):
        assert abs(np.dot(w, a ** p) - integral_of_power(p)) < 1e-12, (method, m, p)
    # one degree more is not exact (the rule is what it says, not a better one); for
    # Gauss-Legendre the error (m!)^4 / ((2m+1) ((2m)!)^2) vanishes below 1e-12 past m = 5
    if d < 11:
        assert abs(np.dot(w, a ** (d + 1)) - integral_of_power(d + 1)) > 1e-9


@pytest.mark.parametrize("m", [1, 3, 50])
def test_riemann_errors_in_closed_form(m):
    """int_0^1 a da = 1/2: right Riemann gives (m+1)/(2m), left (m-1)/(2m); for
    a^2 the midpoint rule gives 1/3 - 1/(12 m^2) and the trapezoid 1/3 + 1/(6 m^2)."""
    a, w = quadrature("riemann_right", m)
    assert np.isclose(np.dot(w, a), (m + 1) / (2.0 * m), rtol=0, atol=1e-14)
    a, w = quadrature("riemann_left", m)
    assert np.isclose(np.dot(w, a), (m - 1) / (2.0 * m), rtol=0, atol=1e-14)
    a, w = quadrature("riemann_middle", m)
    assert np.isclose(np.dot(w, a ** 2), 1 / 3 - 1 / (12.0 * m * m), rtol=0, atol=1e-14)
    a, w = quadrature("trapezoid", m)
    assert np.isclose(np.dot(w, a ** 2), 1 / 3 + 1 / (6.0 * m * m), rtol=0, atol=1e-14)


def test_right_riemann_is_the_handouts_equation_3():
    a, w = quadrature("riemann_right", 50)
    np.testing.assert_array_equal(a, np.arange(1, 51) / 50.0)
    np.testing.assert_array_equal(w, np.full(50, 1 / 50.0))
    assert AumannShapley().method == "riemann_right"


@pytest.mark.parametrize("method", RULES)
@pytest.mark.parametrize("m", [2, 4, 7])
def test_refinement_is_the_rule_at_the_next_resolution(method, m):
    """The kept points with their weights scaled, plus the new points, are exactly
    the rule at the next resolution (so reusing old gradients is exact)."""
    m_next, new_a, new_w, scale = refinement(method, m)
    a, w = quadrature(method, m)
    ref_a, ref_w = quadrature(method, m_next)
    if method == "gausslegendre":
        assert scale == 0 and m_next == 2 * m and np.array_equal(new_a, ref_a)
        return
    assert m_next == (3 if method == "riemann_middle" else 2) * m
    assert len(new_a) == len(ref_a) - len(a)           # only new points are evaluated
    all_a = np.concatenate([a, new_a])
    all_w = np.concatenate([scale * w, new_w])
    order = np.argsort(all_a)
    np.testing.assert_allclose(all_a[order], ref_a, atol=1e-15)
    np.testing.assert_allclose(all_w[order], ref_w, atol=1e-15)


# -- on models: closed forms, completeness -------------------------------------------
def affine_map(model):
    """s(x) = A x + b of a linear Keras model, from its own forward (independent of
    the attribution code): b = s(0), column j = s(e_j) - s(0)."""
    d = int(np.prod(model.input_shape[1:]))
    basis = np.concatenate([np.zeros((1, d)), np.eye(d)]).astype(np.float32)
    s = model.predict(basis.reshape((-1,) + model.input_shape[1:])).astype(np.float64)
    return (s[1:] - s[0]).T, s[0]


def cubic_attribution(A, b, x, x0, method, m):
    """The rule applied by hand to Q(x) = sum_c s_c(x)^3 on the path x0 -> x, with
    dQ/dx = 3 A^T s(x)^2, and the exact Q(x) - Q(x0)."""
    a, w = quadrature(method, m)
    x, x0 = x.reshape(-1).astype(np.float64), x0.reshape(-1).astype(np.float64)
    grad = sum(wk * 3 * A.T @ (A @ (x0 + ak * (x - x0)) + b) ** 2 for ak, wk in zip(a, w))
    q = lambda v: np.sum((A @ v + b) ** 3)  # noqa: E731
    return grad * (x - x0), q(x) - q(x0)


@pytest.mark.parametrize("method", RULES)
def test_cubic_quantity_matches_the_rule_by_hand(linear, method):
    # (trapezoid_cosine: its weights are normalised, so the cubic is not exact either)
    """Q = sum_c s_c^3 of a linear model is a cubic along the path: every rule's
    attribution equals the hand-computed rule, and Gauss-Legendre with 2 points is
    already complete (its gradient is a quadratic in a)."""
    A, b = affine_map(linear)
    x = toys.random_inputs(linear, 2, seed=3, scale=0.3)
    x0 = np.full(x.shape[1:], 0.1, np.float32)
    m = 2 if method == "gausslegendre" else 5
    q = Explanation(linear, AumannShapley(resolution=m, method=method)).for_input() \
        .for_quantity(lambda model: T.sum(model.output ** 3, axis=1))
    data = q.explain(x, baseline=x0)
    for i in range(2):
        ref, dq = cubic_attribution(A, b, x[i], x0, method, m)
        got = data.attribution[i].reshape(-1)
        np.testing.assert_allclose(got, ref, rtol=2e-4, atol=2e-5 * np.abs(ref).max())
        assert abs(data.delta[i] - (ref.sum() - dq)) < 1e-3 * abs(dq) + 1e-4
    if method == "gausslegendre":
        assert np.all(np.abs(data.delta) < 1e-4 * np.abs(data.attribution.sum(axis=(1, 2, 3))))
    else:
        assert np.abs(data.delta).max() > 1e-3   # the cubic is hard enough to show it


@pytest.mark.parametrize("method", RULES)
def test_completeness_on_a_linear_model_for_every_rule(linear, method):
    x = toys.random_inputs(linear, 3, seed=1)
    for where in ("input", "internal"):
        e = Explanation(linear, AumannShapley(resolution=3, method=method))
        s = e.for_input() if where == "input" else e.for_layer(1)
        d = s.absolute(2).explain(x)
        assert np.abs(d.delta).max() < 1e-4 * max(1.0, np.abs(d.attribution).sum()), d.delta


# -- tolerance: the resolution chosen by the completeness gap ----------------------------
def count_points(method):
    """Wrap the compiled gradient functions of ``method`` so that the path points
    they receive are counted; returns the counter (a one-element list)."""
    seen = [0]
    for key, fns in list(method._compiled.items()):
        head = fns.head
        def counted(z, _f=head.gradient if head else fns.gradient):   # the path runs past a head
            seen[0] += len(z)
            return _f(z)
        if head:
            method._compiled[key] = fns._replace(head=head._replace(gradient=counted))
        else:
            method._compiled[key] = fns._replace(gradient=counted)
    return seen


def smooth_query(model, method):
    return Explanation(model, method).for_input().absolute(1)


@pytest.mark.parametrize("rule,expected_points", [
    ("riemann_right", lambda m: m), ("riemann_left", lambda m: m),
    ("trapezoid", lambda m: m + 1), ("riemann_middle", lambda m: m),
    ("trapezoid_cosine", lambda m: m - 1),
    ("gausslegendre", None)])
def test_tolerance_reuses_nested_points(smooth, rule, expected_points):
    """Each instance refines until its relative gap is below the tolerance; a nested
    rule evaluates each point once (points == the final rule's size), a non-nested one
    (Gauss-Legendre) every level's points. The result equals the fixed-resolution
    rule at the resolution reached."""
    x = np.concatenate([toys.random_inputs(smooth, 1, seed=3, scale=3.0),
                        toys.random_inputs(smooth, 1, seed=4, scale=0.02)])
    method = AumannShapley(resolution=2, method=rule, tolerance=1e-2, max_resolution=512,
                           points_per_call=7)
    q = smooth_query(smooth, method)
    q.explain(x[:1])                        # compiles
    seen = count_points(method)
    data = q.explain(x)
    res, pts, rel = method.last_resolution, method.last_points, method.last_relative_gap
    assert np.all(rel < 1e-2), rel
    assert res[0] > res[1] >= 2, res        # the far instance needed more steps
    if expected_points is None:             # Gauss-Legendre: 2 + 4 + ... + final
        assert all(p == 2 * r - 2 for p, r in zip(pts, res)), (pts, res)
    else:
        assert all(p == expected_points(r) for p, r in zip(pts, res)), (pts, res)
    assert seen[0] == pts.sum()
    for i in range(2):
        fixed = smooth_query(smooth, AumannShapley(resolution=int(res[i]), method=rule)) \
            .explain(x[i:i + 1])
        np.testing.assert_allclose(data.attribution[i], fixed.attribution[0], rtol=1e-4,
                                   atol=1e-5 * np.abs(fixed.attribution).max())
        np.testing.assert_allclose(data.delta[i], fixed.delta[0], rtol=1e-3, atol=1e-6)


def test_tolerance_stops_at_the_cap(smooth):
    x = toys.random_inputs(smooth, 1, seed=3, scale=3.0)
    method = AumannShapley(resolution=4, tolerance=1e-9, max_resolution=32)
    smooth_query(smooth, method).explain(x)
    assert method.last_resolution.tolist() == [32] and method.last_points.tolist() == [32]
    assert method.last_relative_gap[0] >= 1e-9


def test_gap_reported_is_the_relative_completeness_gap(smooth):
    x = toys.random_inputs(smooth, 2, seed=5, scale=2.0)
    method = AumannShapley(resolution=8)
    d = smooth_query(smooth, method).explain(x)
    q = smooth_query(smooth, method)
    s = q.slice.g(x)[:, 1].astype(np.float64) - q.slice.g(np.zeros_like(x))[:, 1]
    np.testing.assert_allclose(d.delta, d.attribution.reshape(2, -1).sum(1) - s, atol=1e-4)
    np.testing.assert_allclose(method.last_relative_gap, np.abs(d.delta) / np.abs(s),
                               rtol=1e-3)
    assert method.last_resolution.tolist() == [8, 8]


def test_bad_rule_and_tolerance_raise():
    with pytest.raises(ValueError, match="unknown quadrature method 'simpson'"):
        AumannShapley(method="simpson")
    with pytest.raises(ValueError, match="riemann_trapezoid.*sum to.*trapezoid"):
        AumannShapley(method="riemann_trapezoid")
    with pytest.raises(ValueError, match="tolerance"):
        AumannShapley(tolerance=0)
    with pytest.raises(ValueError, match="max_resolution"):
        AumannShapley(resolution=50, tolerance=0.01, max_resolution=10)
    with pytest.raises(ValueError, match="resolution must be >= 1"):
        quadrature("gausslegendre", 0)


def test_float64_graph_keeps_float64(linear):
    """A float64 slice variable (what the benchmark's float64 agreement run compiles,
    with Theano's floatX=float64) is evaluated in float64 end to end: the rule on
    Q(z) = sum(tanh(z W)) matches NumPy's float64 evaluation to 1e-12."""
    rng = np.random.RandomState(0)
    W = rng.randn(6, 3)
    z = T.dmatrix("z")
    Q = T.sum(T.tanh(T.dot(z, W)), axis=1)
    x = rng.randn(2, 6)
    method = AumannShapley(resolution=7, method="gausslegendre").compile(Q, z)
    attr, delta = method.get_attributions(x, return_convergence_delta=True)
    assert attr.dtype == np.float64 and method.gradient(x).dtype == np.float64
    a, w = quadrature("gausslegendre", 7)
    grad = sum(wk * (1 - np.tanh((ak * x) @ W) ** 2) @ W.T for ak, wk in zip(a, w))
    np.testing.assert_allclose(attr, grad * x, rtol=1e-12, atol=1e-14)
    dq = np.tanh(x @ W).sum(1)
    np.testing.assert_allclose(delta, attr.sum(1) - dq, atol=1e-12)

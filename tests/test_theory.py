"""Sheet 11, exercises 1-3 (exercises.theory): closed forms against gradient ascent, the
min networks against min and the project's LRP, the neuralised one-class SVM."""
import numpy as np
import pytest

from Explanation import Explanation
from exercises import theory as th
from methods import lrp as L


# -- exercise 1 -------------------------------------------------------------------
@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_closed_form_prototypes_match_gradient_ascent(seed):
    p = th.random_linear_problem(d=10, k=4, seed=seed)
    assert th.relative_error(th.ascent_l2(p["w"], p["lam"]),
                             th.prototype_l2(p["w"], p["lam"])) < 1e-4
    assert th.relative_error(th.ascent_gaussian(p["w"], p["mu"], p["sigma"]),
                             th.prototype_gaussian(p["w"], p["mu"], p["sigma"])) < 1e-4
    assert th.relative_error(th.ascent_generator(p["w"], p["a"], p["c"], p["lam"]),
                             th.prototype_generator(p["w"], p["a"], p["c"], p["lam"])) < 1e-4


def test_closed_forms_are_stationary_and_maximal():
    p = th.random_linear_problem(d=6, k=2, seed=7)
    w, lam, mu, sigma, a, c = (p[k] for k in ("w", "lam", "mu", "sigma", "a", "c"))
    obj_b = lambda x: w @ x - 0.5 * (x - mu) @ np.linalg.solve(sigma, x - mu)  # noqa: E731
    xb = th.prototype_gaussian(w, mu, sigma)
    assert np.allclose(w - np.linalg.solve(sigma, xb - mu), 0, atol=1e-10)
    rng = np.random.RandomState(0)
    assert all(obj_b(xb) > obj_b(xb + 0.1 * rng.randn(6)) for _ in range(20))
    xc = th.prototype_generator(w, a, c, lam)
    z = np.linalg.lstsq(a, xc - c, rcond=None)[0]
    assert np.allclose(a.T @ w - 2 * lam * z, 0, atol=1e-10)


def test_exercise1_table_is_small():
    rows = th.exercise1_table(seeds=(0,))
    assert [r[1] for r in rows] == ["(a)", "(b)", "(c)"] and max(r[2] for r in rows) < 1e-4


# -- exercise 2 -------------------------------------------------------------------
@pytest.mark.parametrize("name", ["A", "B"])
def test_min_networks_compute_min_on_the_positive_quadrant(name):
    a = np.random.RandomState(0).uniform(0, 5, size=(200, 2))
    a[:20, 1] = a[:20, 0]                                   # ties
    y = th.forward_numpy(th.min_network(name), a)[-1][:, 0]
    np.testing.assert_allclose(y, a.min(axis=1), atol=1e-12)
    m = th.keras_min_network(name)
    ys = m.predict(a.astype(np.float32).reshape(-1, 2, 1, 1))[:, 0]
    np.testing.assert_allclose(ys, a.min(axis=1), rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("name", ["A", "B"])
def test_r1_closed_form_matches_the_projects_lrp(name):
    m = th.keras_min_network(name)
    a = np.array([0.3, 1.0, 2.5], np.float32)
    x = np.stack([a, a], axis=1).reshape(-1, 2, 1, 1)
    for gamma in (0.0, 0.25, 1.0, 5.0):
        lm = L.lrp_model(m, gammas=[gamma], zb=False, first_gamma=gamma)
        r = Explanation(lm, L.LRPRelevance()).for_input().absolute(0).explain(x).attribution
        np.testing.assert_allclose(r[:, 0, 0, 0], th.r1_closed_form(name, a), rtol=1e-5)
        np.testing.assert_allclose(r.reshape(-1, 2).sum(1), a, rtol=1e-5)   # conservation


@pytest.mark.parametrize("name", ["A", "B"])
def test_numpy_rule_equals_the_trick_off_the_diagonal(name):
    m = th.keras_min_network(name)
    a = np.random.RandomState(1).uniform(0.1, 3, size=(8, 2))
    lm = L.lrp_model(m, gammas=[0.5], zb=False, first_gamma=0.5)
    r = Explanation(lm, L.LRPRelevance()).for_input().absolute(0) \
        .explain(a.astype(np.float32).reshape(-1, 2, 1, 1)).attribution.reshape(-1, 2)
    np.testing.assert_allclose(r, th.lrp_gamma_numpy(th.min_network(name), a, 0.5),
                               rtol=1e-5, atol=1e-6)


def test_unknown_network_is_a_clear_error():
    with pytest.raises(ValueError, match="choose 'A' or 'B'"):
        th.min_network("C")


# -- exercise 3 -------------------------------------------------------------------
@pytest.mark.parametrize("seed", [0, 1])
def test_outlier_score_is_the_two_layer_network(seed):
    p = th.random_ocsvm(seed=seed)
    for gamma in (0.1, 1.0, 10.0):
        direct = -np.log(th.ocsvm_inlierness(p["x"], p["u"], p["alpha"], gamma)) / gamma
        _, o = th.neuralized_layers(p["x"], p["u"], p["alpha"], gamma)
        np.testing.assert_allclose(o, direct, rtol=1e-10)
        np.testing.assert_allclose(th.outlier_score(p["x"], p["u"], p["alpha"], gamma), direct,
                                   rtol=1e-10)


def test_softmin_tends_to_min_pooling():
    p = th.random_ocsvm(m=8, seed=2)
    gammas = [0.5, 2.0, 8.0, 32.0, 128.0, 512.0]
    gaps = np.array([th.softmin_gap(p["x"], p["u"], p["alpha"], g) for g in gammas])
    assert (gaps >= 0).all()
    assert (gaps <= np.log(8) / np.array(gammas)[:, None] + 1e-12).all()
    assert (np.diff(gaps.max(axis=1)) <= 0).all() and gaps[0].max() > gaps[2].max() > 0
    assert gaps[-1].max() < 5e-3
    # the limit: min_i ||x - u_i||^2
    h, o = th.neuralized_layers(p["x"], p["u"], p["alpha"], 1e6)
    d2 = ((p["x"][:, None] - p["u"][None]) ** 2).sum(-1)
    np.testing.assert_allclose(o, d2.min(1), atol=1e-4)

"""The point and Gaussian distributions of interest and the probability QoI
(methods/distributions.py, methods/quantities.py), against finite differences,
closed forms and the existing AumannShapley path."""
import hw3_env  # noqa: F401

import numpy as np
import pytest
import theano.tensor as T
from scipy.stats import norm

from AumannShapley import AumannShapley
from Explanation import Explanation
from methods.distributions import Gaussian, Point
from methods.quantities import ProbabilityQoI
from methods.scores import probabilities, softmax
from toys import linear_model, random_inputs, smooth_model

K = hw3_env.setup()


@pytest.fixture(scope="module")
def smooth():
    return smooth_model(seed=1, shape=(2, 6, 6), n_classes=3)


def _explain(model, method, qoi, x, baseline=None):
    return (Explanation(model, method).for_input().for_quantity(qoi)
            .explain(x, baseline=baseline))


def _fd_probability_gradient(model, x, c, eps=1e-2):
    """Central differences of p_c in every input coordinate of one image (float64)."""
    n = x[0].size
    steps = np.eye(n).reshape((n,) + x.shape[1:]) * eps
    p_plus = probabilities(model, (x[0] + steps).astype(np.float32), images_per_call=256)[:, c]
    p_minus = probabilities(model, (x[0] - steps).astype(np.float32), images_per_call=256)[:, c]
    return ((p_plus - p_minus) / (2 * eps)).reshape(x.shape[1:])


def test_point_gradient_matches_finite_differences(smooth):
    x = random_inputs(smooth, 1, seed=3)
    for c in range(3):
        got = _explain(smooth, Point(), ProbabilityQoI(c), x).attribution[0]
        ref = _fd_probability_gradient(smooth, x, c)
        assert np.abs(got - ref).max() < 2e-3 * np.abs(ref).max() + 1e-6, c


def test_point_is_the_one_step_path_and_gradient_x_input(smooth):
    x = random_inputs(smooth, 3, seed=4)
    b = random_inputs(smooth, 1, seed=5)[0]
    grad = _explain(smooth, Point(), ProbabilityQoI(2), x).attribution
    gxi = _explain(smooth, Point(ignore_difference_term=False), ProbabilityQoI(2), x,
                   baseline=b).attribution
    one_step = _explain(smooth, AumannShapley(resolution=1), ProbabilityQoI(2), x,
                        baseline=b).attribution
    tol = 1e-5 * np.abs(gxi).max()              # float32 rounding of the product
    np.testing.assert_allclose(gxi, grad * (x - b), rtol=1e-4, atol=tol)
    np.testing.assert_array_equal(gxi, one_step)
    zero = _explain(smooth, Point(ignore_difference_term=False), ProbabilityQoI(2), x)
    np.testing.assert_allclose(zero.attribution, grad * x, rtol=1e-4,
                               atol=1e-5 * np.abs(zero.attribution).max())


def test_probability_qoi_value_and_gradients_sum_to_zero(smooth):
    """p_c = softmax(s)_c, and sum_c dp_c/dx = 0 because the probabilities sum to 1;
    all classes share one compiled gradient."""
    x = random_inputs(smooth, 4, seed=6)
    method = Point()
    pixels = Explanation(smooth, method).for_input()
    grads = []
    for c in range(3):
        data = pixels.for_quantity(ProbabilityQoI(c)).explain(x)
        np.testing.assert_allclose(method.quantity(x), probabilities(smooth, x)[:, c],
                                   rtol=1e-5, atol=1e-7)
        grads.append(data.attribution.astype(np.float64))
    assert len(method._compiled) == 1
    total = np.sum(grads, axis=0)
    assert np.abs(total).max() < 1e-5 * np.abs(grads[0]).max()
    assert np.abs(grads[0]).max() > 0


def test_probability_qoi_ig_is_complete(smooth):
    x = random_inputs(smooth, 2, seed=7)
    b = random_inputs(smooth, 1, seed=8)[0]
    data = _explain(smooth, AumannShapley(resolution=256), ProbabilityQoI(1), x, baseline=b)
    p = probabilities(smooth, np.concatenate([x, b[None]]))[:, 1]
    change = p[:2] - p[2]
    total = data.attribution.reshape(2, -1).sum(axis=1, dtype=np.float64)
    np.testing.assert_allclose(total, change, rtol=1e-2, atol=1e-5)
    assert np.abs(data.delta).max() < 1e-2 * np.abs(change).max() + 1e-5


def test_gaussian_with_sigma_zero_is_the_point(smooth):
    x = random_inputs(smooth, 3, seed=9)
    point = _explain(smooth, Point(), ProbabilityQoI(0), x).attribution
    for absolute in (False, True):
        got = _explain(smooth, Gaussian(samples=4, sigma=0.0, absolute=absolute),
                       ProbabilityQoI(0), x).attribution
        np.testing.assert_allclose(got, np.abs(point) if absolute else point,
                                   rtol=1e-6, atol=1e-10)


def test_gaussian_does_not_depend_on_chunking(smooth):
    x = random_inputs(smooth, 3, seed=10)
    runs = [_explain(smooth, Gaussian(samples=7, sigma=0.2, seed=3, points_per_call=bs),
                     ProbabilityQoI(1), x).attribution for bs in (1, 4, 100)]
    np.testing.assert_array_equal(runs[0], runs[1])
    np.testing.assert_array_equal(runs[0], runs[2])
    other_seed = _explain(smooth, Gaussian(samples=7, sigma=0.2, seed=4),
                          ProbabilityQoI(1), x).attribution
    assert np.abs(other_seed - runs[0]).max() > 0


def test_gaussian_map_of_an_instance_does_not_depend_on_its_company(smooth):
    """An instance's SmoothGrad is the same explained alone or after other instances
    (its noise is its own, not its position's)."""
    x = random_inputs(smooth, 3, seed=13)
    method = Gaussian(samples=5, sigma=0.2, seed=2, points_per_call=4)
    together = _explain(smooth, method, ProbabilityQoI(1), x).attribution
    for i in range(len(x)):
        alone = _explain(smooth, method, ProbabilityQoI(1), x[i:i + 1]).attribution
        np.testing.assert_allclose(alone[0], together[i], rtol=1e-6, atol=1e-9)


def test_gaussian_on_a_linear_model_is_its_gradient():
    """A linear score has a constant gradient: any amount of noise averages to it."""
    model = linear_model(seed=2, shape=(2, 4, 4), n_classes=5)
    x = random_inputs(model, 2, seed=11)
    point = Explanation(model, Point()).for_input().absolute(3).explain(x).attribution
    noisy = Explanation(model, Gaussian(samples=5, sigma=0.5)).for_input().absolute(3) \
        .explain(x).attribution
    np.testing.assert_allclose(noisy, point, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(point[0], point[1], rtol=1e-6)


def _half_square(model):
    """Q(z) = 0.5 * sum(z^2): its gradient is z itself."""
    return 0.5 * T.sum(T.sqr(model.input), axis=[1, 2, 3])


@pytest.mark.parametrize("value_range", [None, 4.0])
def test_gaussian_noise_level_is_sigma_times_the_value_range(smooth, value_range):
    """With dQ/dz = z, SmoothGrad with |.| averages |x_j + eps|, whose mean is the
    folded normal's mu (1 - 2 Phi(-mu/s)) + s sqrt(2/pi) exp(-mu^2 / 2 s^2), with
    s = sigma * (x_max - x_min) (or sigma * value_range)."""
    rng = np.random.RandomState(12)
    x = rng.uniform(-1, 1, size=(1,) + smooth.input_shape[1:]).astype(np.float32)
    x.flat[0], x.flat[1] = -1.0, 1.0                           # range exactly 2
    sigma, n = 0.25, 400
    method = Gaussian(samples=n, sigma=sigma, absolute=True, value_range=value_range,
                      points_per_call=50)
    got = (Explanation(smooth, method).for_input().for_quantity(_half_square)
           .explain(x).attribution[0].astype(np.float64))
    s = sigma * (2.0 if value_range is None else value_range)
    mu = x[0].astype(np.float64)
    expected = mu * (1 - 2 * norm.cdf(-mu / s)) + s * np.sqrt(2 / np.pi) * np.exp(-mu ** 2 / (2 * s * s))
    # each entry is a mean of n folded normals (std <= s): 5 standard errors
    assert np.abs(got - expected).max() < 5 * s / np.sqrt(n)
    # the mean over the 72 entries is much sharper, and would see a wrong s
    assert abs((got - expected).mean()) < 5 * s / np.sqrt(n * got.size)
    np.testing.assert_allclose(method.noise_scale(x), [s], rtol=1e-6)


def test_gaussian_rejects_bad_parameters():
    with pytest.raises(ValueError, match="samples"):
        Gaussian(samples=0)
    with pytest.raises(ValueError, match="sigma"):
        Gaussian(sigma=-0.1)
    with pytest.raises(ValueError, match="value_range"):
        Gaussian(value_range=-1)


def test_softmax_is_stable():
    p = softmax([[1000.0, 1000.0, -1000.0]])
    np.testing.assert_allclose(p, [[0.5, 0.5, 0.0]])

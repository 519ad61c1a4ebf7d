"""Activation maximisation (methods.prototypes): the known prototype of a linear
model, internal neurons, the pixel range, clear errors."""
import numpy as np
import pytest

import toys
from Explanation import Explanation
from methods import images, prototypes as P
from test_attribution import linear_closed_form


def test_linear_model_prototype_is_w_over_2_lambda():
    """Sheet 11, exercise 1(a), on a Keras model: s_c(x) = <w, x> + b, so the prototype
    under lambda ||x||^2 is w / (2 lambda), w derived by hand from the weights."""
    m = toys.linear_model(seed=2)
    for c, lam in ((0, 0.5), (3, 2.0)):
        _, w = linear_closed_form(m, c)
        q = Explanation(m).for_input().absolute(c)
        proto = P.activation_maximisation(q, steps=60, step=1.0 / (4 * lam), l2=lam,
                                          normalise=False)
        err = np.linalg.norm(proto.image - w / (2 * lam)) / np.linalg.norm(w / (2 * lam))
        assert err < 1e-4
        # objective = max of <w, x> + b - lam ||x||^2 = ||w||^2 / (4 lam) + b
        b = proto.start_score
        assert proto.objective == pytest.approx(np.sum(w.astype(np.float64) ** 2) / (4 * lam) + b,
                                                rel=1e-4)


def test_internal_neuron_prototype_beats_real_inputs_and_stays_in_range():
    """From the mean image plus a little noise, as the notebooks start an internal
    neuron: the toy's biases are 0, so at the mean image itself every pre-activation is
    exactly 0, where a ReLU's gradient is 0 (theano_ops.relu, as PyTorch's)."""
    m = toys.tiny_vgg(seed=1)
    q = Explanation(m).for_input().for_neurons(19, [2])
    x = toys.random_inputs(m, 8, seed=0, scale=40.0)
    stuck = P.activation_maximisation(q, steps=2, step=4.0, l2=1e-4)
    assert stuck.score == stuck.start_score == 0          # no gradient at the kink
    proto = P.activation_maximisation(q, steps=40, step=4.0, l2=1e-4, low=-100.0, high=120.0,
                                      blur_every=4, blur_sigma=0.5, init_noise=10.0)
    assert proto.image.min() >= -100.0 and proto.image.max() <= 120.0
    assert proto.score > proto.start_score
    assert proto.score > P.scores(q, x).max()


def test_gradient_ascent_and_blur():
    x = P.gradient_ascent(lambda v: 1.0 - v, np.zeros(3), 0.5, 60)
    np.testing.assert_allclose(x, 1.0, atol=1e-12)
    img = np.zeros((3, 9, 9), np.float32)
    img[:, 4, 4] = 1.0
    b = images.blur(img, 1.0, mode="nearest")     # the blur prior: mass kept, peak spread
    assert b.sum() == pytest.approx(3.0, rel=1e-4) and b[0, 4, 4] < 0.5
    with pytest.raises(ValueError, match="finite step > 0"):
        P.gradient_ascent(lambda v: v, np.zeros(2), -1.0, 3)


def test_clear_errors():
    m = toys.tiny_vgg(seed=1)
    with pytest.raises(ValueError, match="input slice"):
        P.activation_maximisation(Explanation(m).for_layer(19).absolute(0))
    with pytest.raises(ValueError, match="l2 must be"):
        P.activation_maximisation(Explanation(m).for_input().absolute(0), l2=-1)
    with pytest.raises(ValueError, match="x0 must be one model input"):
        P.activation_maximisation(Explanation(m).for_input().absolute(0), x0=np.zeros(3))

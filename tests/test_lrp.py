"""LRP by the gradient trick (methods.lrp) and the sheet's wrappers (methods.sheet11):
conservation, agreement with the LRP rules written out in NumPy, reductions to
Gradient x Input, finite differences, the chain's slices and QoIs, clear errors."""
import numpy as np
import pytest

import models
import toys
from AumannShapley import AumannShapley
from chain.doi import DoI
from Explanation import Explanation
from methods import lrp as L
from evaluation import sheet11_answers
from methods import sheet11

K = toys.K


def _no_bias(model):
    model.set_weights([w if w.ndim > 1 else np.zeros_like(w) for w in model.get_weights()])
    return model


def _random_bias(model, seed=1, scale=0.1):
    rng = np.random.RandomState(seed)
    model.set_weights([w if w.ndim > 1 else scale * rng.randn(*w.shape).astype(np.float32)
                       for w in model.get_weights()])
    return model


def _pixels(model, n, seed=0):
    """Preprocessed images of random pixels in [0, 255] (inside the z^B bounds)."""
    rng = np.random.RandomState(seed)
    img = rng.randint(0, 256, size=(n,) + model.input_shape[2:] + (3,)).astype(np.uint8)
    return models.preprocess(img, size=model.input_shape[-1])


@pytest.fixture(scope="module")
def vgg0():
    """Tiny VGG layout without biases: LRP conserves exactly."""
    return _no_bias(toys.tiny_vgg(seed=3))


@pytest.fixture(scope="module")
def vggb():
    """Tiny VGG layout with biases."""
    return _random_bias(toys.tiny_vgg(seed=4))


def _classes(model, x):
    return model.predict(x).argmax(axis=1)


# -- the rewrite keeps the function ----------------------------------------------
def test_rewritten_forward_equals_model(vggb):
    x = _pixels(vggb, 3)
    lm = L.lrp_model(vggb, gammas=[0.3] * 12)
    s, t = vggb.predict(x), lm.predict(x)
    assert np.abs(s - t).max() <= 1e-5 * np.abs(s).max()
    assert len(lm.layers) == len(vggb.layers)
    # same slice tensors: conv4_1's output is still layers[19].input
    h = K.function([vggb.input], [vggb.layers[models.CONV4_1].input])([x])[0]
    hl = K.function([lm.input], [lm.layers[models.CONV4_1].input])([x])[0]
    assert np.abs(h - hl).max() <= 1e-5 * np.abs(h).max()
    assert lm.count_params() == 0 and not lm.get_weights()   # weights shared, not copied


# -- conservation -------------------------------------------------------------------
@pytest.mark.parametrize("gammas", [None, "random"])
def test_conservation_without_biases(vgg0, gammas):
    x = _pixels(vgg0, 3, seed=1)
    g = None if gammas is None else list(np.random.RandomState(5).uniform(0, 2, 12))
    lm = L.lrp_model(vgg0, gammas=g)
    c = _classes(vgg0, x)
    expl = Explanation(lm, LRP := L.LRPRelevance())
    scores = vgg0.predict(x)
    for i in range(len(x)):
        d = expl.for_input().absolute(int(c[i])).explain(x[i:i + 1])
        total = d.attribution.sum(dtype=np.float64)
        assert total == pytest.approx(scores[i, c[i]], rel=1e-4)
        assert abs(d.delta[0]) <= 1e-4 * abs(scores[i, c[i]])
    # and layer by layer: the relevance at every slice sums to the same score
    for layer in (models.CONV4_1, 6, models.FLATTEN):
        d = expl.for_layer(layer).absolute(int(c[0])).explain(x[:1])
        assert d.attribution.sum(dtype=np.float64) == pytest.approx(scores[0, c[0]], rel=1e-4)
    assert isinstance(LRP, DoI) and not hasattr(LRP, "tolerance")   # a DoI of the chain, only its own parameters


def test_gamma_zero_without_zb_is_gradient_x_input(vgg0):
    x = _pixels(vgg0, 2, seed=2)
    c = _classes(vgg0, x)
    r = sheet11._explain(Explanation(L.lrp_model(vgg0, gammas=[0.0] * 12, zb=False),
                                     L.LRPRelevance()), x, c)
    gxi = sheet11.gradient_x_input(x, vgg0, c)
    assert np.abs(r - gxi).max() <= 1e-5 * np.abs(gxi).max()


# -- agreement with the rules written out (NumPy) -------------------------------------
def _pointwise_net(seed, widths=(5, 4, 3), n_in=3):
    """1x1 convolutions (ReLU, ReLU, linear) on (3, 2, 2) inputs, then Flatten: at each
    pixel a dense network, so the LRP rules are a few lines of NumPy."""
    from keras.models import Sequential
    from keras.layers import Conv2D, Flatten
    rng = np.random.RandomState(seed)
    m = Sequential([Conv2D(widths[0], (1, 1), activation="relu", input_shape=(n_in, 1, 1)),
                    Conv2D(widths[1], (1, 1), activation="relu"),
                    Conv2D(widths[2], (1, 1), activation="linear"), Flatten()])
    m.set_weights([rng.randn(*w.shape).astype(np.float32) * (1.0 if w.ndim > 1 else 0.3)
                   for w in m.get_weights()])
    return m


def _numpy_lrp(model, x, c, gammas, low, high, epsilon=1e-9):
    """z^B on the first layer, LRP-gamma on the others, from R = s_c at the top:
    the sheet's equations, written out."""
    ws = model.get_weights()
    layers = [(ws[i][0, 0].astype(np.float64), ws[i + 1].astype(np.float64))
              for i in range(0, len(ws), 2)]
    a = [x.reshape(len(x), -1).astype(np.float64)]
    for i, (w, b) in enumerate(layers):
        z = a[-1] @ w + b
        a.append(np.maximum(z, 0) if i < len(layers) - 1 else z)
    r = np.zeros_like(a[-1])
    r[:, c] = a[-1][:, c]
    stab = lambda p: p + np.where(p >= 0, epsilon, -epsilon)  # noqa: E731
    for i in range(len(layers) - 1, 0, -1):
        w, b = layers[i]
        g = gammas[i - 1]
        wg, bg = w + g * np.maximum(w, 0), b + g * np.maximum(b, 0)
        r = a[i] * ((r / stab(a[i] @ wg + bg)) @ wg.T)
    w, _ = layers[0]
    wp, wn = np.maximum(w, 0), np.minimum(w, 0)
    lo, hi = np.broadcast_to(low, a[0].shape), np.broadcast_to(high, a[0].shape)
    s = r / stab(a[0] @ w - lo @ wp - hi @ wn)
    return a[0] * (s @ w.T) - lo * (s @ wp.T) - hi * (s @ wn.T)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_trick_equals_the_rules_written_out(seed):
    m = _pointwise_net(seed)
    rng = np.random.RandomState(10 + seed)
    low, high = np.array([-1.0, -2.0, -0.5]), np.array([1.5, 1.0, 2.0])
    x = rng.uniform(low, high, size=(6, 3)).astype(np.float32).reshape(6, 3, 1, 1)
    gammas = [float(v) for v in rng.uniform(0, 1, 2)]
    expl = Explanation(L.lrp_model(m, gammas=gammas, low=low, high=high), L.LRPRelevance())
    for c in range(3):
        ours = expl.for_input().absolute(c).explain(x).attribution.reshape(6, 3)
        ref = _numpy_lrp(m, x, c, gammas, low, high)
        np.testing.assert_allclose(ours, ref, rtol=1e-4, atol=1e-5 * np.abs(ref).max())


# -- Gradient x Input -----------------------------------------------------------------
def test_gradient_x_input_matches_finite_differences():
    m = toys.smooth_model(seed=2)
    x = toys.random_inputs(m, 2, seed=3)
    r = sheet11.gradient_x_input(x, m, [0, 2])
    f = lambda v, c: m.predict(v[None].astype(np.float32))[0, c]  # noqa: E731
    rng = np.random.RandomState(0)
    for i, c in enumerate([0, 2]):
        for idx in [tuple(rng.randint(s) for s in x.shape[1:]) for _ in range(5)]:
            e = np.zeros(x.shape[1:], np.float64)
            e[idx] = 1e-2
            fd = (f(x[i] + e, c) - f(x[i] - e, c)) / 2e-2
            assert r[i][idx] == pytest.approx(x[i][idx] * fd, rel=2e-3, abs=1e-4)


def test_gradient_x_input_is_the_point_doi_of_the_chain(vggb):
    x = _pixels(vggb, 2, seed=4)
    r = sheet11.gradient_x_input(x, vggb, 3)
    infl = Explanation(vggb, AumannShapley(resolution=1, ignore_difference_term=True)) \
        .for_input().absolute(3).explain(x).attribution
    np.testing.assert_allclose(r, x * infl, rtol=1e-5, atol=1e-6 * np.abs(r).max())


# -- the chain on the rewritten model ---------------------------------------------------
def test_comparative_relevance_at_conv4_1_is_difference_of_absolutes(vggb):
    x = _pixels(vggb, 2, seed=5)
    conv4 = Explanation(L.lrp_model(vggb), L.LRPRelevance()).for_layer(models.CONV4_1)
    a = conv4.absolute(1).explain(x).attribution
    b = conv4.absolute(7).explain(x).attribution
    d = conv4.comparative(1, 7).explain(x).attribution
    assert d.shape == (2,) + conv4.shape
    np.testing.assert_allclose(d, a - b, rtol=1e-4, atol=1e-5 * np.abs(a - b).max())
    assert np.abs(a).max() > 0


def test_lrp_differs_from_gradient_x_input_and_wrapper_matches_chain(vggb):
    x = _pixels(vggb, 2, seed=6)
    r = sheet11.lrp(x, vggb, [2, 5])
    gxi = sheet11.gradient_x_input(x, vggb, [2, 5])
    assert np.abs(r - gxi).max() > 1e-3 * np.abs(gxi).max()   # the rules do something
    chain = Explanation(L.lrp_model(vggb), L.LRPRelevance()).for_input()
    np.testing.assert_allclose(r[1:], chain.absolute(5).explain(x[1:]).attribution,
                               rtol=1e-5, atol=1e-6 * np.abs(r).max())


def test_default_gammas_follow_the_blocks(vgg0):
    assert L.default_gammas(vgg0) == [0.5, 0.5, 0.5, 0.25, 0.25, 0.25, 0.1, 0.1, 0.1,
                                      0.0, 0.0, 0.0]
    assert [r for _, r in L.lrp_model(vgg0).lrp_rules][:2] == ["z^B", "gamma=0.5"]


# -- errors -------------------------------------------------------------------------------
def test_clear_errors(vgg0):
    with pytest.raises(ValueError, match="one value per convolution after the first.*12"):
        L.lrp_model(vgg0, gammas=[0.25] * 13)
    with pytest.raises(ValueError, match=">= 0"):
        L.lrp_model(vgg0, gammas=[-1.0] * 12)
    from keras.models import Sequential
    from keras.layers import Activation, Conv2D, Dense, Flatten
    dense = Sequential([Flatten(input_shape=(3, 4, 4)), Dense(3)])
    with pytest.raises(ValueError, match="no Conv2D layer"):
        L.lrp_model(dense)
    with pytest.raises(ValueError, match="low < high"):
        L.lrp_model(vgg0, low=1.0, high=0.0)
    with pytest.raises(ValueError, match="first convolution to see the pixels"):
        L.lrp_model(Sequential([Activation("relu", input_shape=(3, 4, 4)),
                                Conv2D(2, (1, 1))]))
    with pytest.raises(ValueError, match="kind must be"):
        sheet11.explainer(vgg0, "integrated_gradients")
    with pytest.raises(ValueError, match="target_labels"):
        sheet11.lrp(_pixels(vgg0, 2), vgg0, [1, 2, 3])
    with pytest.raises(ValueError, match="no baseline"):
        L.LRPRelevance().get_attributions(np.ones((1, 2)), baseline=np.ones(2))


# -- the sheet's visualisation ------------------------------------------------------------
def test_heatmap_limit_is_the_sheets_robust_norm():
    r = np.random.RandomState(0).randn(3, 5, 4)
    h = sheet11.heatmap(r[None])
    np.testing.assert_allclose(h, r.sum(axis=0))
    assert sheet11.heatmap_limit(h) == pytest.approx(
        10 * np.cbrt(np.mean(np.abs(r.sum(axis=0)) ** 3)))
    with pytest.raises(ValueError, match="relevance must be"):
        sheet11.heatmap(np.zeros(5))


# ---------------------------------------------------------------------------
# notebooks/tub_sheet11: the answers beside the figures, on maps with known answers
# ---------------------------------------------------------------------------
def test_sheet11_answers_are_chosen_by_the_numbers():
    r = np.zeros((3, 10, 10))
    r[0, :5, :5] = 1.0                   # positive on the object
    r[1, 9, 9] = -5.0                    # negative in a corner
    assert sheet11_answers.negative_share(r) == pytest.approx(5.0 / 30.0)
    noisy = np.zeros((3, 10, 10))
    noisy[0] = 1.0
    noisy[1, 5:] = -3.0                  # channel sum: +1 on rows 0-4, -2 on rows 5-9
    masks = {"object": np.zeros((1, 10, 10), bool), "tower": np.zeros((1, 10, 10), bool)}
    masks["object"][0, :5, :5] = True
    masks["tower"][0, :2, :5] = True
    ev = sheet11_answers.relevance_evidence({"Gradient x Input": noisy, "LRP": r}, masks)
    assert ev["LRP"]["focus"] == pytest.approx(10 / 25.0)
    assert ev["Gradient x Input"]["focus"] == pytest.approx(10 / 50.0)
    assert ev["Gradient x Input"]["negative"] == pytest.approx(100 / 150.0)
    text = sheet11_answers.relevance_answer(ev, "church", score=10.0, lrp_sum=8.0)
    assert text.startswith("Negative relevance holds 67% of the Gradient x Input map's "
                           "absolute mass and 17% of LRP's")
    assert "LRP removes most of the mixed positive and negative" in text
    assert "100% of it lies on the church (4.0x chance)" in text
    assert "8.000 of the score s_c = 10.000 (80%)" in text
    bare = sheet11_answers.relevance_answer(sheet11_answers.relevance_evidence({"Gradient x Input": r,
                                                                "LRP": noisy}), "castle", 1.0, 1.0)
    assert "does not remove the negative evidence" in bare and "only the picture shows" in bare


def test_sheet11_prototype_overlap_and_rules_texts():
    text = sheet11_answers.prototype_answer(["a", "b"], [0, 1], {0: 10.0, 1: 30.0}, {0: 5.0, 1: 10.0},
                                    {0: [0.9, 0.1], 1: [0.8, 0.2]}, {0: 20.0, 1: 30.0},
                                    {0: 5.0, 1: 10.0})
    assert "(2.0 to 3.0 times the best)" in text
    assert "1 of 2 prototypes to their own class" in text and "3.0 to 4.0 times as rough" in text
    mixed = sheet11_answers.prototype_answer(["a", "b"], [0, 1], {0: 10.0, 1: 30.0}, {0: 5.0, 1: 10.0},
                                     {0: [0.9, 0.1], 1: [0.1, 0.9]}, {0: 20.0, 1: 5.0},
                                     {0: 10.0, 1: 10.0})
    assert "each prototype to its own class" in mixed
    assert "only the prototype of a is rougher than the real images (0.5 to 2.0" in mixed
    text = sheet11_answers.overlap_answer([1, 2, 3], [3, 2, 9], "church", "starfish", 10.0, 1.0)
    assert "share 2 (2, 3)" in text and "small next to the class's" in text

    class _Layer:
        def __init__(self, name):
            self.name = name

    class _Model:
        layers = [_Layer("pad"), _Layer("c1"), _Layer("c2"), _Layer("c3"), _Layer("c4")]

    assert sheet11.rules_text(_Model(), [(1, "z^B"), (2, "gamma=0.5"), (3, "gamma=0.5"),
                                         (4, "gamma=0")]) == \
        "z^B on c1; gamma=0.5 on c2 to c3; gamma=0 on c4"


def test_visualize_draws_each_map_on_its_own_robust_scale():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    rs = np.random.RandomState(0)
    a, b = rs.randn(3, 8, 8), 10 * rs.randn(3, 8, 8)
    fig = sheet11.visualize([a, b], title=["a", "b"])
    ims = [ax.images[0] for ax in fig.axes if ax.images and ax.get_title()]
    assert [im.get_clim()[1] for im in ims] == pytest.approx(
        [sheet11.heatmap_limit(sheet11.heatmap(a)), sheet11.heatmap_limit(sheet11.heatmap(b))])
    assert len(fig.axes) == 4                      # two maps, two colour bars
    plt.close(fig)


def test_relevance_runs_no_winograd_convolution():
    """The rules divide by pre-activations, which magnifies Winograd's rounding (a
    stand-in VGG16 map moved by 6e-3 from float64 under F(4x4, 3x3)): LRP's functions
    are compiled without it, on a layer where a plain gradient takes it."""
    import theano
    import keras
    from theano_ops import corr_tiled
    cf = dict(data_format="channels_first")
    m = keras.models.Sequential([              # VGG's layout: padding, then a valid conv
        keras.layers.ZeroPadding2D(1, input_shape=(3, 12, 12), **cf),
        keras.layers.Conv2D(64, 3, activation="relu", **cf),
        keras.layers.ZeroPadding2D(1, **cf), keras.layers.Conv2D(64, 3, activation="relu", **cf),
        keras.layers.Flatten(), keras.layers.Dense(3)])
    x = np.random.RandomState(0).randn(2, 3, 12, 12).astype(np.float32)
    ops = (corr_tiled.TiledCorr, corr_tiled.TiledCorrGradInputs)

    def settings(f):
        return {n.op.winograd for n in f.maker.fgraph.toposort() if isinstance(n.op, ops)}

    plain = theano.function([m.input], theano.grad(m.output[:, 0].sum(), m.input))
    assert "auto" in settings(plain)                  # 64 -> 64 at 12x12: F(4x4, 3x3)
    doi = L.LRPRelevance()
    Explanation(L.lrp_model(m), doi).for_input().absolute(0).explain(x)
    fns = [f for pair in doi._relevance.values() for f in pair]
    assert fns and all(settings(f) <= {None, "never"} for f in fns)
    assert set().union(*(settings(f) for f in fns))     # convolutions are there

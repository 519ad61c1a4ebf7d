"""AumannShapley and the Explanation chain: axioms, closed forms, independent references."""
import numpy as np
import pytest

import models
import toys
from AumannShapley import AumannShapley
from Explanation import Explanation, neuron_scores, top_neurons

K = toys.K


@pytest.fixture(scope="module")
def vgg():
    return toys.tiny_vgg()


def linear_closed_form(model, c):
    """w such that s_c = <w, z> + const at the Flatten input z (C, H, W), and the
    input-space weights, derived by hand from the layer weights."""
    conv_k, conv_b, dense_w, dense_b = model.get_weights()
    C, H, W = K.int_shape(model.layers[1].input)[1:]
    # Keras' channels_first Flatten orders features (h, w, c).
    w_z = dense_w[:, c].reshape(H, W, C).transpose(2, 0, 1)
    w_x = np.einsum("io,ohw->ihw", conv_k[0, 0], w_z)
    return w_z, w_x


# -- closed forms on a linear model ---------------------------------------------
@pytest.mark.parametrize("where", ["input", "internal"])
def test_linear_model_closed_form(linear, where):
    c = 2
    x = toys.random_inputs(linear, 3, seed=1)
    w_z, w_x = linear_closed_form(linear, c)
    expl = Explanation(linear, AumannShapley(resolution=7))
    slice_ = expl.for_input() if where == "input" else expl.for_layer(1)
    w = w_x if where == "input" else w_z
    z = slice_.h(x)
    base = np.full(z.shape[1:], 0.3, dtype=np.float32)
    data = slice_.absolute(c).explain(x, baseline=base)
    np.testing.assert_allclose(data.attribution, w[None] * (z - base), rtol=1e-4, atol=1e-5)
    infl = Explanation(linear, AumannShapley(resolution=7, ignore_difference_term=True))
    infl_slice = infl.for_input() if where == "input" else infl.for_layer(1)
    got = infl_slice.absolute(c).explain(x).attribution
    np.testing.assert_allclose(got, np.broadcast_to(w, got.shape), rtol=1e-4, atol=1e-5)
    # completeness holds exactly where the path is linear
    assert np.abs(data.delta).max() < 1e-3


def test_completeness_exact_on_linear_top_of_vgg(vgg):
    """layers[35].input feeds Activation('linear') -> Dense(linear): g is linear there."""
    x = toys.random_inputs(vgg, 2, scale=50)
    data = Explanation(vgg, AumannShapley(resolution=3)).for_layer(35).absolute(4).explain(x)
    scale = np.abs(data.attribution).sum(axis=(1,)).max()
    assert np.abs(data.delta).max() < 1e-5 * max(1.0, scale)


def test_completeness_gap_shrinks_with_resolution(smooth):
    x = toys.random_inputs(smooth, 2, seed=3, scale=2.0)
    gaps = []
    for m in (4, 32, 256):
        d = Explanation(smooth, AumannShapley(resolution=m)).for_input().absolute(1).explain(x)
        gaps.append(np.abs(d.delta).max())
    assert gaps[0] > 1e-3, "the test model must be non-linear enough for the gap to show"
    assert gaps[1] < gaps[0] / 4 and gaps[2] < gaps[1] / 4, gaps


def test_completeness_on_vgg_slices(vgg):
    """Relu networks: Riemann sums converge; at 200 steps the gap is a small share of
    Q(x) - Q(baseline), at the input and at conv4_1."""
    x = toys.random_inputs(vgg, 2, seed=4, scale=50)
    for slice_ in (Explanation(vgg, AumannShapley(resolution=200)).for_input(),
                   Explanation(vgg, AumannShapley(resolution=200)).for_layer(models.CONV4_1)):
        d = slice_.absolute(1).explain(x)
        total = d.attribution.reshape(2, -1).sum(1)
        assert np.all(np.abs(d.delta) < 0.05 * np.abs(total - d.delta) + 1e-4), (d.delta, total)


# -- the QoIs ---------------------------------------------------------------------
def test_comparative_is_difference_of_absolutes(vgg):
    x = toys.random_inputs(vgg, 2, seed=5, scale=50)
    s = Explanation(vgg, AumannShapley(resolution=10)).for_layer(models.CONV4_1)
    comp = s.comparative(3, 7).explain(x).attribution
    diff = s.absolute(3).explain(x).attribution - s.absolute(7).explain(x).attribution
    np.testing.assert_allclose(comp, diff, rtol=1e-4, atol=1e-4 * np.abs(comp).max())
    assert np.abs(comp).max() > 0


def test_resolution_one_influence_is_the_gradient(vgg):
    """resolution=1, no difference term: the plain gradient at x (saliency), equal
    to Keras' gradient of the full model taken from the image."""
    x = toys.random_inputs(vgg, 2, seed=6, scale=50)
    c = 5
    sal = Explanation(vgg, AumannShapley(resolution=1, ignore_difference_term=True))
    for layer, tensor in ((None, vgg.input), (models.CONV4_1, vgg.layers[models.CONV4_1].input)):
        s = sal.for_input() if layer is None else sal.for_layer(layer)
        got = s.absolute(c).explain(x).attribution
        ref = toys.keras_gradient(vgg, tensor, c)(x)
        np.testing.assert_allclose(got, ref, rtol=1e-4, atol=1e-6 * np.abs(ref).max())


def test_chunking_and_batching_do_not_change_the_result(vgg):
    x = toys.random_inputs(vgg, 3, seed=7, scale=50)
    results = []
    for bs in (1, 7, 1000, None):          # None: as many as the memory budget allows
        s = Explanation(vgg, AumannShapley(resolution=9, points_per_call=bs)).for_layer(models.CONV4_1)
        results.append(s.absolute(2).explain(x).attribution)
    one_by_one = np.concatenate([
        Explanation(vgg, AumannShapley(resolution=9)).for_layer(models.CONV4_1)
        .absolute(2).explain(x[i:i + 1]).attribution for i in range(3)])
    for r in results[1:] + [one_by_one]:
        np.testing.assert_allclose(r, results[0], rtol=1e-5, atol=1e-6 * np.abs(r).max())


@pytest.mark.parametrize("layer", [None, models.CONV4_1])
def test_rows_per_call_follow_the_layer_sizes_above_the_slice(vgg, layer):
    """points_per_call=None sizes a call by the floats of the layer outputs between the
    slice and Q: the per-row sizes of every layer from the slice's up (Keras' own
    output shapes), and FLOATS_PER_CALL // that many rows, within the bounds."""
    from chain import doi
    sal = Explanation(vgg, AumannShapley(resolution=3))
    s = sal.for_input() if layer is None else sal.for_layer(layer)
    q = s.absolute(1)
    q._compile()
    above = vgg.layers[layer or 0:]
    expected = sum(int(np.prod(L.output_shape[1:])) for L in above)
    assert q.method._fns.floats_per_row == expected
    assert q.method.per_call == min(doi.MAX_ROWS_PER_CALL,
                                    max(1, doi.FLOATS_PER_CALL // expected))
    assert doi.rows_per_call(0) == doi.DEFAULT_ROWS_PER_CALL
    assert doi.rows_per_call(10 * doi.FLOATS_PER_CALL) == 1


def test_slice_gradient_matches_finite_differences(vgg):
    s = Explanation(vgg, AumannShapley(resolution=1)).for_layer(models.CONV4_1)
    x = toys.random_inputs(vgg, 1, seed=8, scale=50)
    z = s.h(x).astype(np.float64)
    method = s.absolute(1).slice.explanation.attribution_method
    s.absolute(1)._compile()
    grad = method.gradient(z)[0]
    rng = np.random.RandomState(0)
    flat = np.argsort(-np.abs(grad).ravel())[:10].tolist() + rng.choice(grad.size, 10).tolist()
    eps = 1e-2 * np.abs(z).max()
    for j in flat:
        e = np.zeros(z.size)
        e[j] = eps
        e = e.reshape(z.shape)
        fd = (method.quantity(z + e)[0] - method.quantity(z - e)[0]) / (2 * eps)
        assert abs(fd - grad.ravel()[j]) <= 2e-2 * np.abs(grad).max() + 1e-6


def test_g_of_h_is_the_model(vgg):
    x = toys.random_inputs(vgg, 3, seed=9, scale=50)
    s = Explanation(vgg).for_layer(models.CONV4_1)
    full = vgg.predict(x)
    np.testing.assert_allclose(s.g(s.h(x)), full, rtol=1e-4, atol=1e-4 * np.abs(full).max())
    assert s.shape == (toys.TINY_WIDTHS[3], 8, 8)
    assert type(vgg.layers[models.CONV4_1_LAYER]).__name__ == "Conv2D"
    assert vgg.layers[models.CONV4_1_LAYER].name == "block4_conv1"


def test_neuron_to_pixels_completeness(vgg):
    """Pixel attributions toward a conv4_1 channel's summed activation add up to
    that activation's change from the baseline (to the Riemann error)."""
    x = toys.random_inputs(vgg, 2, seed=10, scale=50)
    ch = [3, 5]
    d = Explanation(vgg, AumannShapley(resolution=200)).for_input().for_neurons(
        models.CONV4_1, ch).explain(x)
    s = Explanation(vgg).for_layer(models.CONV4_1)
    q = s.h(x)[:, ch].sum(axis=(1, 2, 3)).astype(np.float64)
    q0 = s.h(np.zeros_like(x))[:, ch].sum(axis=(1, 2, 3)).astype(np.float64)
    total = d.attribution.reshape(2, -1).sum(1)
    assert np.all(np.abs(total - (q - q0)) < 0.05 * np.abs(q - q0) + 1e-3), (total, q - q0)
    np.testing.assert_allclose(d.delta, total - (q - q0), atol=1e-5 * np.abs(q).max() + 1e-3)


@pytest.mark.parametrize("method", [dict(resolution=9), dict(resolution=6, method="gausslegendre",
                                                         ignore_difference_term=True)])
def test_neurons_explained_together_equal_one_by_one(vgg, method):
    """explain_neurons runs K neurons' paths with one shared forward per point
    (chain.compiled.compile_stacked): each map, and each neuron's own completeness gap,
    is what the neuron's own explanation gives."""
    from Explanation import explain_neurons
    x = toys.random_inputs(vgg, 3, seed=13, scale=50)
    expl = Explanation(vgg, AumannShapley(points_per_call=4, **method))
    neurons = [5, 0, 5, 7]
    maps = explain_neurons(expl, models.CONV4_1, neurons, x)
    assert expl.attribution_method.last_points is not None
    assert expl.attribution_method._fns.quantities is not None       # the stacked path ran
    one = Explanation(vgg, AumannShapley(points_per_call=4, **method)).for_input()
    for n, m in zip(neurons, maps):
        ref = one.for_neurons(models.CONV4_1, [n]).explain(x)
        np.testing.assert_allclose(m.attribution, ref.attribution, rtol=1e-5,
                                   atol=1e-6 * np.abs(ref.attribution).max())
        np.testing.assert_allclose(m.delta, ref.delta, atol=1e-4 * np.abs(ref.delta).max() + 1e-4)
        assert m.quantity == ref.quantity and m.instance is not None


def test_stacked_quantities_past_an_affine_head_equal_one_by_one(vgg):
    """Stacked quantities compile past the slice's affine head (conv4_2's linear part
    above conv4_1): one forward above y, the K gradients pulled back by W^T each, the
    same attributions and quantities as each quantity compiled alone."""
    from Explanation import _explain_stacked
    expl = Explanation(vgg, AumannShapley(resolution=5, points_per_call=3))
    s = expl.for_layer(models.CONV4_1)
    assert s.affine_head() is not None
    z = s.h(toys.random_inputs(vgg, 2, seed=21, scale=50))
    quantities = [s.absolute(1), s.comparative(3, 1), s.absolute(0)]
    attr, delta = _explain_stacked(quantities, z)
    method = expl.attribution_method
    assert method._fns.head is not None and method._fns.quantities is not None
    for k, q in enumerate(quantities):
        ref = q.explain_activations(z)
        np.testing.assert_allclose(attr[:, k], ref.attribution, rtol=1e-5,
                                   atol=1e-6 * np.abs(ref.attribution).max())
        np.testing.assert_allclose(delta[:, k], ref.delta,
                                   atol=1e-4 * np.abs(ref.delta).max() + 1e-4)
        stacked = np.repeat(z[:, None], 3, axis=1)
        _explain_stacked(quantities, z)             # recompile stacked (q.explain moved it)
        np.testing.assert_allclose(method.quantities(stacked)[:, k], q.compiled().quantity(z),
                                   rtol=1e-5)


@pytest.mark.parametrize("method", [dict(resolution=6), dict(resolution=4, method="trapezoid",
                                                         ignore_difference_term=True)])
def test_absolute_and_comparative_equal_the_two_queries(vgg, method):
    """absolute_and_comparative explains s_c1 and s_c2 stacked on x1 and uses linearity
    (A(s_c1 - s_c2) = A(s_c1) - A(s_c2)) for the comparative there: the two class-level
    explanations, and every image's completeness gap, are those of the two queries
    explained one by one."""
    from Explanation import absolute_and_comparative
    x1 = toys.random_inputs(vgg, 3, seed=22, scale=50)
    x2 = toys.random_inputs(vgg, 2, seed=23, scale=50)
    s = Explanation(vgg, AumannShapley(points_per_call=4, **method)).for_layer(models.CONV4_1)
    absolute, comparative = absolute_and_comparative(s, 2, 5, x1, x2)
    one = Explanation(vgg, AumannShapley(points_per_call=4, **method)).for_layer(models.CONV4_1)
    for got, ref in [(absolute, one.absolute(2).explain_class(x1)),
                     (comparative, one.comparative(2, 5).explain_class(np.concatenate([x1, x2])))]:
        np.testing.assert_allclose(got.attribution, ref.attribution, rtol=1e-5,
                                   atol=1e-5 * np.abs(ref.attribution).max())
        np.testing.assert_allclose(got.delta, ref.delta, atol=1e-4 * np.abs(ref.delta).max() + 1e-4)
        assert got.quantity == ref.quantity and got.attribution.dtype == ref.attribution.dtype
    with pytest.raises(ValueError, match="non-empty batch"):       # checked up front
        absolute_and_comparative(s, 2, 5, x1, x1[:0])


def test_absolute_and_comparative_with_a_tolerance_explain_one_by_one(vgg):
    """An adaptive resolution refines per quantity, so the two queries are not stacked:
    the results are exactly those of the two queries."""
    from Explanation import absolute_and_comparative
    x1, x2 = toys.random_inputs(vgg, 2, seed=24, scale=50), toys.random_inputs(vgg, 1, seed=25)
    def slice_():
        return Explanation(vgg, AumannShapley(resolution=4, tolerance=0.01, max_resolution=16)
                           ).for_layer(models.CONV4_1)
    s = slice_()
    absolute, comparative = absolute_and_comparative(s, 1, 2, x1, x2)
    assert s.explanation.attribution_method._fns.quantities is None
    np.testing.assert_array_equal(absolute.attribution, slice_().absolute(1).explain_class(x1).attribution)
    np.testing.assert_array_equal(comparative.attribution, slice_().comparative(1, 2).explain_class(
        np.concatenate([x1, x2])).attribution)


def test_quantities_need_a_stacked_compile(vgg):
    """Only a stacked compile answers quantities()."""
    expl = Explanation(vgg)
    q = expl.for_input().for_neurons(models.CONV4_1, [1])
    method = AumannShapley()
    method.compile(expl._linear_quantity(q.qoi), q.slice.variable)
    with pytest.raises(RuntimeError, match="compile a tuple"):
        method.quantities(np.zeros((1, 2) + q.slice.shape, np.float32))


def test_neurons_with_a_tolerance_are_explained_one_by_one(vgg):
    """An adaptive resolution refines per neuron, so explain_neurons does not stack it."""
    from Explanation import explain_neurons
    x = toys.random_inputs(vgg, 2, seed=14, scale=50)
    expl = Explanation(vgg, AumannShapley(resolution=4, tolerance=0.01, max_resolution=16))
    maps = explain_neurons(expl, models.CONV4_1, [1, 2], x)
    assert expl.attribution_method._fns.quantities is None
    for n, m in zip([1, 2], maps):
        ref = Explanation(vgg, AumannShapley(resolution=4, tolerance=0.01, max_resolution=16)
                          ).for_input().for_neurons(models.CONV4_1, [n]).explain(x)
        np.testing.assert_array_equal(m.attribution, ref.attribution)


def test_class_explanation_is_mean_of_instances(vgg):
    x = toys.random_inputs(vgg, 4, seed=11, scale=50)
    s = Explanation(vgg, AumannShapley(resolution=6)).for_layer(models.CONV4_1).comparative(1, 2)
    cls = s.explain_class(x)
    inst = s.explain(x)
    np.testing.assert_allclose(cls.attribution, inst.attribution.mean(0), rtol=1e-5,
                               atol=1e-6 * np.abs(cls.attribution).max())
    np.testing.assert_allclose(cls.delta, inst.delta, atol=1e-3)  # float32 noise of Q
    assert cls.instance is None and cls.attribution.shape == s.slice.shape


@pytest.mark.parametrize("points_per_call", [1, 3])
def test_class_explanation_does_not_depend_on_grouping(vgg, points_per_call):
    """explain_class works through the images in groups of method.per_call (one
    image at a time, or 3 + 1 here): the mean and the gaps are the same."""
    x = toys.random_inputs(vgg, 4, seed=12, scale=50)
    ref = Explanation(vgg, AumannShapley(resolution=5, points_per_call=10)).for_layer(
        models.CONV4_1).absolute(3).explain_class(x)
    got = Explanation(vgg, AumannShapley(resolution=5, points_per_call=points_per_call)).for_layer(
        models.CONV4_1).absolute(3).explain_class(x)
    np.testing.assert_allclose(got.attribution, ref.attribution, rtol=1e-5,
                               atol=1e-6 * np.abs(ref.attribution).max())
    np.testing.assert_allclose(got.delta, ref.delta, atol=1e-3)
    assert len(got.delta) == 4


# -- top neurons ---------------------------------------------------------------------
def test_top_neurons_max_vs_mean():
    a = np.zeros((4, 3, 3))
    a[0] = 1.0                      # high mean, max 1
    a[1, 1, 1] = 5.0                # one hot spot: max 5, mean 0.56
    a[2, 0, 0] = 5.0                # tie with channel 1 on max
    a[3] = -1.0
    idx, scores = top_neurons(a, k=3)
    assert idx.tolist() == [1, 2, 0] and scores.tolist() == [5.0, 5.0, 1.0]
    idx, _ = top_neurons(a, k=1, by="mean")
    assert idx.tolist() == [0]
    idx, _ = top_neurons(a, k=1, by="max", largest=False)
    assert idx.tolist() == [3]
    np.testing.assert_allclose(neuron_scores(a, "sum"), a.reshape(4, -1).sum(1))


# -- bad input -------------------------------------------------------------------------
def test_bad_inputs_raise(vgg):
    e = Explanation(vgg)
    x = toys.random_inputs(vgg, 1)
    with pytest.raises(ValueError, match="class index"):
        e.for_layer(19).absolute(10)
    with pytest.raises(ValueError, match="class index"):
        e.for_layer(19).comparative(0, -1)
    with pytest.raises(ValueError, match="layer index"):
        e.for_layer(37)
    with pytest.raises(ValueError, match="must have shape"):
        e.for_layer(19).absolute(0).explain(np.zeros((1, 3, 32, 32), np.float32))
    with pytest.raises(ValueError, match="non-empty|must have shape"):
        e.for_layer(19).absolute(0).explain(np.zeros((0, 3, 64, 64), np.float32))
    bad = x.copy()
    bad[0, 0, 0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        e.for_layer(19).absolute(0).explain(bad)
    with pytest.raises(ValueError, match="resolution"):
        AumannShapley(resolution=0)
    with pytest.raises(ValueError, match="channels"):
        e.for_input().for_neurons(19, [999])
    with pytest.raises(ValueError, match="above the slice"):
        e.for_layer(19).for_neurons(10, [0])
    with pytest.raises(ValueError, match="k must be"):
        top_neurons(np.zeros((4, 2, 2)), k=5)
    with pytest.raises(ValueError, match="baseline"):
        e.for_layer(19).absolute(0).explain(x, baseline=np.zeros((3, 3)))


def test_completeness_on_flat_images_with_pooling_ties(vgg):
    """Flat colour makes max-pool windows tie; the gap must still vanish as the
    resolution grows (with Theano's tie gradient it converged to a non-zero value)."""
    x = np.zeros((1,) + toys.TINY_INPUT, np.float32)
    x[0, 0, 8:40, 8:40], x[0, 1, 20:60, 4:30], x[0, 2] = 60.0, -40.0, 25.0
    gaps = []
    for m in (16, 512):
        d = Explanation(vgg, AumannShapley(resolution=m, points_per_call=64)).for_input().absolute(2).explain(x)
        change = abs(d.attribution.sum() - d.delta[0])
        gaps.append(abs(d.delta[0]) / change)
    assert gaps[1] < 0.01 and gaps[1] < gaps[0], gaps


def test_most_influential_is_top_of_class_explanation(vgg):
    from Explanation import most_influential
    x = toys.random_inputs(vgg, 3, seed=12, scale=50)
    q = Explanation(vgg, AumannShapley(resolution=5)).for_layer(models.CONV4_1).absolute(3)
    idx, data = most_influential(q, x, k=2)
    expected, _ = top_neurons(q.explain_class(x).attribution, k=2)
    assert idx == expected.tolist() and data.attribution.shape == q.slice.shape


def test_slices_are_built_once(vgg):
    e = Explanation(vgg)
    assert e.for_layer(19) is e.for_layer(19) and e.for_input() is e.for_input()
    x = toys.random_inputs(vgg, 1)
    e.for_layer(19).g(e.for_layer(19).h(x))
    assert e.for_layer(19)._g is not None and e.for_layer(19)._h is not None


def test_custom_quantity_compiles_once_and_matches_linear(vgg):
    """A QoI given as a function builds its graph once (repeated explain calls reuse the
    compiled gradient) and equals the built-in absolute() for the same quantity."""
    x = toys.random_inputs(vgg, 2, seed=13, scale=50)
    method = AumannShapley(resolution=5)
    s = Explanation(vgg, method).for_layer(models.CONV4_1)
    custom = s.for_quantity(lambda model: model.output[:, 4])
    first = custom.explain(x).attribution
    n_compiled = len(method._compiled)
    second = custom.explain(x).attribution
    assert len(method._compiled) == n_compiled
    np.testing.assert_array_equal(first, second)
    ref = s.absolute(4).explain(x).attribution
    np.testing.assert_allclose(first, ref, rtol=1e-4, atol=1e-5 * np.abs(ref).max())


# -- quadrature rules and tolerance through the Explanation chain ------------
def test_every_rule_converges_to_the_same_integral(vgg):
    """At conv4_1 of the tiny VGG16 every rule approaches one path integral: the
    distance to a fine midpoint sum shrinks as the resolution grows."""
    from AumannShapley import RULES
    x = toys.random_inputs(vgg, 1, seed=14, scale=50)

    def attr(rule, m):
        e = Explanation(vgg, AumannShapley(resolution=m, method=rule, points_per_call=64))
        return e.for_layer(models.CONV4_1).absolute(2).explain(x).attribution

    ref = attr("riemann_middle", 768)
    for rule in RULES:
        errs = [np.linalg.norm(attr(rule, m) - ref) / np.linalg.norm(ref) for m in (4, 64)]
        assert errs[1] < errs[0] / 3 and errs[1] < 0.05, (rule, errs)


def test_class_explanation_with_tolerance(vgg):
    """explain_class with an adaptive method: every instance's gap is below the
    tolerance (or at the cap), and the mean equals the fixed-resolution mean when the
    resolution reached is the same for all."""
    x = toys.random_inputs(vgg, 3, seed=15, scale=50)
    method = AumannShapley(resolution=8, tolerance=0.02, max_resolution=256, points_per_call=2)
    q = Explanation(vgg, method).for_layer(models.CONV4_1).absolute(1)
    cls = q.explain_class(x)
    inst = q.explain(x)
    rel = method.last_relative_gap
    assert np.all((rel < 0.02) | (method.last_resolution == 256)), rel
    np.testing.assert_allclose(cls.delta, inst.delta, atol=1e-3)
    total = inst.attribution.reshape(3, -1).sum(1)
    np.testing.assert_allclose(np.abs(inst.delta) / np.abs(total - inst.delta), rel, rtol=1e-3)

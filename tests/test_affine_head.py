"""chain.affine_head.AffineHead: the affine layers that open g are folded out of the path.

The folded evaluation must equal g's own path gradients (the chain rule through an
affine map, for every quadrature rule, baseline and DoI) up to float rounding, and must
fire only where it is exact and pays."""
import numpy as np
import pytest

import models
import toys
from AumannShapley import RULES, AumannShapley
from chain.affine_head import AffineHead
from Explanation import Explanation
from methods.distributions import Gaussian, Point


@pytest.fixture(scope="module")
def vgg():
    return toys.tiny_vgg()


def both(vgg, make_method, layer=models.CONV4_1):
    """The same quantity explained with the head folded and without."""
    folded = Explanation(vgg, make_method()).for_layer(layer)
    plain = Explanation(vgg, make_method(), fold_affine=False).for_layer(layer)
    return folded, plain


def close(a, b, rtol=2e-5):
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    assert np.linalg.norm(a - b) <= rtol * np.linalg.norm(b) + 1e-12, \
        np.linalg.norm(a - b) / np.linalg.norm(b)


def test_head_is_padding_and_conv_at_conv4_1_and_absent_where_it_cannot_pay(vgg):
    head = Explanation(vgg).for_layer(models.CONV4_1).affine_head()
    assert [L.name for L in head.layers] == ["block4_pad2", "block4_conv2"]
    # the pixels: conv1_1's 64 channels are larger than the 3 of the image
    assert Explanation(vgg).for_input().affine_head() is None
    # after conv5_3 comes a max-pool, not an affine layer
    assert Explanation(vgg).for_layer(30).affine_head() is None
    assert Explanation(vgg, fold_affine=False).for_layer(models.CONV4_1).affine_head() is None


def test_head_maps_a_path_to_a_path_and_its_adjoint_is_the_transpose(vgg):
    """A(z) is the padded convolution conv4_2 computes before its ReLU (NumPy
    reference), and <A_lin z, dy> = <z, W^T dy> (the adjoint identity)."""
    s = Explanation(vgg).for_layer(models.CONV4_1)
    fwd, adj = s.affine_head().functions()
    rng = np.random.RandomState(0)
    z = np.abs(rng.randn(2, *s.shape)).astype(np.float32)
    kernel, bias = vgg.layers[20].get_weights()          # (3, 3, C, K), (K,)
    padded = np.pad(z, ((0, 0), (0, 0), (1, 1), (1, 1)))
    H, W = z.shape[2:]
    ref = np.zeros((2, kernel.shape[3], H, W))
    for i in range(3):
        for j in range(3):
            # Keras' Theano backend convolves (kernel flipped), as the weight loader expects
            ref += np.einsum("nchw,ck->nkhw", padded[:, :, i:i + H, j:j + W],
                             kernel[2 - i, 2 - j])
    ref += bias[None, :, None, None]
    close(fwd(z), ref, rtol=1e-5)
    dy = rng.randn(*ref.shape).astype(np.float32)
    lhs = np.sum((fwd(z) - fwd(np.zeros_like(z))).astype(np.float64) * dy)
    rhs = np.sum(z.astype(np.float64) * adj(z, dy))
    assert abs(lhs - rhs) <= 1e-4 * abs(lhs)


@pytest.mark.parametrize("rule", RULES)
def test_folded_path_equals_g_for_every_rule(vgg, rule):
    x = toys.random_inputs(vgg, 2, seed=1, scale=50)
    folded, plain = both(vgg, lambda: AumannShapley(resolution=6, method=rule, points_per_call=4))
    a = folded.comparative(1, 3).explain(x)
    b = plain.comparative(1, 3).explain(x)
    # the folded side really ran past the head: its compiled entry holds (A, grad_y, W^T)
    assert folded.explanation.attribution_method._fns.head is not None
    assert plain.explanation.attribution_method._fns.head is None
    close(a.attribution, b.attribution)
    np.testing.assert_allclose(a.delta, b.delta, atol=1e-4 * np.abs(a.attribution).sum())


def test_folded_influence_baseline_and_class_explanation(vgg):
    """Influence (no difference term), a per-instance non-zero baseline and the class
    mean: the same as without the head; completeness still holds exactly where the
    top is linear in y (one step beyond the ReLU is not, so only the gap's equality)."""
    x = toys.random_inputs(vgg, 3, seed=2, scale=50)
    folded, plain = both(vgg, lambda: AumannShapley(resolution=5, points_per_call=3,
                                                     ignore_difference_term=True))
    close(folded.absolute(2).explain(x).attribution, plain.absolute(2).explain(x).attribution)
    base = 0.3 * folded.h(x[::-1])
    close(folded.absolute(2).explain(x, baseline=base).attribution,
          plain.absolute(2).explain(x, baseline=base).attribution)
    close(folded.absolute(4).explain_class(x).attribution,
          plain.absolute(4).explain_class(x).attribution)


def test_folded_adaptive_resolution_reaches_the_same_points(vgg):
    """Nested refinement of the instances still above the tolerance (the tiny VGG has
    zero biases, so the path from 0 is a ray with constant gradient: the baseline here
    is another image's activations, where the ReLU pattern changes along the path)."""
    x = toys.random_inputs(vgg, 3, seed=3, scale=50)
    make = lambda: AumannShapley(resolution=1, tolerance=1e-3, max_resolution=64, points_per_call=5)  # noqa: E731
    folded, plain = both(vgg, make)
    base = folded.h(toys.random_inputs(vgg, 3, seed=30, scale=50))
    a = folded.comparative(0, 1).explain(x, baseline=base).attribution
    b = plain.comparative(0, 1).explain(x, baseline=base).attribution
    fm = folded.explanation.attribution_method
    pm = plain.explanation.attribution_method
    np.testing.assert_array_equal(fm.last_resolution, pm.last_resolution)
    assert fm.last_resolution.max() > 1     # it did refine
    close(a, b)


def test_gradient_quantity_and_other_dois_through_the_head(vgg):
    x = toys.random_inputs(vgg, 2, seed=4, scale=50)
    folded, plain = both(vgg, lambda: Point(images_per_call=2))
    z = folded.h(x)
    fm, pm = folded.absolute(5).compiled(), plain.absolute(5).compiled()
    close(fm.gradient(z), pm.gradient(z))
    close(fm.quantity(z), pm.quantity(z), rtol=1e-6)
    close(folded.absolute(5).explain(x).attribution, plain.absolute(5).explain(x).attribution)
    folded, plain = both(vgg, lambda: Gaussian(samples=4, sigma=0.2, seed=0, points_per_call=3))
    close(folded.absolute(5).explain(x).attribution, plain.absolute(5).explain(x).attribution)


def test_dense_head_below_fc1(vgg):
    """The slice at fc1's input (the flattened pool5): the head is fc1's linear part."""
    fc1 = models.FC1
    head = Explanation(vgg).for_layer(fc1).affine_head()
    assert [L.name for L in head.layers] == ["fc1"]
    x = toys.random_inputs(vgg, 2, seed=5, scale=50)
    folded, plain = both(vgg, lambda: AumannShapley(resolution=7), layer=fc1)
    close(folded.absolute(1).explain(x).attribution, plain.absolute(1).explain(x).attribution)
    assert folded.explanation.attribution_method._fns.head is not None


def test_head_refuses_a_layer_that_is_not_plain_keras():
    """Only exact Keras classes are folded: a subclass may change the arithmetic."""
    import keras
    from keras.layers import Conv2D

    class Scaled(Conv2D):
        def call(self, inputs):
            return 2 * super().call(inputs)

    toys.seed_all(0)
    m = keras.models.Sequential([
        keras.layers.Conv2D(4, (3, 3), activation="relu", input_shape=(3, 8, 8)),
        Scaled(4, (3, 3), activation="relu"), keras.layers.Flatten(), keras.layers.Dense(2)])
    assert AffineHead.of(m, 1) is None
    assert AffineHead.of(m, 2) is None      # Flatten opens g there
    assert [L.name for L in AffineHead.of(m, 3).layers] == [m.layers[3].name]


@pytest.mark.parametrize("kept", [[], [0], [3, 1, 7], "all"])
def test_masked_scores_read_only_the_kept_channels(vgg, kept):
    """compression.masked_scores through the head (the convolution restricted to the
    kept channels) equals g on the masked activations, for no, one, some and every
    channel; masks that are not 0/1 take g's own route."""
    import compression
    folded = Explanation(vgg).for_layer(models.CONV4_1)
    plain = Explanation(vgg, fold_affine=False).for_layer(models.CONV4_1)
    z = folded.h(toys.random_inputs(vgg, 3, seed=6, scale=50))
    n = folded.shape[0]
    kept = np.arange(n) if kept == "all" else np.asarray(kept, int)
    mask = np.zeros((1, n), np.float32)
    mask[0, kept] = 1
    got = compression.masked_scores(folded, z, mask, masks_per_call=2)
    ref = plain.g(z * mask[0, :, None, None])
    close(got, ref, rtol=1e-5)
    weights = mask * 0.5
    close(compression.masked_scores(folded, z, weights), plain.g(z * weights[0, :, None, None]),
          rtol=1e-5)


def test_a_quantity_inside_the_head_is_explained_by_g_itself(vgg):
    """Neurons at conv4_2's input (the padded slice, inside the head) cannot be written
    as a function of the head's output: the chain falls back to g, with the same result."""
    x = toys.random_inputs(vgg, 1, seed=7, scale=50)
    folded, plain = both(vgg, lambda: AumannShapley(resolution=4))
    a = folded.for_neurons(models.CONV4_1 + 1, [2]).explain(x).attribution
    assert folded.explanation.attribution_method._fns.head is None
    close(a, plain.for_neurons(models.CONV4_1 + 1, [2]).explain(x).attribution)
    # one layer up (conv4_2's output, the head's activation) it folds again
    b = folded.for_neurons(models.CONV4_1 + 2, [2]).explain(x).attribution
    assert folded.explanation.attribution_method._fns.head is not None
    close(b, plain.for_neurons(models.CONV4_1 + 2, [2]).explain(x).attribution)


def test_grown_kept_sets_convolve_only_their_new_channels(vgg):
    """masked_outputs from the start of a subset (y + W[new] * z[new]) equals the fresh
    evaluation and g on the masked activations; a start that is not a subset, or of
    other images, is not used."""
    folded = Explanation(vgg).for_layer(models.CONV4_1)
    plain = Explanation(vgg, fold_affine=False).for_layer(models.CONV4_1)
    head = folded.affine_head()
    z = folded.h(toys.random_inputs(vgg, 3, seed=8, scale=50))
    n = folded.shape[0]
    order = np.random.RandomState(0).permutation(n)
    start = None
    for k in (0, 1, 3, n // 2, n):                  # nested: prefixes of one order
        kept = np.sort(order[:k])
        got, start = head.masked_outputs(vgg.output, z, kept, 2, start)
        fresh, _ = head.masked_outputs(vgg.output, z, kept, 2)
        mask = np.zeros(n, np.float32)
        mask[kept] = 1
        close(got, fresh, rtol=1e-5)
        close(got, plain.g(z * mask[:, None, None]), rtol=1e-5)
        assert np.array_equal(start[0], kept)
    other = np.sort(order[n // 2:n // 2 + 2])        # not a superset of the last start
    close(head.masked_outputs(vgg.output, z, other, 2, start)[0],
          head.masked_outputs(vgg.output, z, other, 2)[0], rtol=1e-5)
    got, _ = head.masked_outputs(vgg.output, z[:2], order[:n], 2, start)   # other images
    close(got, plain.g(z[:2]), rtol=1e-5)


def test_nested_grid_equals_the_grid_of_masked_models(vgg):
    """compression.recall_grid (cells started from earlier cells at the head) gives the
    same recall and precision as the model without the head, where every cell runs g
    on masked activations."""
    import compression
    x = toys.random_inputs(vgg, 8, seed=9, scale=50)
    grids = []
    for fold in (True, False):
        s = Explanation(vgg, fold_affine=fold).for_layer(models.CONV4_1)
        z = s.h(x)
        labels = np.argmax(s.g(z), axis=1)
        c = int(labels[0])
        scores = np.random.RandomState(1).randn(s.shape[0])
        grids.append(compression.recall_grid(s, z, labels, c, scores, progress=False,
                                             images_per_call=3))
    np.testing.assert_array_equal(grids[0].recall, grids[1].recall)
    np.testing.assert_array_equal(grids[0].precision, grids[1].precision)

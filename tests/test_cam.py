"""Grad-CAM, Ablation-CAM and Score-CAM (methods/cam.py): known answers on models
built for them, agreement with independent references (Keras gradients, SciPy and
scikit-image resizing, scores computed one masked input at a time), clear errors."""
import numpy as np
import pytest
from scipy import ndimage

import toys
from methods import cam, images, registry, scores

K = toys.K


@pytest.fixture(scope="module")
def linear_top():
    model, dense = toys.conv_linear_top_model()
    x = toys.random_inputs(model, 3, seed=1)
    acts = K.function([model.input], [model.layers[1].input])([x])[0]
    return model, dense, x, acts


@pytest.fixture(scope="module")
def tiny():
    model = toys.tiny_vgg()
    return model, toys.random_inputs(model, 2, seed=3, scale=50.0)


# ---------------------------------------------------------------------------
# Resizing
# ---------------------------------------------------------------------------
def test_resize_with_aligned_corners_matches_scipy_zoom():
    rng = np.random.RandomState(0)
    m = rng.rand(2, 4, 5).astype(np.float32)
    got = images.resize_bilinear(m, (13, 17), align_corners=True)
    ref = np.stack([ndimage.zoom(a.astype(np.float64), (13 / 4, 17 / 5), order=1,
                                 mode="nearest", grid_mode=False) for a in m])
    np.testing.assert_allclose(got, ref, atol=1e-5)
    assert got[:, 0, 0] == pytest.approx(m[:, 0, 0]) and got[:, -1, -1] == pytest.approx(
        m[:, -1, -1])


def test_resize_with_half_pixel_centres_matches_skimage():
    from skimage.transform import resize
    rng = np.random.RandomState(1)
    m = rng.rand(4, 4).astype(np.float32)
    got = images.resize_bilinear(m, (16, 12))
    ref = resize(m.astype(np.float64), (16, 12), order=1, mode="edge", anti_aliasing=False)
    np.testing.assert_allclose(got, ref, atol=1e-5)


def test_scaled_maps_span_0_to_1_and_keep_the_order():
    m = np.array([[[0.0, 1.0], [2.0, 4.0]]], dtype=np.float32) + 3.0
    s = images.scale_maps(m)
    np.testing.assert_allclose(s, (m - 3.0) / (4.0 + images.SCALE_EPS), rtol=1e-6)


# ---------------------------------------------------------------------------
# Grad-CAM
# ---------------------------------------------------------------------------
def test_grad_cam_of_a_channel_sum_is_that_channels_map(linear_top):
    model, dense, x, acts = linear_top
    scores = model.predict(x)
    np.testing.assert_allclose(scores[:, 0], acts[:, 1].sum(axis=(1, 2)), rtol=1e-5)
    got = cam.grad_cam(x, model, 0, upsample=False)
    np.testing.assert_allclose(got, acts[:, 1], rtol=1e-5, atol=1e-6)
    a, w = cam.grad_cam_weights(x, model, [0, 0, 0])
    np.testing.assert_allclose(w, np.eye(toys.CAM_CHANNELS)[[1, 1, 1]], atol=1e-6)
    scaled = cam.grad_cam(x, model, 0)
    np.testing.assert_allclose(scaled, images.scale_maps(acts[:, 1]), atol=1e-6)
    assert scaled.min() >= 0 and scaled.max() <= 1


def test_grad_cam_weights_are_the_mean_keras_gradient(tiny):
    model, x = tiny
    layer = cam.conv_slice(model)
    assert layer == 30
    labels = np.array([2, 7])
    a, w = cam.grad_cam_weights(x, model, labels)
    for i, c in enumerate(labels):
        g = toys.keras_gradient(model, model.layers[30].input, int(c))(x[i:i + 1])
        np.testing.assert_allclose(w[i], g[0].mean(axis=(1, 2)), rtol=1e-4, atol=1e-7)
    maps = cam.grad_cam(x, model, labels, upsample=False)
    ref = np.maximum((w[:, :, None, None] * a).sum(axis=1), 0)
    np.testing.assert_allclose(maps, ref, rtol=1e-5, atol=1e-7)
    assert cam.grad_cam(x, model, labels).shape == (2, 64, 64)


def test_any_conv_slice_works(tiny):
    model, x = tiny
    maps = cam.grad_cam(x, model, 1, layer=28, upsample=False)
    assert maps.shape == (2,) + tuple(model.layers[28].input_shape[2:])
    assert cam.grad_cam(x, model, 1, layer=2).shape == (2, 64, 64)


# ---------------------------------------------------------------------------
# Ablation-CAM
# ---------------------------------------------------------------------------
def test_ablation_cam_weights_on_a_linear_top_are_contributions_over_the_score(linear_top):
    model, dense, x, acts = linear_top
    scores = model.predict(x)
    for c in (1, 2):
        contributions = np.einsum("nchw,chw->nc", acts.astype(np.float64),
                                  dense[..., c].astype(np.float64))
        _, w = cam.ablation_cam_weights(x, model, c, progress=False)
        np.testing.assert_allclose(w, contributions / scores[:, [c]], rtol=1e-3, atol=1e-5)
        assert np.abs(w[:, toys.CAM_DEAD]).max() < 1e-6   # zeroing a dead channel: no change


def test_ablation_batches_do_not_change_the_weights(tiny):
    model, x = tiny
    _, w1 = cam.ablation_cam_weights(x, model, 3, channels_per_call=5, progress=False)
    _, w2 = cam.ablation_cam_weights(x, model, 3, channels_per_call=16, progress=False)
    np.testing.assert_allclose(w1, w2, rtol=1e-5, atol=1e-7)


# ---------------------------------------------------------------------------
# Score-CAM
# ---------------------------------------------------------------------------
def test_score_cam_weights_are_a_softmax_of_masked_input_scores(linear_top):
    model, dense, x, acts = linear_top
    c = 2
    _, w = cam.score_cam_weights(x, model, c, masks_per_call=3, progress=False)
    np.testing.assert_allclose(w.sum(axis=1), 1.0, rtol=1e-6)
    blank = model.predict(np.zeros_like(x[:1]))[0, c]
    for i in range(len(x)):
        s = []
        for k in range(toys.CAM_CHANNELS):   # one masked input at a time, SciPy upsampling
            up = ndimage.zoom(acts[i, k].astype(np.float64), 1, order=1)
            m = (up - up.min()) / (up.max() - up.min() + 1e-8)
            s.append(model.predict(x[i:i + 1] * m[None, None].astype(np.float32))[0, c])
        e = np.exp(np.array(s) - max(s))
        np.testing.assert_allclose(w[i], e / e.sum(), rtol=1e-4, atol=1e-7)
        # the dead channel's mask covers nothing: it gets the blank input's weight
        assert np.all(acts[i, toys.CAM_DEAD] == 0)
        assert s[toys.CAM_DEAD] == pytest.approx(blank, rel=1e-6)
        assert w[i, toys.CAM_DEAD] == pytest.approx(np.exp(blank - max(s)) / e.sum(), rel=1e-4)


def test_score_cam_upsamples_with_aligned_corners(tiny):
    model, x = tiny
    a = K.function([model.input], [model.layers[30].input])([x])[0]
    masks = cam.score_cam_masks(a[0], (64, 64))
    for k in np.flatnonzero(a[0].reshape(len(a[0]), -1).ptp(axis=1) > 0)[:3]:
        up = ndimage.zoom(a[0, k].astype(np.float64), 16, order=1, mode="nearest",
                          grid_mode=False)
        np.testing.assert_allclose(masks[k], (up - up.min()) / (up.ptp() + 1e-8), atol=1e-5)
    maps = cam.score_cam(x, model, 4, upsample=False)
    _, w = cam.score_cam_weights(x, model, 4, progress=False)
    np.testing.assert_allclose(maps, np.maximum(np.einsum("nc,ncij->nij", w, a), 0),
                               rtol=1e-5, atol=1e-7)


# ---------------------------------------------------------------------------
# Errors
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("layer", [31, 29, 0, 99, "30", 1.5])
def test_a_layer_that_is_not_a_convolution_output_is_refused(tiny, layer):
    model, x = tiny
    with pytest.raises(ValueError, match="convolution"):
        cam.grad_cam(x, model, 0, layer=layer)


def test_bad_shapes_and_labels_are_refused(tiny):
    model, x = tiny
    with pytest.raises(ValueError, match="shape"):
        cam.grad_cam(x[:, :, :32], model, 0)
    with pytest.raises(ValueError, match="one per image"):
        cam.ablation_cam(x, model, [0, 1, 2])
    with pytest.raises(ValueError, match="class indices"):
        cam.score_cam(x, model, 10)
    with pytest.raises(ValueError, match="weights"):
        cam.weighted_map(np.zeros((1, 2, 3, 3)), np.zeros((1, 3)))


def test_compare_gives_each_methods_maps_and_the_scores_are_the_models(tiny):
    model, x = tiny
    np.testing.assert_allclose(scores.model_scores(model, x), model.predict(x), rtol=1e-5,
                               atol=1e-5)
    labels = [1, 2]
    results = cam.compare(x, model, labels)
    maps = {"Grad-CAM": cam.grad_cam, "Ablation-CAM": cam.ablation_cam, "Score-CAM": cam.score_cam}
    assert list(results) == [e.name for e in registry.cams()] == list(maps)
    for name, f in maps.items():
        np.testing.assert_allclose(results[name].raw, f(x, model, labels, upsample=False),
                                   rtol=1e-5, atol=1e-7)
        np.testing.assert_allclose(results[name].maps, images.scale_maps(results[name].raw,
                                                                      (64, 64)), atol=1e-6)
        assert results[name].seconds > 0
    with pytest.raises(ValueError, match="unknown CAM"):
        cam.compare(x, model, labels, methods=["Grad-CAM++"])

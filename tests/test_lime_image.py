"""LIME through the ``lime`` package (methods/lime_image.py): seeded runs repeat,
the classifier is our preprocessing + model + softmax, the positive superpixels are
those LIME itself reports, and a model that looks only at the left half gets its
positive evidence there."""
import numpy as np
import pytest

import toys
from methods import lime_image

K = toys.K
from keras.models import Sequential  # noqa: E402
from keras.layers import Dense, Flatten  # noqa: E402

SIZE = 64


def _preprocess(images):
    """RGB uint8 (N, S, S, 3) -> (N, 3, S, S) in [0, 1] (a stand-in for world.preprocess)."""
    return (np.asarray(images, np.float32) / 255.0).transpose(0, 3, 1, 2)


@pytest.fixture(scope="module")
def left_half_model():
    """s_0 = 8 * (mean red of the left half) - 2, s_1 = 0: only the left half matters."""
    m = Sequential([Flatten(input_shape=(3, SIZE, SIZE)), Dense(2, activation="linear")])
    w = np.zeros((SIZE, SIZE, 3, 2), np.float32)        # (h, w, c) flatten order
    w[:, :SIZE // 2, 0, 0] = 8.0 / (SIZE * SIZE // 2)
    m.set_weights([w.reshape(-1, 2), np.array([-2.0, 0.0], np.float32)])
    return m


def _image():
    """Four flat quadrants of different colours (clear superpixels), red on the left."""
    im = np.zeros((SIZE, SIZE, 3), np.uint8)
    h = SIZE // 2
    im[:h, :h] = (250, 40, 40)
    im[h:, :h] = (200, 120, 30)
    im[:h, h:] = (30, 60, 220)
    im[h:, h:] = (40, 200, 60)
    return im


def test_the_classifier_is_preprocessing_model_and_softmax(left_half_model):
    im = _image()
    probs = lime_image.classifier_fn(left_half_model, _preprocess)(im[None].astype(float))
    s = left_half_model.predict(_preprocess(im[None]))
    e = np.exp(s - s.max(axis=1, keepdims=True))
    np.testing.assert_allclose(probs, e / e.sum(axis=1, keepdims=True), rtol=1e-5)
    assert probs.sum() == pytest.approx(1.0)


def test_a_seeded_run_repeats_and_its_positive_mask_is_limes(left_half_model):
    from synthetic_world import scenes
    im = np.asarray(scenes.generate(1, 1, "heldout")[0][0], np.uint8)   # a 64x64 scene
    a = lime_image.explain(im, left_half_model, _preprocess, random_seed=3, num_samples=60)
    b = lime_image.explain(im, left_half_model, _preprocess, random_seed=3, num_samples=60)
    assert len(np.unique(a.segments)) > 1
    np.testing.assert_array_equal(a.segments, b.segments)
    np.testing.assert_array_equal(a.weights, b.weights)
    assert a.label in (0, 1) and a.seconds > 0
    _, mask = a.explanation.get_image_and_mask(a.label, positive_only=True,
                                               num_features=10 ** 5, hide_rest=False)
    np.testing.assert_array_equal(a.positive, mask > 0)
    _, against = a.explanation.get_image_and_mask(a.label, positive_only=False,
                                                  negative_only=True, num_features=10 ** 5,
                                                  hide_rest=False)
    np.testing.assert_array_equal(a.negative, against > 0)
    assert not (a.positive & a.negative).any()
    np.testing.assert_array_equal(a.weight_map[a.segments == 0], a.weights[0])


def _quadrants(image):
    """Segmentation into the four quadrants (ids 0, 1 left; 2, 3 right)."""
    h, w = image.shape[0] // 2, image.shape[1] // 2
    seg = np.zeros(image.shape[:2], int)
    seg[h:, :w], seg[:h, w:], seg[h:, w:] = 1, 2, 3
    return seg


def test_positive_evidence_lies_where_the_model_looks(left_half_model):
    im = _image()
    r = lime_image.explain(im, left_half_model, _preprocess, random_seed=0, num_samples=200,
                           segmentation_fn=_quadrants)
    np.testing.assert_array_equal(r.segments, _quadrants(im))
    left = [s for s in np.unique(r.segments) if not (r.segments == s)[:, SIZE // 2:].any()]
    right = [s for s in np.unique(r.segments) if not (r.segments == s)[:, :SIZE // 2].any()]
    assert left == [0, 1] and right == [2, 3]
    assert min(r.weights[left]) > 0.05 > max(abs(r.weights[right]))
    assert r.positive[:, :SIZE // 2].all()


def test_bad_inputs_are_refused(left_half_model):
    with pytest.raises(ValueError, match="RGB uint8"):
        lime_image.explain(_preprocess(_image()[None])[0], left_half_model, _preprocess)
    with pytest.raises(ValueError, match="num_samples"):
        lime_image.explain(_image(), left_half_model, _preprocess, num_samples=1)
    with pytest.raises(ValueError, match="non-empty batch"):
        lime_image.explain_images(np.zeros((0, SIZE, SIZE, 3), np.uint8), left_half_model,
                                  _preprocess)


def test_default_segmentation_is_limes_at_224_px_and_scales_below(left_half_model):
    from lime.lime_image import LimeImageExplainer
    rng = np.random.RandomState(0)
    im = np.kron(rng.randint(0, 255, (14, 14, 3)), np.ones((16, 16, 1))).astype(np.uint8)
    exp = LimeImageExplainer(random_state=5).explain_instance(
        im, lambda b: np.tile([0.5, 0.5], (len(b), 1)), num_samples=2, random_seed=5)
    np.testing.assert_array_equal(lime_image.default_segmentation(224, 5)(im), exp.segments)
    small = lime_image.default_segmentation(64, 5)
    assert small.target_params["kernel_size"] == pytest.approx(4 * 64 / 224)

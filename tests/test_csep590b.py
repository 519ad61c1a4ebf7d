"""The CSEP 590B HW2 functions (methods/csep590b.py) and the pixel baselines
(methods/baselines.py): known answers, completeness, agreement with the chain."""
import hw3_env  # noqa: F401

import numpy as np
import pytest
from scipy import ndimage

import models
from methods import baselines, csep590b as hw
from methods.quantities import probabilities
from toys import pixel_linear_model, smooth_model

SIZE = 16


@pytest.fixture(scope="module")
def model():
    return smooth_model(seed=3, shape=(3, SIZE, SIZE), n_classes=3)


@pytest.fixture(scope="module")
def pictures():
    rng = np.random.RandomState(0)
    return (rng.rand(3, SIZE, SIZE, 3) * 255).astype(np.uint8)


def _scaled(x):
    """Preprocessed pictures are in the hundreds; the toy model wants O(1) inputs."""
    return (x / 64.0).astype(np.float32)


def test_black_and_white_are_the_preprocessed_constant_pictures():
    np.testing.assert_array_equal(baselines.black(SIZE),
                                  models.preprocess(np.zeros((SIZE, SIZE, 3), np.uint8), SIZE)[0])
    np.testing.assert_array_equal(baselines.white(SIZE),
                                  models.preprocess(np.full((SIZE, SIZE, 3), 255, np.uint8), SIZE)[0])
    np.testing.assert_allclose(baselines.black(SIZE)[:, 0, 0], -models.CAFFE_MEAN_BGR)


def test_blurred_baselines(pictures):
    # sigma 0 is the image; blurring commutes with the per-channel affine preprocessing
    np.testing.assert_array_equal(baselines.blurred(pictures, 0),
                                  models.preprocess(pictures, SIZE))
    for sigma in (1.0, 3.0):
        direct = baselines.blur_inputs(models.preprocess(pictures, SIZE), sigma)
        via_pictures = baselines.blurred(pictures, sigma)
        assert np.abs(direct - via_pictures).max() <= 0.5 + 1e-3     # uint8 rounding
        ref = ndimage.gaussian_filter(pictures[0, :, :, 1].astype(np.float64), sigma)
        np.testing.assert_allclose(baselines.blur_images(pictures, sigma)[0, :, :, 1],
                                   ref, atol=0.5 + 1e-3)
    stronger = [np.var(baselines.blur_images(pictures, s).astype(float)) for s in (0, 1, 3)]
    assert stronger[0] > stronger[1] > stronger[2]
    with pytest.raises(ValueError, match="sigma"):
        baselines.blurred(pictures, -1)
    with pytest.raises(ValueError, match="uint8"):
        baselines.blurred(pictures.astype(np.float32), 1)


def test_vanilla_gradients_group_labels_and_match_finite_differences(model, pictures):
    x = _scaled(models.preprocess(pictures, SIZE))
    labels = np.array([2, 0, 2])
    grads = hw.calculate_gradients(x, model, labels)
    for i, t in enumerate(labels):
        alone = hw.calculate_gradients(x[i:i + 1], model, [t])
        np.testing.assert_allclose(grads[i:i + 1], alone, rtol=1e-6, atol=1e-12)
    # finite differences along a random direction: d/de p_t(x + e v) = <grad, v>
    v = np.random.RandomState(1).randn(*x.shape[1:]).astype(np.float32)
    eps = 1e-2
    for i, t in enumerate(labels):
        p = probabilities(model, np.stack([x[i] + eps * v, x[i] - eps * v]))[:, t]
        fd = (p[0] - p[1]) / (2 * eps)
        assert float((grads[i] * v).sum()) == pytest.approx(fd, rel=2e-3, abs=1e-6)
    np.testing.assert_allclose(hw.vanilla_gradients(x, model, labels),
                               np.abs(grads).sum(axis=1), rtol=1e-6)


def test_smoothgrad_with_sigma_zero_is_vanilla_gradients(model, pictures):
    x = _scaled(models.preprocess(pictures, SIZE))
    labels = [0, 1, 2]
    np.testing.assert_allclose(hw.smoothgrad(x, model, labels, samples=3, sigma=0.0),
                               hw.vanilla_gradients(x, model, labels), rtol=1e-5, atol=1e-12)
    noisy = hw.smoothgrad(x, model, labels, samples=3, sigma=0.2)
    assert noisy.shape == (3, SIZE, SIZE) and (noisy >= 0).all()
    assert not np.allclose(noisy, hw.vanilla_gradients(x, model, labels))


@pytest.mark.parametrize("kind", ["black", "white", "blurred"])
def test_integrated_gradients_is_complete_for_each_baseline(model, pictures, kind):
    x = _scaled(models.preprocess(pictures, SIZE))
    base = _scaled({"black": lambda: baselines.black(SIZE),
                    "white": lambda: baselines.white(SIZE),
                    "blurred": lambda: baselines.blurred(pictures, 2.0)}[kind]())
    labels = np.array([1, 1, 0])
    from AumannShapley import AumannShapley
    attr = hw.explain_probability(x, model, labels, AumannShapley(resolution=300),
                                  baseline=base)
    b = np.broadcast_to(base, x.shape)
    p_x = probabilities(model, x)[np.arange(3), labels]
    p_b = probabilities(model, np.ascontiguousarray(b))[np.arange(3), labels]
    total = attr.reshape(3, -1).sum(axis=1, dtype=np.float64)
    change = p_x - p_b
    assert np.abs(change).max() > 1e-3
    np.testing.assert_allclose(total, change, atol=1e-2 * np.abs(change).max())
    # the homework's function: |IG| summed over channels, same steps
    np.testing.assert_allclose(hw.integrated_gradients(x, model, labels, base, steps=300),
                               np.abs(attr).sum(axis=1), rtol=1e-5, atol=1e-12)


def test_homework_removal_functions():
    linear = pixel_linear_model((3, SIZE, SIZE), n_classes=4, seed=5)
    x = np.random.RandomState(2).uniform(1, 2, size=(2, 3, SIZE, SIZE)).astype(np.float32)
    occ = hw.occlusion(x, linear, [0, 3], 0.0, superpixel_size=4)
    assert occ.shape == (2, SIZE, SIZE)
    removed = x[:1].copy()
    removed[:, :, :4, :4] = 0.0
    p_x, p_removed, p_zero = probabilities(
        linear, np.concatenate([x[:1], removed, np.zeros_like(x[:1])]))[:, 0]
    assert occ[0, 0, 0] == pytest.approx(p_x - p_removed, rel=1e-4)
    imp = hw.superpixel_sum(occ, 4)
    assert imp.shape == (2, 4, 4)
    ins, k = hw.insertion(x[:1], linear, imp[:1], 0, 0.0)
    dele, k2 = hw.deletion(x[:1], linear, imp[:1], 0, 0.0)
    np.testing.assert_array_equal(k, np.arange(17))
    np.testing.assert_array_equal(k2, np.arange(17))
    np.testing.assert_allclose([ins[0], ins[-1], dele[0], dele[-1]],
                               [p_zero, p_x, p_x, p_zero], rtol=1e-5)
    # deleting the superpixel with the largest occlusion score first gives the first drop
    # (the reduction sums the 16 equal pixels of each superpixel)
    assert dele[0] - dele[1] == pytest.approx(imp[0].max() / 16, rel=1e-4)
    with pytest.raises(ValueError, match="multiples of superpixel_size=5"):
        hw.occlusion(x, linear, [0, 0], 0.0, superpixel_size=5)
    with pytest.raises(ValueError, match="square superpixels"):
        hw.insertion(x[:1], linear, np.zeros((1, 3, 3)), 0, 0.0)
    with pytest.raises(ValueError, match="does not broadcast"):
        hw.deletion(x[:1], linear, imp[:1], 0, np.zeros((3, 8, 8)))
    with pytest.raises(ValueError, match="does not broadcast"):
        hw.integrated_gradients(x, linear, [0, 0], np.zeros((2, 3, 8, 8)), steps=2)
    with pytest.raises(ValueError, match="target labels"):
        hw.vanilla_gradients(x, linear, [0])


def test_sample50_in_both_worlds():
    import test_data
    from helpers import SHARED_IMAGENET
    syn = test_data.sample50("synthetic")
    assert len(syn) == 50 and syn.images.shape == (50, 64, 64, 3)
    np.testing.assert_array_equal(syn.labels, np.tile(np.arange(10), 5))
    assert syn.masks["object"].shape == (50, 64, 64) and syn.masks["object"].any(axis=(1, 2)).all()
    assert len(set(syn.ids)) == 50
    assert test_data.sample50("synthetic", limit=3).ids == syn.ids[:3]
    rows = [r for r in test_data.read_rows() if r["role"] == test_data.SAMPLE50_ROLE]
    assert [int(r["class_index"]) for r in rows] == list(range(10, 1000, 20))
    assert all(r["url"].startswith("https://raw.githubusercontent.com/EliSchwartz/") for r in rows)
    import os
    if os.path.exists(os.path.join(SHARED_IMAGENET, "manifest.tsv")):
        w = test_data.load_world("imagenet", image_dir=SHARED_IMAGENET)
        real = test_data.sample50(w, limit=2, progress=False)   # sha256-checked on load
        assert real.images.shape == (2, 224, 224, 3) and list(real.labels) == [10, 30]
        assert real.ids == [r["sha256"] for r in rows[:2]]

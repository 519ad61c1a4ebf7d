"""The removal engine (methods/removal.py): occlusion, insertion and deletion against
hand computations on models linear in the pixels, and its errors."""
import hw3_env  # noqa: F401

import numpy as np
import pytest

from methods.removal import (RemovalEngine, auc, check_superpixel_size, random_map,
                             superpixel_sum, upsample)
from toys import pixel_linear_model, pixel_linear_probabilities

SHAPE = (3, 16, 16)
S = 4                     # superpixels of 4x4: a 4x4 grid


def _image(seed=0, low=1.0, high=2.0):
    return np.random.RandomState(seed).uniform(low, high, size=(1,) + SHAPE).astype(np.float32)


@pytest.fixture(scope="module")
def linear():
    return pixel_linear_model(SHAPE, n_classes=4, seed=1)


def test_occlusion_is_nonzero_exactly_on_the_block_the_model_reads():
    support = np.zeros(SHAPE[1:], bool)
    support[4:8, 8:12] = True                              # superpixel (1, 2)
    model = pixel_linear_model(SHAPE, n_classes=3, seed=2, support=support, scale=0.2)
    x = _image(3)
    occ = RemovalEngine(model, S).occlusion(x, [1], baseline=0.0)
    assert occ.shape == (1,) + SHAPE[1:]
    # exactly zero up to float32 rounding (copies in different forward batches)
    assert np.abs(occ[0][~support]).max() < 1e-6
    assert np.abs(occ[0][support]).min() > 1e-2
    removed = x.copy()
    removed[..., support] = 0.0
    p = pixel_linear_probabilities(model, np.concatenate([x, removed]))[:, 1]
    np.testing.assert_allclose(occ[0][support], p[0] - p[1], rtol=1e-5)


def test_occlusion_matches_a_hand_computation(linear):
    x = np.concatenate([_image(4), _image(5)])
    baseline = _image(6, -1, 0)[0]
    targets = [0, 3]
    got = RemovalEngine(linear, S, masks_per_call=5).occlusion(x, targets, baseline)
    for i, t in enumerate(targets):
        p_full = pixel_linear_probabilities(linear, x[i:i + 1])[0, t]
        for a in range(4):
            for b in range(4):
                copy = x[i].copy()
                sl = (slice(None), slice(a * S, (a + 1) * S), slice(b * S, (b + 1) * S))
                copy[sl] = baseline[sl]
                p = pixel_linear_probabilities(linear, copy[None])[0, t]
                np.testing.assert_allclose(got[i][sl[1:]], p_full - p, rtol=1e-4, atol=1e-7)


def test_results_do_not_depend_on_the_batch_size(linear):
    x = np.concatenate([_image(7), _image(8), _image(9)])
    runs = [RemovalEngine(linear, S, masks_per_call=bs).occlusion(x, [0, 1, 2], 0.5)
            for bs in (1, 7, 1000)]
    np.testing.assert_array_equal(runs[0], runs[1])
    np.testing.assert_array_equal(runs[0], runs[2])


def _hand_curve(model, x, importance, t, baseline, kind):
    """The curve by explicit loops: superpixels sorted by (-importance, index)."""
    n = importance.size
    order = sorted(range(n), key=lambda j: (-importance.ravel()[j], j))
    start, source = (baseline, x[0]) if kind == "insertion" else (x[0], baseline)
    img = np.array(np.broadcast_to(start, x.shape[1:]), dtype=np.float32)
    curve = [pixel_linear_probabilities(model, img[None])[0, t]]
    for j in order:
        a, b = divmod(j, importance.shape[1])
        sl = (slice(None), slice(a * S, (a + 1) * S), slice(b * S, (b + 1) * S))
        img[sl] = np.broadcast_to(source, x.shape[1:])[sl]
        curve.append(pixel_linear_probabilities(model, img[None])[0, t])
    return np.array(curve)


@pytest.mark.parametrize("kind", ["insertion", "deletion"])
def test_insertion_and_deletion_match_a_hand_computation(linear, kind):
    x = _image(10)
    baseline = _image(11, -2, -1)[0]
    importance = np.random.RandomState(12).randn(1, 4, 4)
    importance[0, 0, :2] = importance[0, 3, 3]               # ties keep index order
    engine = RemovalEngine(linear, S, masks_per_call=3)
    curve, num = engine.curve(x, importance, 2, baseline, kind)
    np.testing.assert_array_equal(num, np.arange(17))
    ref = _hand_curve(linear, x, importance[0], 2, baseline, kind)
    np.testing.assert_allclose(curve, ref, rtol=1e-5, atol=1e-8)
    p_img, p_base = pixel_linear_probabilities(linear, np.concatenate([x, baseline[None]]))[:, 2]
    ends = (p_base, p_img) if kind == "insertion" else (p_img, p_base)
    np.testing.assert_allclose(curve[[0, -1]], ends, rtol=1e-5)


def test_a_step_keeps_the_points_of_the_full_curve(linear):
    x = _image(13)
    importance = np.random.RandomState(14).randn(4, 4)
    engine = RemovalEngine(linear, S)
    full, _ = engine.curve(x, importance, 1, 0.0, "deletion")
    coarse, num = engine.curve(x, importance, 1, 0.0, "deletion", step=5)
    np.testing.assert_array_equal(num, [0, 5, 10, 15, 16])
    np.testing.assert_allclose(coarse, full[num], rtol=1e-6)


def test_auc_is_the_trapezoid_rule_over_the_fraction_of_features():
    k = np.arange(0, 17)
    assert auc(np.full(17, 0.3), k) == pytest.approx(0.3)
    assert auc(k / 16.0, k) == pytest.approx(0.5)
    y = np.random.RandomState(0).rand(17)
    assert auc(y, k) == pytest.approx(np.trapz(y, k / 16.0))
    k5 = np.array([0, 5, 10, 15, 16])
    assert auc(np.array([0, 1, 1, 1, 1.0]), k5) == pytest.approx(1 - 0.5 * 5 / 16)
    with pytest.raises(ValueError, match="same length"):
        auc([1.0, 2.0], [0, 1, 2])


def test_superpixel_sum_and_upsample():
    maps = np.random.RandomState(1).randn(2, 8, 12)
    got = superpixel_sum(maps, 4)
    assert got.shape == (2, 2, 3)
    for i in range(2):
        for a in range(2):
            for b in range(3):
                assert got[i, a, b] == pytest.approx(maps[i, 4 * a:4 * a + 4, 4 * b:4 * b + 4].sum(),
                                                     rel=1e-5)
    np.testing.assert_array_equal(superpixel_sum(upsample(got, 4), 4), got * 16)


def test_random_map_is_seeded_gaussian_noise():
    a, b, c = random_map((3, 64, 64), seed=0), random_map((3, 64, 64), seed=0), \
        random_map((3, 64, 64), seed=1)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    assert a.dtype == np.float32 and abs(a.mean()) < 0.02 and abs(a.std() - 1) < 0.02


def test_clear_errors(linear):
    with pytest.raises(ValueError, match="multiples of superpixel_size=5"):
        RemovalEngine(linear, 5)
    with pytest.raises(ValueError, match="multiples of superpixel_size=3"):
        superpixel_sum(np.zeros((1, 16, 16)), 3)
    with pytest.raises(ValueError, match="positive int"):
        check_superpixel_size(0, (16, 16))
    engine = RemovalEngine(linear, S)
    x = _image(15)
    with pytest.raises(ValueError, match="importance must be"):
        engine.curve(x, np.zeros((1, 8, 8)), 0, 0.0, "insertion")
    with pytest.raises(ValueError, match="does not broadcast"):
        engine.occlusion(x, [0], np.zeros((3, 8, 8)))
    with pytest.raises(ValueError, match="step"):
        engine.curve(x, np.zeros((4, 4)), 0, 0.0, "deletion", step=0)
    with pytest.raises(ValueError, match="class index"):
        engine.occlusion(x, [4], 0.0)
    with pytest.raises(ValueError, match="preprocessed model inputs"):
        engine.occlusion(np.zeros((1, 3, 8, 8)), [0], 0.0)

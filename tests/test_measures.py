"""The comparison's measures on hand-made maps and masks with known answers."""
import numpy as np
import pytest

from evaluation import measures as M


def _mask(h=8, w=8, rows=slice(2, 4), cols=slice(2, 6)):
    m = np.zeros((1, h, w), bool)
    m[0, rows, cols] = True
    return m


def test_map_equal_to_mask_is_perfect_and_complement_is_worst():
    mask = _mask()
    share = mask.mean()
    same = mask.astype(float)
    assert M.localisation(same, mask)[0] == pytest.approx(1 / share)
    assert M.pointing_game(same, mask)[0] == 1.0
    comp = (~mask).astype(float)
    assert M.localisation(comp, mask)[0] == 0.0
    assert M.pointing_game(comp, mask)[0] == 0.0


def test_uniform_map_scores_chance():
    mask = _mask()
    flat = np.ones(mask.shape)
    assert M.localisation(flat, mask)[0] == pytest.approx(1.0)
    assert M.pointing_game(flat, mask)[0] == pytest.approx(mask.mean())


def test_single_maximum_inside_or_outside():
    mask = _mask()
    inside, outside = np.zeros(mask.shape), np.zeros(mask.shape)
    inside[0, 3, 3] = 5.0
    outside[0, 7, 7] = 5.0
    assert M.pointing_game(inside, mask)[0] == 1.0 and M.pointing_game(outside, mask)[0] == 0.0
    assert M.localisation(inside, mask)[0] == pytest.approx(1 / mask.mean())
    assert M.localisation(outside, mask)[0] == 0.0


def test_pixel_attributions_are_reduced_by_the_channel_sum():
    mask = _mask()
    rgb = np.zeros((1, 3, 8, 8))
    rgb[0, 0, 3, 3], rgb[0, 1, 3, 3], rgb[0, 2, 0, 0] = 2.0, 2.0, 3.0   # 4 in, 3 out
    assert M.pointing_game(rgb, mask)[0] == 1.0
    assert M.localisation(rgb, mask)[0] == pytest.approx(4 / 7 / mask.mean())


def test_mask_method_scores_best_on_every_mask_measure():
    rng = np.random.default_rng(0)
    masks = np.zeros((12, 16, 16), bool)
    for i in range(12):
        r, c = rng.integers(0, 10, 2)
        masks[i, r:r + 5, c:c + 6] = True
    others = {"random": rng.standard_normal(masks.shape),
              "blur": masks + 0.8 * rng.random(masks.shape),
              "shifted": np.roll(masks, 3, axis=2).astype(float)}
    best = {"localisation": M.localisation(masks.astype(float), masks).mean(),
            "pointing": M.pointing_game(masks.astype(float), masks).mean(),
            "part": M.part_truth(masks.astype(float), masks).mean()}
    for maps in others.values():
        assert M.localisation(maps, masks).mean() < best["localisation"]
        assert M.pointing_game(maps, masks).mean() <= best["pointing"]
        assert M.part_truth(maps, masks).mean() < best["part"]


def test_random_map_localisation_is_about_one():
    rng = np.random.default_rng(1)
    masks = np.zeros((200, 32, 32), bool)
    masks[:, 8:20, 4:30] = True
    ratio = M.localisation(rng.standard_normal(masks.shape), masks)
    assert abs(np.mean(ratio) - 1.0) < 0.03


def test_randomisation_correlation():
    rng = np.random.default_rng(2)
    a = rng.standard_normal((3, 10, 10))
    assert np.allclose(M.randomisation_correlation(a, a), 1.0)
    assert np.allclose(M.randomisation_correlation(a, -a), -1.0)
    assert np.allclose(M.randomisation_correlation(a, 2 * a + 1), 1.0)   # ranks only
    assert np.allclose(M.randomisation_correlation(a, -a, absolute=True), 1.0)
    flat = M.randomisation_correlation(np.ones((1, 4, 4)), a[:1, :4, :4])
    assert np.isnan(flat[0])


def test_bootstrap_contains_the_mean_and_narrows_with_more_images():
    rng = np.random.default_rng(3)
    small, large = rng.normal(1.0, 1.0, 20), rng.normal(1.0, 1.0, 500)
    m1, lo1, hi1 = M.bootstrap_interval(small)
    m2, lo2, hi2 = M.bootstrap_interval(large)
    assert lo1 < m1 < hi1 and lo2 < m2 < hi2
    assert m1 == pytest.approx(small.mean()) and (hi2 - lo2) < (hi1 - lo1) / 2
    # the half-width is near the normal theory's 1.96 s / sqrt(n)
    assert (hi2 - lo2) / 2 == pytest.approx(1.96 * large.std() / np.sqrt(500), rel=0.15)
    assert M.bootstrap_interval(small, seed=5) == M.bootstrap_interval(small, seed=5)
    assert np.isnan(M.bootstrap_interval([np.nan, np.nan])[0])
    assert M.bootstrap_interval([1.0, np.nan, 3.0])[0] == 2.0
    assert M.summarise([np.nan]) == "n/a" and M.summarise(small).count("[") == 1


def test_bad_input_errors():
    with pytest.raises(ValueError, match="maps must be"):
        M.localisation(np.zeros((8, 8)), _mask())
    with pytest.raises(ValueError, match="differ in shape"):
        M.pointing_game(np.zeros((1, 4, 4)), _mask())
    with pytest.raises(ValueError, match="boolean"):
        M.localisation(np.zeros((1, 8, 8)), _mask().astype(int))
    with pytest.raises(ValueError, match="level"):
        M.bootstrap_interval([1.0, 2.0], level=95)

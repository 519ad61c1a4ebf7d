"""Model compression (Part IV): channel selection, masking, recall/precision, the grid
and the whole experiment, on tiny models with known answers."""
import math

import matplotlib
matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

import compression as cp  # noqa: E402
import models  # noqa: E402
import toys  # noqa: E402
from AumannShapley import AumannShapley  # noqa: E402
from Explanation import Explanation  # noqa: E402

K = toys.K


@pytest.fixture(scope="module")
def vgg():
    return toys.tiny_vgg()


@pytest.fixture(scope="module")
def vgg_slice(vgg):
    return Explanation(vgg, AumannShapley(resolution=4)).for_layer(models.CONV4_1)


@pytest.fixture(scope="module")
def toy():
    return toys.class_channel_model()


@pytest.fixture(scope="module")
def toy_slice(toy):
    return Explanation(toy, AumannShapley(resolution=4)).for_layer(toys.CLASS_CHANNEL_SLICE)


def toy_heldout(n=4, seed=10):
    """n held-out inputs of each object class 0..2, and their labels."""
    x = np.concatenate([toys.class_channel_inputs(c, n, seed + c) for c in range(3)])
    return x, np.repeat(np.arange(3), n)


# -- the toy model is what it claims to be ------------------------------------------
def test_class_channel_toy_matches_its_formula(toy):
    x, y = toy_heldout()
    s = toy.predict(x)
    np.testing.assert_allclose(s, toys.class_channel_scores(x), rtol=1e-5, atol=1e-4)
    assert (s.argmax(1) == y).all()


# -- compression ---------------------------------------------------------------------
def test_keeping_every_channel_is_the_model(vgg, vgg_slice):
    x = toys.random_inputs(vgg, 3, seed=1, scale=50)
    z = vgg_slice.h(x)
    C = vgg_slice.shape[0]
    full = cp.compress(vgg_slice, np.arange(C)).scores(z)
    np.testing.assert_array_equal(full, vgg_slice.g(z))
    ref = vgg.predict(x)
    np.testing.assert_allclose(full, ref, rtol=1e-4, atol=1e-4 * np.abs(ref).max())
    assert np.abs(ref).max() > 0
    np.testing.assert_array_equal(cp.predict(vgg_slice, z), ref.argmax(1))


def test_keeping_no_channel_is_g_of_zero(vgg, vgg_slice):
    z = vgg_slice.h(toys.random_inputs(vgg, 3, seed=2, scale=50))
    none = cp.compress(vgg_slice, []).scores(z)
    g0 = vgg_slice.g(np.zeros((1,) + vgg_slice.shape, np.float32))
    np.testing.assert_allclose(none, np.repeat(g0, 3, axis=0), rtol=1e-6, atol=1e-6)


def test_mask_zeroes_exactly_the_dropped_channels(vgg, vgg_slice):
    """g(m * z) equals g of activations whose dropped channels were zeroed by hand."""
    z = vgg_slice.h(toys.random_inputs(vgg, 2, seed=3, scale=50))
    keep = [1, 4, 9]
    by_hand = np.zeros_like(z)
    by_hand[:, keep] = z[:, keep]
    model = cp.compress(vgg_slice, [9, 1, 4])
    assert model.channels.tolist() == keep and model.mask.sum() == 3
    np.testing.assert_array_equal(model.scores(z), vgg_slice.g(by_hand))


# -- selection -----------------------------------------------------------------------
SCORES = np.array([0.5, -1.0, 2.0, -1.0, 0.0, 2.0, -3.0, 0.1])
# descending, ties by index: 2, 5, 0, 7, 4, 1, 3, 6; ascending: 6, 1, 3, 4, 7, 0, 2, 5


@pytest.mark.parametrize("t,b,top,bottom", [
    (2, 2, [2, 5], [6, 1]),
    (0, 3, [], [6, 1, 3]),
    (3, 0, [2, 5, 0], []),
    (0, 0, [], []),
    (6, 5, [2, 5, 0, 7, 4, 1], [6, 3]),      # clipped: b -> C - t
    (9, 4, [2, 5, 0, 7, 4, 1, 3, 6], []),    # clipped: t -> C
])
def test_select_channels_follows_the_ranking(t, b, top, bottom):
    got_top, got_bottom = cp.select_channels(SCORES, t, b)
    assert got_top.tolist() == top and got_bottom.tolist() == bottom
    assert cp.kept_channels(SCORES, t, b).tolist() == sorted(top + bottom)


def test_kept_channels_sizes_and_disjointness_on_random_scores():
    rng = np.random.RandomState(0)
    for C in (1, 5, 16):
        scores = np.round(rng.randn(C), 1)           # rounding makes ties
        for t in range(C + 2):
            for b in range(C + 2):
                top, bottom = cp.select_channels(scores, t, b)
                assert len(top) == min(t, C) and len(bottom) == min(b, C - min(t, C))
                assert not set(top.tolist()) & set(bottom.tolist())
                rest = np.setdiff1d(np.arange(C), top)
                if len(top) and len(rest):
                    assert scores[top].min() >= scores[rest].max()
                others = np.setdiff1d(rest, bottom)
                if len(bottom) and len(others):
                    assert scores[bottom].max() <= scores[others].min()
                kept = cp.kept_channels(scores, t, b)
                assert (np.diff(kept) > 0).all() and len(kept) == len(top) + len(bottom)


def test_all_tied_scores_stay_disjoint():
    top, bottom = cp.select_channels(np.zeros(4), 2, 2)
    assert top.tolist() == [0, 1] and bottom.tolist() == [2, 3]


def test_bottom_scores_rank_the_bottom_side():
    a = np.zeros((3, 2, 2))
    a[0, 0, 0], a[0, 1, 1] = 1.0, -5.0      # max 1, min -5
    a[1] = -0.5                              # max -0.5, min -0.5
    a[2, 0, 0] = 2.0                         # max 2, min 0
    by_max = cp.channel_scores(a, "max")
    by_min = cp.channel_scores(a, "min")
    np.testing.assert_allclose(by_max, [1.0, -0.5, 2.0])
    np.testing.assert_allclose(by_min, [-5.0, -0.5, 0.0])
    assert cp.select_channels(by_max, 1, 1)[1].tolist() == [1]
    assert cp.select_channels(by_max, 1, 1, bottom_scores=by_min)[1].tolist() == [0]


def test_default_grid():
    assert cp.default_grid(16) == (0, 1, 2, 4, 8, 16)
    assert cp.default_grid(12) == (0, 1, 2, 4, 8, 12)
    assert cp.default_grid(512) == (0, 1, 2, 4, 8, 16, 32, 64, 128, 256, 512)
    assert cp.default_grid(1) == (0, 1)


# -- recall and precision --------------------------------------------------------------
def test_recall_and_precision_by_hand():
    pred = np.array([1, 1, 0, 0, 1, 0], bool)
    true = np.array([1, 0, 1, 0, 1, 1], bool)
    assert cp.recall(pred, true) == pytest.approx(2 / 4)
    assert cp.precision(pred, true) == pytest.approx(2 / 3)
    assert cp.recall([1, 1], [1, 1]) == 1.0 and cp.precision([0, 1], [1, 1]) == 1.0


def test_recall_without_positives_and_precision_without_predictions_are_nan():
    assert math.isnan(cp.recall(np.array([True, False]), np.array([False, False])))
    assert math.isnan(cp.precision(np.array([False, False]), np.array([True, False])))
    assert cp.recall(np.array([False, False]), np.array([True, False])) == 0.0


# -- the known answer: one channel carries the class ------------------------------------
@pytest.mark.parametrize("c", [0, 2])
def test_class_influence_finds_the_class_channel(toy_slice, c):
    x = toys.class_channel_inputs(c, 5, seed=c)
    scores, data = cp.class_influence(toy_slice, x, c)
    assert data.attribution.shape == toy_slice.shape
    top, bottom = cp.select_channels(scores, 1, 1)
    assert top.tolist() == [c] and bottom.tolist() == [toys.CLASS_CHANNEL_INHIBITOR]
    # g is linear on the path, so the attribution is exact: w * z, mean over images
    z = toy_slice.h(x).mean(0)
    np.testing.assert_allclose(data.attribution[c], z[c], rtol=1e-5)
    np.testing.assert_allclose(data.attribution[toys.CLASS_CHANNEL_INHIBITOR],
                               -0.5 * z[toys.CLASS_CHANNEL_INHIBITOR], rtol=1e-5)


def test_keeping_the_class_channel_keeps_recall(toy_slice):
    c = 1
    x, y = toy_heldout()
    z = toy_slice.h(x)
    only_c = cp.compress(toy_slice, [c]).is_class(z, c)
    assert cp.recall(only_c, y == c) == 1.0 and cp.precision(only_c, y == c) == 1.0
    nothing = cp.compress(toy_slice, []).is_class(z, c)
    assert cp.recall(nothing, y == c) == 0.0 and math.isnan(cp.precision(nothing, y == c))


# -- the grid -----------------------------------------------------------------------------
def test_grid_on_the_toy_known_answers(toy_slice):
    c = 1
    x, y = toy_heldout()
    z = toy_slice.h(x)
    scores, _ = cp.class_influence(toy_slice, toys.class_channel_inputs(c, 4, seed=3), c)
    grid = cp.recall_grid(toy_slice, z, y, c, scores, progress=False)
    assert grid.tops == grid.bottoms == (0, 1, 2, 4)
    assert grid.recall.shape == grid.precision.shape == grid.kept.shape == (4, 4)
    assert grid.recall[0, 0] == 0.0 and math.isnan(grid.precision[0, 0])
    assert grid.recall[1, 0] == 1.0 and grid.precision[1, 0] == 1.0
    assert grid.recall[0, 1] == 0.0            # the inhibitor alone says "background"
    assert grid.n_class == 4 and grid.n_total == 12 and grid.seconds > 0
    assert grid.kept[-1, -1] == 4 and grid.kept[2, 3] == 4 and grid.kept[1, 2] == 3
    best = grid.best()
    assert (best["top"], best["bottom"], best["kept"]) == (1, 0, 1)
    assert best["recall"] == 1.0 and best["precision"] == 1.0
    quick = cp.recall_grid(toy_slice, z, y, c, scores, progress=False, with_precision=False)
    np.testing.assert_array_equal(quick.recall, grid.recall)
    assert np.isnan(quick.precision).all() and (quick.n_class, quick.n_total) == (4, 12)


def test_grid_last_cell_is_the_original_model(vgg, vgg_slice):
    x = toys.random_inputs(vgg, 6, seed=4, scale=50)
    z = vgg_slice.h(x)
    original = vgg.predict(x).argmax(1)
    c = int(original[0])
    labels = np.where(np.arange(6) % 2 == 0, c, (c + 1) % 10)
    scores = np.random.RandomState(0).randn(vgg_slice.shape[0])
    grid = cp.recall_grid(vgg_slice, z, labels, c, scores, tops=(0, 2, 16),
                          bottoms=(0, 3, 16), progress=False)
    assert grid.recall.shape == (3, 3)
    want_r = cp.recall(original == c, labels == c)
    want_p = cp.precision(original == c, labels == c)
    for i, j in ((2, 2), (2, 0), (0, 2)):            # every cell that keeps all 16
        assert grid.kept[i, j] == 16
        assert grid.recall[i, j] == want_r
        assert grid.precision[i, j] == pytest.approx(want_p, nan_ok=True)
    finite = grid.recall[~np.isnan(grid.recall)]
    assert ((finite >= 0) & (finite <= 1)).all()


def test_best_cell_tie_breaks():
    tops, bottoms = (0, 1, 2), (0, 1)
    r = np.array([[0.5, 0.9], [0.9, 0.9], [np.nan, 0.9]])
    p = np.array([[1.0, 0.5], [0.8, 0.7], [1.0, 0.9]])
    best = cp.best_cell(r, p, tops, bottoms)
    # recall 0.9 at (0,1), (1,0) (kept 1) and (1,1), (2,1) (kept 2, 3): the higher
    # precision among the kept-1 cells wins.
    assert (best["top"], best["bottom"], best["precision"]) == (1, 0, 0.8)
    all_nan = cp.best_cell(np.full((3, 2), np.nan), p, tops, bottoms)
    assert (all_nan["top"], all_nan["bottom"]) == (0, 0)


# -- the experiment and Table 1 -------------------------------------------------------
def test_compression_experiment_on_the_toy(toy_slice, toy):
    classes = [2, 0, 1]
    influence = {c: toys.class_channel_inputs(c, 3, seed=20 + c) for c in classes}
    heldout = [toys.class_channel_inputs(c, 4, seed=30 + c) for c in classes]
    result = cp.compression_experiment(toy_slice, influence, heldout, classes,
                                       ["two", "zero", "one"], progress=False)
    assert [r["class_index"] for r in result.rows] == classes
    assert result.labels.tolist() == np.repeat(classes, 4).tolist()
    np.testing.assert_array_equal(result.predictions,
                                  toy.predict(np.concatenate(heldout)).argmax(1))
    for row in result.rows:
        assert row["original_recall"] == 1.0 and row["recall"] == 1.0
        assert row["precision"] == 1.0
        assert (row["top"], row["bottom"], row["kept"]) == (1, 0, 1)
        assert row["channels"] == [row["class_index"]]
    assert set(result.grids) == set(classes) and result.grids[2].recall.shape == (4, 4)
    text = cp.table1(result.rows)
    lines = text.splitlines()
    assert len(lines) == 2 + len(classes)
    assert "original recall" in lines[0] and "compressed precision" in lines[0]
    assert lines[2].startswith("two") and "1.000" in lines[2]


def test_precision_grid_for_the_first_class_only(toy_slice):
    classes = [0, 1]
    sets = [toys.class_channel_inputs(c, 3, seed=40 + c) for c in classes]
    full = cp.compression_experiment(toy_slice, sets, sets, classes, progress=False)
    first = cp.compression_experiment(toy_slice, sets, sets, classes,
                                      precision_grids="first", progress=False)
    assert not np.isnan(first.grids[0].precision).all()
    assert np.isnan(first.grids[1].precision).all()
    np.testing.assert_array_equal(first.grids[1].recall, full.grids[1].recall)
    for a, b in zip(full.rows, first.rows):
        for key in ("recall", "precision", "top", "bottom", "kept", "channels"):
            assert a[key] == b[key], key
    assert first.rows[1]["channels"] == [1] and first.rows[1]["precision"] == 1.0


def test_table1_prints_undefined_as_na():
    row = {"class": "tench", "original_recall": 0.5, "recall": 0.25,
           "precision": float("nan"), "top": 4, "bottom": 0, "kept": 4}
    text = cp.table1([row])
    assert "n/a" in text and "0.250" in text and "tench" in text


# -- bad input ----------------------------------------------------------------------------
def test_bad_inputs_raise(vgg_slice):
    C = vgg_slice.shape[0]
    z = np.zeros((2,) + vgg_slice.shape, np.float32)
    scores = np.arange(C, dtype=float)
    with pytest.raises(ValueError, match="top must be a non-negative int"):
        cp.kept_channels(scores, -1, 0)
    with pytest.raises(ValueError, match="bottom must be a non-negative int"):
        cp.kept_channels(scores, 0, -2)
    with pytest.raises(ValueError, match="top must be a non-negative int"):
        cp.kept_channels(scores, 1.5, 0)
    with pytest.raises(ValueError, match="scores must be a non-empty 1-D"):
        cp.kept_channels(np.zeros((2, 2)), 1, 1)
    with pytest.raises(ValueError, match="NaN"):
        cp.kept_channels(np.array([1.0, np.nan]), 1, 1)
    with pytest.raises(ValueError, match="bottom_scores has 3 entries"):
        cp.kept_channels(scores, 1, 1, bottom_scores=np.zeros(3))
    with pytest.raises(ValueError, match="outside the slice's 16 channels"):
        cp.compress(vgg_slice, [0, C])
    with pytest.raises(ValueError, match="outside the slice's"):
        cp.compress(vgg_slice, [-1])
    with pytest.raises(ValueError, match="slice activations must have shape"):
        cp.compress(vgg_slice, [0]).scores(np.zeros((2, 3, 8, 8), np.float32))
    with pytest.raises(ValueError, match="same shape"):
        cp.recall(np.ones(3, bool), np.ones(4, bool))
    with pytest.raises(ValueError, match="boolean"):
        cp.precision(np.array([0, 2]), np.array([1, 1]))
    with pytest.raises(ValueError, match="labels must be 2 integer"):
        cp.recall_grid(vgg_slice, z, [0, 1, 2], 0, scores, progress=False)
    with pytest.raises(ValueError, match="scores has 3 entries but the slice has 16"):
        cp.recall_grid(vgg_slice, z, [0, 1], 0, np.zeros(3), progress=False)
    with pytest.raises(ValueError, match="class index 10"):
        cp.recall_grid(vgg_slice, z, [0, 1], 10, scores, progress=False)
    with pytest.raises(ValueError, match="tops entries must be a non-negative int"):
        cp.recall_grid(vgg_slice, z, [0, 1], 0, scores, tops=(0, -1), progress=False)
    with pytest.raises(ValueError, match="shape \\(len\\(tops\\), len\\(bottoms\\)\\)"):
        cp.best_cell(np.zeros((3, 2)), np.zeros((3, 2)), (0, 1), (0, 1))
    with pytest.raises(ValueError, match="by must be one of"):
        cp.channel_scores(np.zeros((2, 2, 2)), "median")
    with pytest.raises(ValueError, match="n_channels must be >= 1"):
        cp.default_grid(0)
    with pytest.raises(ValueError, match="a Table 1 row lacks"):
        cp.table1([{"class": "x"}])


def test_experiment_bad_inputs_raise(toy_slice):
    x = toys.class_channel_inputs(0, 2)
    with pytest.raises(ValueError, match="heldout_sets has 1 entries but there are 2"):
        cp.compression_experiment(toy_slice, [x, x], [x], [0, 1], progress=False)
    with pytest.raises(ValueError, match="influence_sets has no entry for classes \\[1\\]"):
        cp.compression_experiment(toy_slice, {0: x}, [x, x], [0, 1], progress=False)
    with pytest.raises(ValueError, match="class_names has 4 entries"):
        cp.compression_experiment(toy_slice, [x, x], [x, x], [0, 1],
                                  class_names=["a", "b", "c", "d"], progress=False)
    with pytest.raises(ValueError, match="distinct"):
        cp.compression_experiment(toy_slice, [x, x], [x, x], [0, 0], progress=False)
    with pytest.raises(ValueError, match="precision_grids must be one of"):
        cp.compression_experiment(toy_slice, [x], [x], [0], precision_grids="some",
                                  progress=False)
    with pytest.raises(ValueError, match="by and bottom_by must be among"):
        cp.compression_experiment(toy_slice, [x], [x], [0], bottom_by="median",
                                  progress=False)
    with pytest.raises(ValueError, match="class index 7"):
        cp.compression_experiment(toy_slice, [x], [x], [7], progress=False)

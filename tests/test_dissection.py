"""Network dissection (evaluation/dissection.py) and IoU (evaluation/overlap.py):
known answers on a planted unit and a constant unit, a brute-force reference with
scikit-image's resize, and clear errors."""
import numpy as np
import pytest

import toys
from evaluation import dissection, overlap


# ---------------------------------------------------------------------------
# IoU
# ---------------------------------------------------------------------------
def test_iou_of_identical_disjoint_and_half_overlapping_masks():
    a = np.zeros((6, 6), bool)
    a[1:3, 1:4] = True
    b = np.zeros((6, 6), bool)
    b[4:, 4:] = True
    assert overlap.iou(a, a) == 1.0
    assert overlap.iou(a, b) == 0.0
    c = np.zeros((6, 6), bool)
    c[1:3, 2:5] = True                   # 4 shared of 8 in the union
    assert overlap.iou(a, c) == pytest.approx(0.5)
    batch = overlap.iou(np.stack([a, a, a]), np.stack([a, b, c]))
    np.testing.assert_allclose(batch, [1.0, 0.0, 0.5])
    assert np.isnan(overlap.iou(np.zeros((3, 3), bool), np.zeros((3, 3), bool)))


def test_binarize_thresholds_scaled_maps_and_rejects_unscaled_ones():
    m = np.array([[0.0, 0.49], [0.5, 1.0]])
    np.testing.assert_array_equal(overlap.binarize(m), [[False, False], [True, True]])
    with pytest.raises(ValueError, match="scaled to"):
        overlap.binarize(m * 3)
    with pytest.raises(ValueError, match="boolean"):
        overlap.iou(m, m)
    with pytest.raises(ValueError, match="differ in shape"):
        overlap.iou(np.zeros((2, 2), bool), np.zeros((3, 3), bool))


def test_iou_table_gives_rows_and_the_mean():
    a = np.ones((2, 2, 2), bool)
    b = a.copy()
    b[1] = False
    rows, mean = overlap.iou_table(["x", "y"], a, b)
    assert rows == [("x", 1.0), ("y", 0.0)] and mean == 0.5


# ---------------------------------------------------------------------------
# Dissection
# ---------------------------------------------------------------------------
def _squares(n, seed=0):
    """n probe images whose channel 0 holds a random square (the concept 'square')
    and the concept 'corner' (the top-left 2x2, disjoint from the squares)."""
    rng = np.random.RandomState(seed)
    C, H, W = toys.DISSECT_INPUT
    x = np.zeros((n, C, H, W), np.float32)
    square = np.zeros((n, H, W), bool)
    for i in range(n):
        r, c = rng.randint(3, 6, size=2)
        square[i, r:r + 3, c:c + 3] = True
    x[:, 0] = square
    x[:, 1:] = rng.rand(n, C - 1, H, W)
    corner = np.zeros((n, H, W), bool)
    corner[:, :2, :2] = True
    return x, {"square": square, "corner": corner}


def test_a_planted_unit_is_labelled_with_its_concept_and_a_constant_unit_with_nothing():
    model = toys.planted_unit_model()
    x, masks = _squares(12)
    r = dissection.dissect_layer(model, x, masks, 1, name="planted")
    assert r.concepts == ["square", "corner"]
    assert r.labels == ["square", None]
    assert r.iou[0, 0] == pytest.approx(1.0) and r.iou[0, 1] == 0.0
    np.testing.assert_array_equal(r.iou[1], 0.0)     # T equals the unit's minimum
    assert r.n_detectors == 1 and r.concept_counts() == {"square": 1}
    table = dissection.units_table([r], units=(0, 1))
    assert "**square** (IoU 1.00)" in table and "none (-)" in table
    assert r.unit_area[0] == masks["square"].sum() and r.unit_area[1] == 0
    np.testing.assert_array_equal(r.concept_area, [masks["square"].sum(), masks["corner"].sum()])
    assert r.iou_bound("square")[0] == 1.0 and r.iou_bound("square")[1] == 0.0
    assert r.iou_bound("corner")[0] == pytest.approx(48 / 108)     # 4 of 9 pixels a scene


def test_descriptions_csv_has_one_row_per_unit(tmp_path):
    import csv
    model = toys.planted_unit_model()
    x, masks = _squares(12)
    r = dissection.dissect_layer(model, x, masks, 1, name="planted")
    path = tmp_path / "sub" / "descriptions.csv"
    assert dissection.write_descriptions([r, r], str(path)) == 4
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    assert tuple(rows[0]) == dissection.DESCRIPTION_COLUMNS
    assert [(row["layer"], int(row["unit"])) for row in rows] == [("planted", 0), ("planted", 1)] * 2
    assert rows[0]["concept"] == "square" and float(rows[0]["iou"]) == pytest.approx(1.0)
    assert rows[0]["detector"] == "True"
    assert rows[1]["concept"] == "" and float(rows[1]["iou"]) == 0.0    # fires everywhere
    assert rows[1]["detector"] == "False"


def _hand_made(name, labels, concepts=("a", "b", "c", "background: stripes")):
    """A LayerDissection with the given unit labels (None: no detector)."""
    k = len(labels)
    iou = np.zeros((k, len(concepts)))
    for u, lab in enumerate(labels):
        if lab is not None:
            iou[u, list(concepts).index(lab)] = 0.5
    return dissection.LayerDissection(1, name, list(concepts), np.zeros(k), iou, list(labels))


def test_shared_and_exclusive_concepts_and_duplicates_on_hand_made_labels():
    a = [_hand_made("l1", ["a", "a", None]), _hand_made("l2", ["b", None, "a"])]
    b = [_hand_made("l1", ["b", "c", "c"]), _hand_made("l2", ["background: stripes", None, None])]
    shared, only_a, only_b = dissection.shared_concepts(a, b)
    assert (shared, only_a, only_b) == (["b"], ["a"], ["background: stripes", "c"])
    assert dissection.shared_concepts({"x", "y"}, ["y", "z"]) == (["y"], ["x"], ["z"])
    assert [dissection.duplicates(r) for r in a] == [1, 0]     # 'a' twice in l1
    assert [dissection.duplicates(r) for r in b] == [1, 0]
    text = dissection.comparison_markdown(("A", a), ("B", b))
    assert "1 concept is detected by both" in text and "2 only by the B network" in text
    assert "the B network gives a larger share of its detectors to the scene (25% " in text
    assert "Both networks have 1 duplicate unit:" in text
    flipped = dissection.comparison_markdown(("B", b), ("A", a))
    assert "gives a smaller share of its detectors to the scene" in flipped


def test_iou_over_the_probe_set_matches_a_brute_force_reference():
    from skimage.transform import resize
    from methods.scores import point_explanation
    model = toys.strided_conv_model()
    x, masks = _squares(10, seed=1)
    masks["left"] = np.zeros_like(masks["corner"])
    masks["left"][:, :, :4] = True
    r = dissection.dissect_layer(model, x, masks, 1, quantile=0.9)
    acts = point_explanation(model).for_layer(1).h(x)      # (10, 3, 4, 4)
    for k in range(acts.shape[1]):
        t = np.quantile(acts[:, k], 0.9)
        up = np.stack([resize(a.astype(np.float64), (8, 8), order=1, mode="edge",
                              anti_aliasing=False) for a in acts[:, k]])
        unit = (up >= t - 1e-6) & (t > acts[:, k].min())
        for j, name in enumerate(r.concepts):
            inter = np.sum(unit & masks[name])
            union = np.sum(unit | masks[name])
            assert r.iou[k, j] == pytest.approx(inter / union if union else 0.0, abs=1e-6)
        best = int(np.argmax(r.iou[k]))
        assert r.labels[k] == (r.concepts[best] if r.iou[k, best] > 0.04 else None)


def test_randomising_down_to_a_slice_counts_the_weighted_layers_above_it():
    model = toys.tiny_vgg()
    assert dissection.layers_above(model, 30) == 4      # conv5_3, fc1, fc2, predictions
    assert dissection.layers_above(model, 26) == 6      # conv5_1 and above


def test_synthetic_probe_set_has_every_part_of_every_class():
    from synthetic_world import scenes as synthetic
    images, labels, masks = dissection.synthetic_probe_set(2)
    assert images.shape == (2 * len(synthetic.CLASS_NAMES), 64, 64, 3)
    assert len(masks) == (sum(len(p) for p in synthetic.PARTS.values())
                          + len(synthetic.SCENE_MASKS))
    car = masks["sports car: object"]
    assert car[labels == 1].any() and not car[labels != 1].any()
    kinds = np.stack([masks["background: " + k] for k in synthetic.BACKGROUND_KINDS])
    assert (kinds.any(axis=(2, 3)).sum(axis=0) == 1).all()   # one texture per scene
    objects = np.any([masks["%s: object" % n] for n in synthetic.CLASS_NAMES], axis=0)
    np.testing.assert_array_equal(kinds.any(axis=0), ~objects & ~masks["distractors"])


def test_vgg_names():
    assert dissection.vgg_name("block5_conv3") == "conv5_3"
    assert dissection.vgg_name("fc1") == "fc1"


def test_bad_probe_sets_are_refused():
    model = toys.planted_unit_model()
    x, masks = _squares(4)
    with pytest.raises(ValueError, match="empty"):
        dissection.dissect_layer(model, x[:0], {k: v[:0] for k, v in masks.items()}, 1)
    with pytest.raises(ValueError, match="no concept masks"):
        dissection.dissect_layer(model, x, {}, 1)
    with pytest.raises(ValueError, match="bool"):
        dissection.dissect_layer(model, x, {"square": masks["square"][:3]}, 1)
    with pytest.raises(ValueError, match="convolution"):
        dissection.dissect_layer(model, x, masks, 2)

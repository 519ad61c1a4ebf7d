"""evaluation/evidence.py: the numbers written answers are rendered from, on maps and
masks built so that the answer is known."""
import numpy as np
import pytest

from evaluation import evidence as E
from evaluation.ground_truth import localisation_ratio


def scene(n=3, size=8):
    """Masks: object = left half (parts 'a' = top-left quarter, 'b' = bottom-left),
    distractors = the right column's top two pixels, background = the rest."""
    obj = np.zeros((n, size, size), bool)
    obj[:, :, :size // 2] = True
    a = obj.copy()
    a[:, size // 2:] = False
    b = obj & ~a
    dis = np.zeros_like(obj)
    dis[:, :2, -1] = True
    return {"object": obj, "a": a, "b": b, "distractors": dis}


def test_regions_background_excludes_object_and_distractors():
    masks = scene()
    regions = E.regions_of(masks)
    assert list(regions) == ["object", "a", "b", "distractors", "background"]
    assert np.array_equal(regions["background"], ~masks["object"] & ~masks["distractors"])


def test_background_textures_are_left_out_unless_named():
    masks = scene()
    masks["stripes"] = ~masks["object"]
    assert "stripes" not in E.regions_of(masks)
    assert list(E.regions_of(masks, ["a", "stripes"])) == ["a", "stripes", "background"]


def test_map_inside_one_region_scores_one_over_its_area():
    masks = scene()
    maps = np.where(masks["a"], 2.0, 0.0)
    p = E.part_profile(maps, masks)
    area = masks["a"][0].mean()
    assert p.ratio["a"] == pytest.approx(1 / area)
    assert p.ratio["object"] == pytest.approx(1 / masks["object"][0].mean())
    assert p.ratio["b"] == p.ratio["background"] == p.ratio["distractors"] == 0
    assert p.share["a"] == pytest.approx(1.0) and p.top() == "a"


def test_uniform_map_is_chance_everywhere_and_object_ratio_matches_ground_truth():
    masks = scene()
    rng = np.random.default_rng(0)
    maps = rng.normal(size=(3, 3, 8, 8))            # pixel attributions, colour summed
    p = E.part_profile(np.ones((3, 8, 8)), masks)
    assert all(r == pytest.approx(1.0) for r in p.ratio.values())
    q = E.part_profile(maps, masks)
    expected = np.mean([localisation_ratio(m, k) for m, k in zip(maps, masks["object"])])
    assert q.ratio["object"] == pytest.approx(expected)


def test_negative_mass_is_measured_separately():
    masks = scene()
    maps = np.where(masks["a"], 1.0, 0.0) - np.where(masks["b"], 1.0, 0.0)
    assert E.part_profile(maps, masks).top() == "a"
    neg = E.part_profile(maps, masks, sign="negative")
    assert neg.top() == "b" and neg.ratio["a"] == 0


def test_ranking_sentence_names_the_top_region_and_the_focus_place():
    masks = scene()
    maps = 3.0 * masks["b"] + 1.0 * masks["a"] + 0.5 * masks["distractors"]
    p = E.part_profile(maps, masks)
    text = E.ranking_sentence("the neuron", p, focus_region="distractors")
    assert text.startswith("the neuron's positive mass is highest on the b (%s chance)"
                           % E.times(p.ratio["b"]))
    assert "the distractors comes third of 4" in text
    table = E.profile_table({"neuron": p}, regions=["a", "b"])
    assert "| neuron | %s | %s |" % (E.times(p.ratio["a"]), E.times(p.ratio["b"])) in table


def test_parts_under_peaks_finds_the_strongest_block():
    masks = {k: v[0] for k, v in scene(n=1).items()}
    a_map = np.zeros((8, 8))
    a_map[4:6, 0:2] = 5.0                           # a block inside part 'b'
    a_map[0:2, 6:8] = 3.0                           # the distractors' corner
    peaks = E.parts_under_peaks(a_map, masks, k=2, cell=2)
    assert [p["region"] for p in peaks] == ["b", "distractors"]
    assert peaks[0]["value"] == 5.0 and (peaks[0]["row"], peaks[0]["col"]) == (2, 0)
    with pytest.raises(ValueError, match="cell=3"):
        E.parts_under_peaks(a_map, masks, cell=3)


def test_focus_is_top_for_uniform_and_one_for_a_point():
    point = np.zeros((1, 10, 10))
    point[0, 3, 4] = 2.0
    assert E.focus(np.ones((1, 10, 10)), top=0.1)[0] == pytest.approx(0.1)
    assert E.focus(point)[0] == 1.0
    assert np.isnan(E.focus(-np.ones((1, 10, 10)))[0])


def test_list_overlap_and_recurring_members():
    o = E.list_overlap([1, 2, 3, 4], [3, 4, 5])
    assert o["shared"] == [3, 4] and o["jaccard"] == pytest.approx(2 / 5)
    rec = E.recurring({"x": [1, 2, 3], "y": [2, 3, 9], "z": [3]})
    assert rec == {3: ["x", "y", "z"], 2: ["x", "y"]}


def test_crossing_of_two_lines_is_where_they_meet():
    x = np.linspace(0, 1, 11)
    c = E.crossing(x, 2 * x, 0.3 + x)                # 2x = 0.3 + x at x = 0.3
    assert c["x"] == pytest.approx(0.3) and c["before"] == -1
    assert np.isnan(E.crossing(x, x + 1, x)["x"])


def test_bad_input_is_named():
    with pytest.raises(ValueError, match="'object'"):
        E.regions_of({"a": np.zeros((1, 2, 2), bool)})
    with pytest.raises(ValueError, match="no mask named"):
        E.part_profile(np.zeros((1, 8, 8)), scene(1), parts=["roof"])
    with pytest.raises(ValueError, match="sign"):
        E.part_profile(np.zeros((1, 8, 8)), scene(1), sign="both")


# notebooks/tub_sheet11: roughness of prototypes against real images
def test_roughness_known_answers():
    from evaluation.evidence import roughness
    flat = np.full((1, 6, 5, 3), 77, np.uint8)
    board = (np.indices((6, 6)).sum(axis=0) % 2 * 200).astype(np.uint8)
    ramp = np.tile(np.arange(8.0), (8, 1))                 # slope 1 along x, flat along y
    np.testing.assert_allclose(roughness(flat), [0.0])
    np.testing.assert_allclose(roughness(np.stack([board, ramp[:6, :6]])), [200.0, 0.5])
    with pytest.raises(ValueError, match="H, W >= 2"):
        roughness(np.zeros((2, 1, 5)))


def test_negative_share_is_the_negative_part_of_the_absolute_mass():
    assert E.negative_share(np.array([[3.0, -1.0], [0.0, -4.0]])) == pytest.approx(5 / 8)
    assert E.negative_share(np.zeros((2, 3))) == 0.0
    assert E.negative_share(np.ones((1, 3, 2, 2))) == 0.0

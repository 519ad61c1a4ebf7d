"""evaluation/hw3_answers.py: the hw3 notebook's answers are chosen by the numbers, on maps
and masks built so that the right sentence is known."""
import types

import numpy as np
import pytest

from evaluation import evidence as E
from evaluation import hw3_answers as A


def scene(n=2, size=8):
    """object = left half; part 'a' its top quarter, 'b' its bottom quarter; distractors:
    the right column's top two pixels; background: the rest."""
    obj = np.zeros((n, size, size), bool)
    obj[:, :, :size // 2] = True
    a = obj.copy()
    a[:, size // 2:] = False
    dis = np.zeros_like(obj)
    dis[:, :2, -1] = True
    return {"object": obj, "a": a, "b": obj & ~a, "distractors": dis}


def on(masks, *regions, background=0.0):
    """Maps (N, H, W) with mass 1 on the given regions and ``background`` elsewhere."""
    m = np.full(masks["object"].shape, background)
    for r in regions:
        m[E.regions_of(masks)[r]] = 1.0
    return m


def test_measure_and_table_with_and_without_masks():
    masks = scene()
    m = A.measure(on(masks, "a"), masks)
    assert m.background_share() == 0 and m.profile.top() == "a"
    assert m.focus == pytest.approx(E.focus(on(masks, "a")).mean())
    table = A.evidence_table({"map": m})
    assert "| map | 2.0x | 4.0x | 0.0x | 0.0x | 0.0x | 0% |" in table
    bare = A.measure(on(masks, "a"))
    assert bare.profile is None and np.isnan(bare.background_share())
    assert "| map | %s |" % A.pct(bare.focus) in A.evidence_table({"map": bare})


def test_neurons_vs_ig_says_not_more_focused_when_the_background_share_is_the_same():
    masks = scene()
    diffuse = on(masks, "a", background=0.5)
    ig = A.measure(diffuse, masks)
    same = {"n1": A.measure(diffuse, masks), "n2": A.measure(diffuse * 2, masks)}
    text = A.neurons_vs_ig(ig, same, ["a", "b"], "thing", E.list_overlap([1, 2], [2, 3]), k=2)
    assert "not more focused on the thing than IG" in text
    assert "no neuron map singles out a part that IG does not" in text
    assert "share 1 of their 2 neurons (2)" in text and "about as concentrated" in text


def test_neurons_vs_ig_names_a_focused_map_and_a_part_ig_does_not_favour():
    masks = scene()
    ig = A.measure(on(masks, "a", background=0.5), masks)
    neurons = {"n7": A.measure(on(masks, "b"), masks)}
    text = A.neurons_vs_ig(ig, neurons, ["a", "b"], "thing")
    assert "every neuron map is more focused on the thing than IG" in text
    assert "n7 favours the b instead" in text and "IG favours the a" in text
    distracted = {"n9": A.measure(on(masks, "distractors"), masks)}
    assert "1 of the 1 neuron maps (n9)" in A.neurons_vs_ig(ig, distracted, ["a", "b"])


def test_neurons_vs_ig_without_masks_says_only_the_figure_shows_the_parts():
    masks = scene()
    ig = A.measure(on(masks, "a", background=0.5))
    text = A.neurons_vs_ig(ig, {"n": A.measure(on(masks, "a"))}, [], "thing")
    assert "only the figures show" in text and "more concentrated than" in text
    assert "background" not in text


def test_comparative_answer_is_chosen_by_the_region_ratios():
    masks = scene()
    absolute = A.measure(on(masks, "a"), masks)
    wheels = A.measure(on(masks, "b", background=0.1), masks)
    text = A.comparative_answer(absolute, wheels, (1, 2), region="a",
                                peaks=A.peak_regions(on(masks, "b")[:, None].repeat(3, 1), masks,
                                                     cell=4), cell=4)
    assert "does not isolate the a" in text and "most concentrated on the b" in text
    assert "strongest 4x4 block lies on the b in 2 of 2 images" in text
    isolates = A.comparative_answer(wheels, absolute, (2, 1), region="a")
    assert "isolates the a, as it is designed to" in isolates
    partway = A.comparative_answer(A.measure(on(masks, "b"), masks),
                                   A.measure(on(masks, "b") + 0.5 * on(masks, "a"), masks), (1, 2), "a")
    assert "concentrates more on the a than the absolute one" in partway
    assert "highest on the b: it points at the difference without isolating it" in partway
    bare = A.comparative_answer(A.measure(on(masks, "a")), A.measure(on(masks, "b")), (1, 2),
                                classes=("x", "y"))
    assert "only the figure shows" in bare and "separates x from y" in bare


def grid(recall, precision, tops=(0, 1, 2), bottoms=(0, 1)):
    kept = np.add.outer(np.array(tops), np.array(bottoms))
    return types.SimpleNamespace(recall=np.array(recall, float), precision=np.array(precision,
                                 float), tops=tops, bottoms=bottoms, kept=kept)


def test_fewest_channels_and_compression_reading():
    import compression
    g = grid([[0, 0.5], [0.9, 1.0], [1.0, 1.0]], [[np.nan, 1], [0.8, 0.9], [0.95, 1.0]])
    assert A.fewest_channels(g, 1.0)["kept"] == 2 and A.fewest_channels(g, 1.0)["top"] == 1
    assert A.fewest_channels(g, 1.1) is None
    labels = np.array([5, 5, 6, 6])
    preds = np.array([5, 5, 6, 6])                       # original precision 1
    rows = [{"class": "saw", "class_index": 5, "original_recall": 1.0, "recall": 1.0,
             "precision": 0.9, "top": 1, "bottom": 1, "kept": 2},
            {"class": "ball", "class_index": 6, "original_recall": 1.0, "recall": 0.5,
             "precision": 1.0, "top": 0, "bottom": 1, "kept": 1}]
    exp = types.SimpleNamespace(rows=rows, labels=labels, predictions=preds,
                                grids={5: g, 6: grid([[0, 0.5], [0, 0.5], [0, 0.5]],
                                                     [[np.nan] * 2] * 3)})
    text = A.compression_reading(exp, 4, compression.precision)
    assert "recovers the original recall for 1 of the 2 classes (saw 2)" in text
    assert "No cell of the grid recovers it for ball" in text
    assert "recall for saw is 0.00 (it never names the class)" in text
    assert "below the original model's for 1 of the 2 classes (saw 0.900 against 1.000)" in text
    assert "t=2, b=1 (3 channels)" in text and "restores precision" in text


def test_ground_truth_reading_and_world_prose():
    r = {"ig_object_ratio": 4.2, "roof_neuron": 43, "roof_ratio": 3.2,
         "randomized_rank_corr": -0.05, "randomized_rank_corr_abs": 0.76}
    text = A.ground_truth_reading(r, 43, 2.1)
    assert "4.2x chance" in text and "the same neuron as in 6.2" in text and "2.1x" in text
    assert "depends on the weights" in text and "0.76, more" in text
    assert "not 6.2's neuron 7" in A.ground_truth_reading(r, 7)
    assert A.world_note("imagenet", "sports_car") == ""
    assert "van" not in A.world_note("imagenet", "similar_a")
    assert "foxhound" not in A.world_note("synthetic", "similar_a")
    assert A.object_parts(scene()) == ["a", "b"] and A.object_parts(None) == []


def test_recurring_sentence():
    assert A.recurring_sentence({"q1": [1, 2], "q2": [3]}) == ""
    two = A.recurring_sentence({"q1": [1, 2], "q2": [2]})
    assert two == "Neurons that recur across the queries: 2 in q1 and q2."
    assert "generic feature" in A.recurring_sentence({"q1": [1], "q2": [1], "q3": [1]})


def test_comparative_section_measures_both_neurons():
    masks = scene()
    maps = [types.SimpleNamespace(attribution=on(masks, r)[:, None].repeat(3, 1)) for r in "ab"]
    (m_abs, m_comp), text = A.comparative_section(maps, masks, (1, 2), ("x", "y"), region="a")
    assert m_abs.profile.top() == "a" and m_comp.profile.top() == "b"
    assert "| absolute (x): neuron 1 |" in text and "| comparative (vs y): neuron 2 |" in text
    assert "does not isolate the a" in text
    _, bare = A.comparative_section(maps, None, (1, 2), ("x", "y"), region="a")
    assert "only the figure shows" in bare and "| map |" in bare


def test_compression_reading_when_the_model_never_recognises_a_class():
    import compression
    g = grid([[0, 0], [0, 0], [0, 0]], [[np.nan] * 2] * 3)
    rows = [{"class": "saw", "class_index": 5, "original_recall": 0.0, "recall": 0.0,
             "precision": np.nan, "top": 0, "bottom": 0, "kept": 0}]
    exp = types.SimpleNamespace(rows=rows, labels=np.array([5, 6]), predictions=np.array([6, 6]),
                                grids={5: g})
    text = A.compression_reading(exp, 4, compression.precision)
    assert "recognises none of the held-out images of saw: there is no recall to recover" in text
    assert "never names saw, so its precision is undefined" in text
    assert "Keeping at most" not in text and "loses precision" not in text

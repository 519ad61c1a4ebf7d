"""The CSEP 590B HW2 functions (methods/csep590b.py), the pixel baselines
(methods/baselines.py), the ablation curves (evaluation/ablation.py) and the written
answers (evaluation/csep590b_answers.py): known answers, completeness, agreement with the
chain."""
import hw3_env  # noqa: F401

import numpy as np
import pytest
from scipy import ndimage

import models
from evaluation import csep590b_answers as answers
from evaluation.ablation import ablation_curves
from methods import baselines, csep590b as hw, images
from methods.scores import probabilities
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
        direct = images.blur(models.preprocess(pictures, SIZE), sigma)
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


def test_ablation_curves_are_the_homeworks_curves_of_each_image_and_method():
    """evaluation.ablation batches HW2's insertion/deletion over methods and images: each
    row is the homework's curve of that image (with its own target), each AUC its area,
    and the copies per call do not change them."""
    linear = pixel_linear_model((3, SIZE, SIZE), n_classes=4, seed=5)
    x = np.random.RandomState(3).uniform(1, 2, size=(3, 3, SIZE, SIZE)).astype(np.float32)
    labels = np.array([0, 3, 1])
    maps = {"rising": np.tile(np.arange(16.0).reshape(1, 4, 4), (3, 1, 1)),
            "noise": np.random.RandomState(4).rand(3, 4, 4)}
    for kind, fn in (("insertion", hw.insertion), ("deletion", hw.deletion)):
        got = ablation_curves(x, linear, maps, labels, 0.0, kind, step=3, progress=False)
        again = ablation_curves(x, linear, maps, labels, 0.0, kind, step=3, masks_per_call=2,
                                progress=False)
        assert list(got) == list(maps)
        for name, (curves, num, aucs) in got.items():
            assert curves.shape == (3, len(num)) and list(num) == [0, 3, 6, 9, 12, 15, 16]
            for i in range(3):
                ref, k = fn(x[i:i + 1], linear, maps[name][i:i + 1], int(labels[i]), 0.0, step=3)
                np.testing.assert_allclose(curves[i], ref, rtol=1e-6)
                assert aucs[i] == pytest.approx(hw.auc(ref, k))
            np.testing.assert_allclose(again[name][0], curves, rtol=1e-6)
    with pytest.raises(ValueError, match="insertion' or 'deletion"):
        ablation_curves(x, linear, maps, labels, 0.0, "both", progress=False)

def test_sample50_in_both_worlds():
    import test_data
    from helpers import SHARED_IMAGENET
    syn = test_data.sample50("synthetic")
    assert len(syn) == 50 and syn.images.shape == (50, 64, 64, 3)
    np.testing.assert_array_equal(syn.labels, np.tile(np.arange(10), 5))
    assert syn.masks["object"].shape == (50, 64, 64) and syn.masks["object"].any(axis=(1, 2)).all()
    assert len(set(syn.ids)) == 50
    assert test_data.sample50("synthetic", limit=3).ids == syn.ids[:3]
    # every scene carries its own class's part masks and the distractors; other classes'
    # parts are empty, and painted parts lie inside the object
    from synthetic_world.scenes import PARTS, REGION_PARTS, SCENE_MASKS
    for i, c in enumerate(syn.labels):
        own = set(PARTS[c]) | set(SCENE_MASKS)
        assert own <= set(syn.masks)
        assert not any(syn.masks[k][i].any() for k in set(syn.masks) - own)
        for k in set(PARTS[c]) - set(REGION_PARTS.get(c, ())) - {"tee"}:
            assert syn.masks[k][i].any() and not (syn.masks[k][i] & ~syn.masks["object"][i]).any()
        assert not (syn.masks["distractors"][i] & syn.masks["object"][i]).any()
    rows = [r for r in test_data.read_rows() if r["role"] == test_data.SAMPLE50_ROLE]
    assert [int(r["class_index"]) for r in rows] == list(range(10, 1000, 20))
    assert all(r["url"].startswith("https://raw.githubusercontent.com/EliSchwartz/") for r in rows)
    import os
    if os.path.exists(os.path.join(SHARED_IMAGENET, "manifest.tsv")):
        w = test_data.load_world("imagenet", image_dir=SHARED_IMAGENET)
        real = test_data.sample50(w, limit=2, progress=False)   # sha256-checked on load
        assert real.images.shape == (2, 224, 224, 3) and list(real.labels) == [10, 30]
        assert real.ids == [r["sha256"] for r in rows[:2]]


# ---------------------------------------------------------------------------
# The answers: evidence and the sentences chosen by it, on maps with known answers
# ---------------------------------------------------------------------------
def _scene(size=16, s=4):
    """One 16x16 scene: the object in the top-left 8x8 quadrant (a 'roof' part on its top
    4 rows), distractors in the bottom-right cell."""
    obj = np.zeros((1, size, size), bool)
    obj[0, :8, :8] = True
    roof = np.zeros_like(obj)
    roof[0, :4, :8] = True
    dis = np.zeros_like(obj)
    dis[0, 12:, 12:] = True
    return {"object": obj, "roof": roof, "distractors": dis}


def _cells_to_map(cells, s=4):
    return np.kron(np.asarray(cells, np.float64), np.ones((s, s)))


def test_occlusion_evidence_and_its_sentences():
    linear = pixel_linear_model((3, SIZE, SIZE), n_classes=4, seed=5)
    x = np.random.RandomState(2).uniform(1, 2, size=(3, SIZE, SIZE)).astype(np.float32)
    masks = _scene()
    cells = np.zeros((4, 4))
    cells[0, 0], cells[3, 3], cells[2, 2] = 0.9, 0.5, -0.1      # roof, distractors, background
    ev = answers.occlusion_evidence(_cells_to_map(cells), x, linear, 0, 0.0, 4, masks)
    assert [(p["row"], p["col"], p["region"]) for p in ev["peaks"]] == [(0, 0, "roof"),
                                                                        (3, 3, "distractors")]
    assert [p["on_object"] for p in ev["peaks"]] == [1.0, 0.0]
    assert ev["negative"] == pytest.approx(0.1 / 1.5)
    # the class after occlusion agrees with blacking out the cell by hand
    removed = x.copy()
    removed[:, :4, :4] = 0.0
    p = probabilities(linear, removed[None])[0]
    assert ev["occluded"] == (int(p.argmax()), pytest.approx(float(p.max())))
    names = ["a", "b", "c", "d"]
    text = answers.occlusion_sentence("image 0 (a)", ev, names)
    assert text.startswith("**Image 0 (a).** The two strongest cells (0.900 and 0.500) lie "
                           "mostly on the roof and distractors respectively")
    assert "7% of the map's absolute mass" in text
    # an off-object peak that changes the class is named as added evidence
    off = dict(ev, peaks=[dict(ev["peaks"][1], value=0.9)] + ev["peaks"][:1], target=1,
               occluded=(2, 0.8))
    summary = answers.occlusion_summary([off], ["image 2 (b)"], names)
    assert "it adds a dark shape: on image 2 (b)" in summary and "into c (p = 0.800)" in summary
    kept = dict(off, occluded=(1, 0.9))
    assert "the model uses context there" in answers.occlusion_summary([kept], ["image 2 (b)"], names)
    # without masks the cells are placed on the grid and the picture is left to the reader
    bare = answers.occlusion_evidence(_cells_to_map(cells), x, linear, 0, 0.0, 4, None)
    assert bare["profile"] is None and (bare["peaks"][0]["row"], bare["peaks"][0]["col"]) == (0, 0)
    assert "only the picture shows" in answers.occlusion_sentence("image 0", bare, names)


def test_sizes_blur_and_completeness_answers():
    masks = _scene()
    fine = _cells_to_map(np.eye(8)[:, ::-1] * 0.9, s=2)       # 8x8 cells of 2 px
    coarse = _cells_to_map(np.diag([0.3, 0, 0, 0]), s=4)
    text = answers.sizes_answer([2, 4], [fine, coarse], 16, masks)
    assert "| 2x2 | 64 | 0.900 | 8 of 64 |" in text and "| 4x4 | 16 | 0.300 | 1 of 16 |" in text
    assert "The largest score falls as the superpixels grow" in text
    assert "The 4x4 map concentrates its positive mass on the object most" in text
    assert "grows with the superpixels" in answers.sizes_answer([2, 4], [coarse, coarse * 2], 16)
    black = _cells_to_map(np.diag([0.5, 0, 0, 0]))
    blurs = [_cells_to_map(np.diag([0.01, -0.01, 0, 0])), _cells_to_map(np.diag([0.02, 0, 0, 0]))]
    text = answers.blur_answer([1, 2], black, blurs, 4, masks)
    assert "Every blurred baseline gives smaller scores than black (largest 0.020 against 0.500)" in text
    assert "The stronger the blur, the larger the largest score" in text
    assert "up to 50% of the mass is negative, 0% with black" in text
    # completeness: A = P + N, Delta = P - N, so N / A = (A - Delta) / (2 A) exactly
    text = answers.completeness_answer(["i0", "i1"], [0.9, 0.5], [0.1, 0.5], [1.0, 4.0], "black")
    assert "| i0 | 0.800 | 1.000 | 10% |" in text and "| i1 | 0.000 | 4.000 | 50% |" in text
    assert "On i1 more than a quarter" in text


def test_gradient_answer_ranks_focus_and_object():
    masks = {"object": np.zeros((2, 10, 10), bool)}
    masks["object"][:, :5, :5] = True
    peaked = np.zeros((2, 10, 10))
    peaked[:, 0, 0] = 1.0                                    # all mass on one object pixel
    flat = np.ones((2, 10, 10))
    ev = answers.gradient_evidence({"peaked": peaked, "flat": flat}, masks)
    assert ev["peaked"][0]["focus"] == 1.0 and ev["flat"][0]["focus"] == pytest.approx(0.1)
    text = answers.gradient_answer(ev, ["a", "b"])
    assert "peaked 100%, flat 10%" in text and "peaked is the most concentrated" in text
    assert "peaked 4.0x, flat 1.0x: peaked puts its mass on the object most" in text
    assert "object" not in answers.gradient_answer(answers.gradient_evidence({"flat": flat}), ["a", "b"])


def test_curve_answers():
    i, text = answers.pick_curve_image([0.9, 0.8, 0.1])
    assert i == 2 and "Images 0 and 1 are skipped" in text
    assert answers.pick_curve_image([0.1, 0.9])[0] == 0
    num = np.arange(11)
    ins = np.array([0, 0, 0, 0.6, 0.4, 1, 1, 1, 1, 1, 1.0])
    dele = np.array([1, 0.2, 0, 0, 0, 0, 0, 0, 0, 0, 0.0])
    text = answers.curve_answer(num, ins, dele, [0.7, 0.6, 0.1], 1.0)
    assert "p_t below half of p_t(image) = 1.000 after 6% of the superpixels" in text   # 1 - 0.5/0.8 of 10%
    assert "2 superpixels alone drop p_t" in text
    assert "reaches half of p_t after 28% of the superpixels" in text                   # 0.5 / 0.6 of 10% past 20%
    assert "from 50% on, with 1 dip of more than 0.1" in text
    assert answers._dips([1, 0.95, 0.9, 0.85, 1, 0.5, 1, 0.95], 0.1) == 2    # 0.15 in three steps, 0.5
    x = np.linspace(0, 1, 5)
    good = np.array([[0, 0.8, 1, 1, 1.0]] * 2)
    bad = np.array([[0, 0.1, 0.2, 0.6, 1.0]] * 2)
    curves_ins = {"A": (good, np.arange(5), np.array([hw.auc(c, np.arange(5)) for c in good])),
                  "Random": (bad, np.arange(5), np.array([hw.auc(c, np.arange(5)) for c in bad]))}
    curves_del = {"A": (1 - good, np.arange(5), np.array([hw.auc(1 - c, np.arange(5)) for c in good])),
                  "Random": (1 - bad, np.arange(5), np.array([hw.auc(1 - c, np.arange(5)) for c in bad]))}
    text = answers.mean_curves_answer(curves_ins, curves_del, 0.0, at=(0.25,))
    assert "A is best on both" in text and "Random is last on both metrics" in text
    assert "| A | 0.825 | 0.175 | 0.20 |" in text
    assert "first reaches 0.5 after 69% of the superpixels" in text                     # 0.5 + 0.3/0.4 * 0.25
    del x


def test_ground_truth_answer_compares_rankings():
    masks = {"object": np.zeros((1, 10, 10), bool), "distractors": np.zeros((1, 10, 10), bool)}
    masks["object"][0, :5, :5] = True
    on = np.zeros((1, 10, 10))
    on[0, :5, :5] = 1
    text = answers.ground_truth_answer({"on": on, "flat": np.ones((1, 10, 10))}, masks,
                                  {"deletion": ["on", "flat"], "insertion": ["flat", "on"]})
    assert "The object covers 25% of a scene" in text
    assert "| on | 100% | 4.00x |" in text and "| flat | 25% | 1.00x |" in text
    assert "The deletion ranking of these methods is the same (on > flat)" in text
    assert "The insertion metric ranks them differently (flat > on)" in text

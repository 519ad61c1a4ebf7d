"""The comparison runner on methods with known answers (an oracle that returns the
true mask, a random map), without a network: the model is passed through untouched."""
import numpy as np

from evaluation import comparison as C


def _scenes(n=8, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, 3, 12, 12)).astype(np.float32)
    masks = np.zeros((n, 12, 12), bool)
    for i in range(n):
        r, c = rng.integers(0, 6, 2)
        masks[i, r:r + 5, c:c + 5] = True
    regions = masks.copy()
    regions[:, :, :] &= np.arange(12)[None, None, :] % 2 == 0    # part of the object
    return C.Scenes(x, np.arange(n) % 2, masks, pairs=[(np.arange(n // 2), 0, 1,
                                                        regions[:n // 2])]), masks, regions


def test_oracle_beats_random_on_every_mask_measure_and_table_reads():
    scenes, masks, regions = _scenes()
    lookup = {x.tobytes(): i for i, x in enumerate(scenes.x)}
    calls = []

    def oracle(imgs, model, labels):
        calls.append((model, len(imgs)))
        return masks[[lookup[x.tobytes()] for x in imgs]].astype(float)

    def oracle_comparative(imgs, model, c1, c2):
        return regions[[lookup[x.tobytes()] for x in imgs]].astype(float)

    rng = np.random.default_rng(1)

    def random_map(imgs, model, labels):
        return rng.standard_normal((len(imgs), 3, 12, 12))

    def ablation(x, labels, maps):      # a stand-in: more mass on the mask inserts faster
        inside = (maps * masks).sum((1, 2)) / np.abs(maps).sum((1, 2))
        return inside, 1 - inside

    methods = [C.Method("oracle", oracle, oracle_comparative, images_per_call=3),
               C.Method("random", random_map)]
    res = C.compare(methods, "MODEL", scenes, randomised_model="RANDOM", ablation=ablation)
    assert calls[0] == ("MODEL", 3) and ("RANDOM", 3) in calls      # batches of 3
    o, r = res["oracle"], res["random"]
    assert np.nanmean(o["localisation"]) > 2 * np.nanmean(r["localisation"])
    assert np.all(o["pointing"] == 1.0) and np.nanmean(r["pointing"]) < 1.0
    assert len(o["part"]) == 4 and np.all(o["part"] > 1) and np.isnan(r["part"]).all()
    assert np.allclose(o["randomisation"], 1.0)      # the oracle ignores the model
    assert o["maps"].shape == (8, 12, 12) and o["seconds"] >= 0
    text = C.table_markdown(res)
    assert text.count("\n| oracle |") == 1 and "| random |" in text
    assert "part truth" in text and "n/a" in text     # random has no comparative


def test_randomisation_on_a_subset():
    scenes, masks, _ = _scenes()
    rng = np.random.default_rng(0)
    res = C.grade(C.Method("noise", lambda i, m, l: rng.standard_normal((len(i), 12, 12))),
                  None, scenes, randomised_model="R", randomisation_images=[0, 3])
    r = res["randomisation"]
    assert np.isfinite(r[[0, 3]]).all() and np.isnan(np.delete(r, [0, 3])).all()
    assert np.all(np.abs(r[[0, 3]]) < 0.5)      # independent noise: no rank agreement


def test_no_images_and_no_randomisation_images():
    scenes, _, _ = _scenes()
    calls = []
    res = C.grade(C.Method("m", lambda i, m, l: calls.append(m) or np.ones((len(i), 12, 12))),
                  "MODEL", scenes, randomised_model="R", randomisation_images=[])
    assert calls == ["MODEL"] and np.isnan(res["randomisation"]).all()
    empty = C.Scenes(scenes.x[:0], scenes.labels[:0])
    assert C.compare([C.Method("m", lambda i, m, l: 1 / 0)], None, empty) == {}


def test_missing_measures_say_why():
    scenes, _, _ = _scenes()
    scenes.masks, scenes.pairs = None, []
    res = C.compare([C.Method("flat", lambda i, m, l: np.ones((len(i), 12, 12)))], None, scenes)
    row = res["flat"]
    assert all(np.isnan(row[c]).all() for c in C.MEASURES)
    text = C.table_markdown(res, why_empty={"localisation": "no masks in the ImageNet world"})
    assert "no masks in the ImageNet world" in text and "not measured" in text


# ---------------------------------------------------------------------------
# The written answers: sentences chosen by the numbers
# ---------------------------------------------------------------------------
def _row(n=12, signed=False, seconds=0.1, **means):
    """A table row whose measures have the given means (spread +-0.1 around them)."""
    spread = np.tile([-0.1, 0.1], n // 2)
    row = {k: np.full(n, np.nan) for k in C.MEASURES}
    row.update({k: v + spread for k, v in means.items()})
    maps = np.ones((n, 4, 4))
    if signed:
        maps[:, :2] = -1
    row.update(maps=maps, seconds=seconds)
    return row


def _table():
    return {"good": _row(localisation=5.0, pointing=1.0, part=6.0, insertion=0.3, deletion=0.1,
                         randomisation=0.0, signed=True, seconds=0.5),
            "edge": _row(localisation=3.0, pointing=0.5, part=1.0, insertion=0.7, deletion=0.2,
                         randomisation=0.9, seconds=0.01),
            "Grad-CAM": _row(localisation=1.3, pointing=0.25, insertion=0.6, deletion=0.5,
                             randomisation=-0.5, seconds=0.02),
            "random": _row(localisation=1.0, pointing=0.0, insertion=0.2, deletion=0.3,
                           randomisation=1.0, signed=True, seconds=0.0)}


def test_localisation_paragraph_names_the_ranking_and_who_is_at_chance():
    res = _table()
    res["edge"]["pointing"] = np.tile([1.0, 0.0, 0.5, 0.5], 3)
    res["occlusion"] = res.pop("edge")
    sweep = {"Grad-CAM (last convolution)": _row(localisation=1.2, insertion=0.5),
             "Grad-CAM (one block lower)": _row(localisation=3.6, insertion=0.6)}
    text = C.localisation_paragraph(res, sweep, cam_side=4, image_side=64)
    assert "for every method but *random*" in text
    assert "*good* is the most concentrated on the object (localisation ratio 5.00)" in text
    assert "followed by *occlusion* (3.00), *Grad-CAM* (1.30) and *random* (1.00)" in text
    assert "4x4 cells for a 64x64 image" in text
    assert "rises from 1.20 to 3.60" in text and "the coarse grid explains" in text
    assert "wholly on the object in 25% of the images, wholly off it in 25%, and across " \
           "the object's edge in 50%" in text
    sweep["Grad-CAM (one block lower)"] = _row(localisation=1.1, insertion=0.6)
    text = C.localisation_paragraph(res, sweep)
    assert "falls from 1.20 to 1.10" in text and "coarse grid" not in text


def test_paragraphs_without_masks_say_so_and_quote_nothing():
    res = _table()
    for row in res.values():
        for k in ("localisation", "pointing", "part"):
            row[k][:] = np.nan
    assert "no object masks" in C.localisation_paragraph(res)
    assert "do not have" in C.comparative_paragraph(res)
    text = C.ablation_paragraph(res)
    assert "localisation" not in text and "*edge* (0.70)" in text


def test_comparative_and_randomisation_paragraphs():
    res = _table()
    text = C.comparative_paragraph(res)
    assert "*Edge* puts no more mass on the part" in text and "(the roof and the bed)" in text
    assert "In order of part truth: *good* (6.00) and *edge* (1.00)." in text
    assert "1 of these 2 keep the sign" in text
    res["edge"]["part"] += 2
    assert "Every method that explains" in C.comparative_paragraph(res)
    text = C.randomisation_paragraph(res, ("edge", 0.8))
    assert "*Good* change completely: its rank correlation interval contains 0" in text
    assert "*Edge* keeps much of its structure (0.90)" in text
    assert "random map scores 1.00" in text and "*Grad-CAM* correlates negatively (-0.50)" in text
    assert "much of their ordering comes from the difference term" in text
    assert "does not explain" in C.randomisation_paragraph(res, ("edge", 0.1))


def test_ablation_paragraph_measures_the_disagreement():
    res = _table()
    text = C.ablation_paragraph(res)
    assert "The best insertion AUCs go to *edge* (0.70), *Grad-CAM* (0.60)" in text
    # localisation good > edge > Grad-CAM > random; insertion edge > CAM > good > random
    assert "ranks the methods much like object localisation (rank correlation 0.40 over 4" \
        in text
    assert "*Grad-CAM* is worse than random there, the whole interval above it (0.50)" in text
    assert "Likely causes" not in text
    res["good"]["insertion"] -= 0.2          # insertion: edge > CAM > random > good
    assert "independently of object localisation (rank correlation -0.20" \
        in C.ablation_paragraph(res)
    res["random"]["insertion"] += 0.7        # random > edge > CAM > good
    text = C.ablation_paragraph(res)
    assert "roughly the other way round from object localisation (rank correlation -0.80" in text
    assert "Methods whose maps are signed score 0.10, the non-negative maps 0.60 to 0.70" in text
    assert "Likely causes" in text


def test_parameters_and_time_paragraphs():
    sweep = {"S (sigma = 1)": _row(localisation=2.0, insertion=0.5, seconds=0.2),
             "S (sigma = 2)": _row(localisation=3.0, insertion=0.52, seconds=0.4),
             "L (4 samples)": _row(localisation=1.0, insertion=0.1),
             "L (8 samples)": _row(localisation=1.5, insertion=0.9)}
    text = C.parameters_paragraph(sweep)
    assert "* *S*: localisation 2.00 at sigma = 1, 3.00 at sigma = 2; best at sigma = 2; " \
           "insertion AUC 0.50 to 0.52 (the intervals overlap); 0.200 to 0.400 s" in text
    assert "insertion AUC 0.10 to 0.90 (the intervals do not all overlap)" in text
    assert "Not run" in C.parameters_paragraph({})
    text = C.time_paragraph(_table(), load=(3.0, 3.5), cores=2)
    assert "slowest methods are *good* (0.500 s), *Grad-CAM* (0.020 s)" in text
    assert "load average of 3.0 to 3.5 on 2 cores: other jobs" in text
    assert "other jobs" not in C.time_paragraph(_table(), load=(0.5, 1.0), cores=2)


def test_table_caption_counts_the_images_of_each_measure():
    res = _table()
    for row in res.values():
        row["randomisation"][4:] = np.nan
    text = C.table_markdown(res)
    assert text.startswith("Each cell: the mean over 12 images [95% bootstrap interval] "
                           "(randomisation rank corr. on 4)")


def test_difference_term_correlation_and_signed_methods():
    rng = np.random.default_rng(0)
    x, base = rng.standard_normal((2, 3, 3, 8, 8))
    diff = np.abs(x - base).sum(1)
    assert np.isclose(C.difference_term_correlation(2 * diff + 1, x, base), 1.0)
    assert abs(C.difference_term_correlation(rng.standard_normal((3, 8, 8)), x, base)) < 0.5
    assert C.signed_methods(_table()) == ["good", "random"]

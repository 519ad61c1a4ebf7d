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

    methods = [C.Method("oracle", oracle, oracle_comparative, batch_size=3),
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

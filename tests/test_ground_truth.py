"""Ground-truth measures, and the committed surrogate's explanations against the truth."""
import os

import numpy as np
import pytest

from evaluation import ground_truth as gt
import toys


def test_localisation_ratio_known_answers():
    mask = np.zeros((4, 4), bool)
    mask[:2] = True                          # half the image
    a = np.zeros((3, 4, 4))
    a[:, 0, 0] = 1.0                         # all positive mass inside
    assert gt.localisation_ratio(a, mask) == pytest.approx(2.0)
    a[:, 3, 3] = 1.0                         # half inside: chance
    assert gt.localisation_ratio(a, mask) == pytest.approx(1.0)
    a[:, 2, 2] = -10.0                       # negative attribution does not count
    assert gt.localisation_ratio(a, mask) == pytest.approx(1.0)
    assert np.isnan(gt.localisation_ratio(np.zeros((4, 4)), mask))
    with pytest.raises(ValueError, match="differ in shape"):
        gt.localisation_ratio(a, np.ones((3, 3), bool))


def test_rank_correlation_and_randomized_copy():
    rng = np.random.RandomState(0)
    a = rng.randn(3, 8, 8)
    assert gt.rank_correlation(a, 2 * a) == pytest.approx(1.0)
    assert gt.rank_correlation(a, -a) == pytest.approx(-1.0)
    assert gt.rank_correlation(a, -a, absolute=True) == pytest.approx(1.0)
    model = toys.tiny_vgg()
    rnd = gt.randomized_copy(model, 2, seed=1)
    w0, w1 = model.get_weights(), rnd.get_weights()
    changed = [not np.array_equal(x, y) for x, y in zip(w0, w1)]
    # the kernels of the top two weighted layers change; nothing below them does
    assert changed[-2] and changed[-4] and not any(changed[:-4])
    with pytest.raises(ValueError, match="n_layers"):
        gt.randomized_copy(model, 0)


@pytest.fixture(scope="module")
def report():
    from synthetic_world import surrogate
    if not os.path.exists(surrogate.SURROGATE_PATH):
        pytest.skip("surrogate weights not trained yet")
    return gt.report(n=12, steps=32, verbose=False)


def test_ig_localises_the_object(report):
    assert report["ig_object_ratio"] > 1.5


def test_comparative_neuron_finds_the_roof(report):
    assert report["roof_ratio"] > 2.0


def test_randomising_top_layers_changes_ig(report):
    assert report["randomized_rank_corr"] < 0.5
    assert report["randomized_rank_corr_abs"] < 0.95


def test_randomized_copy_of_a_model_loaded_from_a_file(tmp_path):
    """A model built from a weight file (its kernels initialised by
    models.UnwrittenZeros) rebuilds from its config: the copy keeps the bottom layers and
    re-draws only the top ones."""
    import models
    from weights.stand_in import write_official_weight_file
    path = str(tmp_path / "w.h5")
    write_official_weight_file(path, widths=(2, 2, 2, 2, 2), dense=8, n_classes=5,
                               input_hw=(32, 32))
    m = models.VGG_16(path, input_shape=(3, 32, 32), widths=(2, 2, 2, 2, 2), dense=8,
                      n_classes=5)
    copy = gt.randomized_copy(m, 2)
    before, after = m.get_weights(), copy.get_weights()
    assert all(np.array_equal(a, b) for a, b in zip(before[:-4], after[:-4]))
    assert not np.array_equal(before[-2], after[-2]) and not np.array_equal(before[-4], after[-4])

"""notebooks/explainability_report: the ImageNet-world path end to end with tiny
settings (like tests/test_notebook.py for hw3), and the synthetic world's image set.
The ImageNet path dissects VGG16 alone (one scene per class as the probe set, no
randomised floor) and writes its CSV into a temporary folder.

CI has neither VGG16's weights nor the network: the notebook runs on a synthetic
weight file in the official layout (random values) and the report's photographs from
../shared. Two images, LIME with 20 samples, and the CAMs at conv1_1 (64 channels:
Score-CAM's one forward pass per channel stays cheap). The committed notebook
(synthetic world) is checked by nbval in `make test`.
"""
import os

import numpy as np
import pytest

import helpers
import test_data
from helpers import ROOT, SHARED_IMAGENET

NOTEBOOK = os.path.join(ROOT, "notebooks", "explainability_report.ipynb")


@pytest.mark.skipif(not os.path.exists(os.path.join(SHARED_IMAGENET, "manifest.tsv")),
                    reason="needs ../shared/data/imagenet")
def test_imagenet_world_runs_end_to_end(tmp_path, monkeypatch, full_vgg16_weights):
    results = tmp_path / "results"
    text = helpers.run_imagenet_world(NOTEBOOK, tmp_path, monkeypatch, full_vgg16_weights[0],
                                      dict(N_IMAGES=2, LIME_SAMPLES=20, CAM_LAYER=2,
                                           PROBE_PER_CLASS=1, RANDOMISED_FLOOR=False,
                                           RESULTS_DIR=str(results)))
    assert "produced in the ImageNet world" in text
    assert "CAM layer: conv1_1" in text
    assert "One network only in this world" in text          # no second network here
    assert "one row per unit of the three layers in every file: True" in text
    with open(results / "vgg16" / "descriptions.csv") as f:  # conv5_1-3: 512 units each
        assert len(f.read().splitlines()) == 1 + 3 * 512
    assert "every map lies in [0, 1]: True" in text
    assert "Score-CAM weights sum to 1 for every image: True" in text
    assert "LIME explains the model's top-1 class on every image: True" in text
    assert "mean IoU(Grad-CAM, LIME) = " in text and "over 2 images" in text


def test_synthetic_report_set_is_one_held_out_scene_per_class():
    from synthetic_world import scenes
    w = test_data.load_world("synthetic")
    s = w.image_set(test_data.EXPLAINABILITY_ROLE)
    assert list(s.labels) == list(range(len(scenes.CLASS_NAMES)))
    first = scenes.generate(3, 1, "heldout", seed=test_data.SYNTHETIC_SEED)
    np.testing.assert_array_equal(s.images[3], np.asarray(first[0])[0])
    np.testing.assert_array_equal(s.masks["object"][3], np.asarray(first[1]["object"])[0])
    assert len(w.image_set(test_data.EXPLAINABILITY_ROLE, limit=2)) == 2

"""The ImageNet-world path of notebooks/method_comparison.ipynb, end to end with tiny
settings (random official-layout VGG16 weights, two photos of ../shared): every method
runs, the mask-free columns are filled and the mask columns say why they are empty."""
import os

import pytest

from helpers import ROOT, SHARED_IMAGENET, run_imagenet_world

NOTEBOOK = os.path.join(ROOT, "notebooks", "method_comparison.ipynb")
TINY = dict(N_PHOTOS=2, STEPS=2, SAMPLES=2, OCCLUSION=56, LIME_SAMPLES=4, CURVE_STEP=128,
            SWEEP_PER_CLASS=0, RANDOMISED_PER_CLASS=0)   # every method once; CI has 30 min


@pytest.mark.skipif(not os.path.exists(os.path.join(SHARED_IMAGENET, "manifest.tsv")),
                    reason="needs ../shared/data/imagenet")
def test_imagenet_world_runs_end_to_end(tmp_path, monkeypatch, full_vgg16_weights):
    text = run_imagenet_world(NOTEBOOK, tmp_path, monkeypatch, full_vgg16_weights[0], TINY)
    assert "ImageNet world" in text
    for name in ("IG, zero baseline", "LRP (z^B + gamma)", "Score-CAM", "LIME", "random"):
        assert "| %s |" % name in text
    assert "the ImageNet world has no object masks" in text
    assert "synthetic world only" in text

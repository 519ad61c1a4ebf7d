"""The ImageNet-world path of notebooks/method_comparison.ipynb, end to end with tiny
settings (random official-layout VGG16 weights, two photos of ../shared): every method
runs, the mask-free columns are filled, the mask columns say why they are empty, and the
written answers are rendered from this world's numbers without synthetic-world wording
(checked by helpers.run_imagenet_world)."""
import os

import pytest

from helpers import ROOT, SHARED_IMAGENET, run_imagenet_world

NOTEBOOK = os.path.join(ROOT, "notebooks", "method_comparison.ipynb")
# Every method once, except Score-CAM: at conv5_3 it scores 512 masked copies of each
# 224 px photo (about 5 min here); tests/test_explainability_notebook.py runs its ImageNet
# path at conv1_1.
METHODS = ["IG, zero baseline", "IG, black baseline", "IG, white baseline",
           "IG, blurred baseline", "influence-directed (conv4_1)", "vanilla gradients",
           "SmoothGrad", "Gradient x Input", "LRP (z^B + gamma)", "occlusion", "Grad-CAM",
           "Ablation-CAM", "LIME", "random"]
TINY = dict(N_PHOTOS=2, STEPS=2, SAMPLES=2, OCCLUSION=56, LIME_SAMPLES=4, CURVE_STEP=128,
            SWEEP_PER_CLASS=0, RANDOMISED_PER_CLASS=0, METHODS=METHODS)


@pytest.mark.skipif(not os.path.exists(os.path.join(SHARED_IMAGENET, "manifest.tsv")),
                    reason="needs ../shared/data/imagenet")
def test_imagenet_world_runs_end_to_end(tmp_path, monkeypatch, full_vgg16_weights):
    text = run_imagenet_world(NOTEBOOK, tmp_path, monkeypatch, full_vgg16_weights[0], TINY)
    assert "ImageNet world" in text
    for name in METHODS:
        assert "| %s |" % name in text
    assert "these photos come with no object masks" in text
    assert "needs classes that differ in one known part" in text
    # the written answers are rendered in this world too, from its own numbers
    assert "**Which methods localise.** Not measured here" in text
    assert "**The ablation metrics.** The best insertion AUCs go to" in text
    assert "**Time.** Per image, the slowest methods are" in text

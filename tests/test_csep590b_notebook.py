"""The ImageNet-world path of notebooks/csep590b_hw2.ipynb, end to end with tiny
parameters (like tests/test_notebook.py for hw3): the official-layout VGG16 weight file
with random values (session fixture) through HW3_VGG16_WEIGHTS, and the real sample50
photos from ../shared through HW3_IMAGE_DIR. The committed notebook itself (synthetic
world) is checked by nbval in `make test`."""
import os

import pytest

from helpers import ROOT, SHARED_IMAGENET, run_imagenet_world

NOTEBOOK = os.path.join(ROOT, "notebooks", "csep590b_hw2.ipynb")
TINY = dict(N_SHOW=2, N_EVAL=2, SUPERPIXEL=56, SIZES=[56, 112], BLURS=[8.0], SAMPLES=2,
            STEPS=2, STEP=4, BATCH=8)


@pytest.mark.skipif(not os.path.exists(os.path.join(SHARED_IMAGENET, "manifest.tsv")),
                    reason="needs ../shared/data/imagenet")
def test_imagenet_world_runs_end_to_end(tmp_path, monkeypatch, full_vgg16_weights):
    text = run_imagenet_world(NOTEBOOK, tmp_path, monkeypatch, full_vgg16_weights[0], TINY)
    assert "ImageNet world" in text
    # the invariants hold in any world, whatever the weights
    for line in ("occlusion maps have the images' shape (N, H, W): True",
                 "each superpixel holds one value: True",
                 "SmoothGrad with sigma = 0 equals vanilla gradients: True",
                 "superpixel maps are (N, H/s, W/s): True",
                 "insertion runs from p_t(baseline) to p_t(image): True",
                 "deletion runs from p_t(image) to p_t(baseline): True",
                 "average deletion AUC, Random",
                 "The ImageNet world has no object masks"):
        assert line in text, line
    assert "image 0: predicted" in text and "(label: brambling)" in text
    # the answers are rendered from what can be measured without masks, and say so
    assert "what lies there only the picture shows" in text
    assert "Insertion ranks" in text and "deletion ranks" in text
    assert "x chance" not in text and "on the object" not in text

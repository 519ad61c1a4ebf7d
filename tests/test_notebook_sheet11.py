"""The ImageNet-world path of notebooks/tub_sheet11.ipynb, end to end with tiny settings:
the real loader on a synthetic weight file in the official VGG16 layout (random values)
and the castle photo from ../shared. The saved notebook (synthetic world) is checked by
nbval in `make test`."""
import os

import pytest

from helpers import ROOT, SHARED_IMAGENET, run_imagenet_world

NOTEBOOK = os.path.join(ROOT, "notebooks", "tub_sheet11.ipynb")


@pytest.mark.skipif(not os.path.exists(os.path.join(SHARED_IMAGENET, "manifest.tsv")),
                    reason="needs ../shared/data/imagenet")
def test_imagenet_world_runs_end_to_end(tmp_path, monkeypatch, full_vgg16_weights):
    text = run_imagenet_world(NOTEBOOK, tmp_path, monkeypatch, full_vgg16_weights[0],
                              dict(AM_STEPS=2, N_REAL=2))
    assert "ImageNet world" in text and "castle (index 483)" in text
    # the exact invariants hold in any world, whatever the weights
    assert "the rewritten model computes the same scores: True" in text
    assert "comparative relevance == absolute(c) - absolute(runner-up): True" in text
    assert "LRP-gamma's R1 equals the formula for every a and gamma: True" in text
    # the answers are rendered from what can be measured without masks, and say so
    assert "Negative relevance holds" in text and "only the picture shows" in text
    assert "x chance" not in text and "of it lies on the" not in text

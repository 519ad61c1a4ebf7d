"""The ImageNet-world path of notebooks/tub_sheet11.ipynb, end to end with tiny settings:
the real loader on a synthetic weight file in the official VGG16 layout (random values)
and the castle photo from ../shared. The saved notebook (synthetic world) is checked by
nbval in `make test`."""
import json
import os

import pytest

from helpers import ROOT, SHARED_IMAGENET
from test_notebook import _outputs_text

NOTEBOOK = os.path.join(ROOT, "notebooks", "tub_sheet11.ipynb")


@pytest.mark.skipif(not os.path.exists(os.path.join(SHARED_IMAGENET, "manifest.tsv")),
                    reason="needs ../shared/data/imagenet")
def test_imagenet_world_runs_end_to_end(tmp_path, monkeypatch, full_vgg16_weights):
    import papermill
    path, _ = full_vgg16_weights
    monkeypatch.setenv("HW3_VGG16_WEIGHTS", path)
    monkeypatch.setenv("HW3_IMAGE_DIR", SHARED_IMAGENET)
    monkeypatch.setenv("HW3_CACHE_DIR", str(tmp_path / "cache"))
    out = tmp_path / "imagenet.ipynb"
    papermill.execute_notebook(NOTEBOOK, str(out), cwd=os.path.join(ROOT, "notebooks"),
                               progress_bar=False,
                               parameters=dict(WORLD="imagenet", AM_STEPS=2, N_REAL=2))
    nb = json.load(open(out))
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    assert all(o.get("output_type") != "error" for c in code for o in c.get("outputs", []))
    text = "\n".join(_outputs_text(c) for c in code)
    assert "ImageNet world" in text and "castle (index 483)" in text
    # the exact invariants hold in any world, whatever the weights
    assert "the rewritten model computes the same scores: True" in text
    assert "comparative relevance == absolute(c) - absolute(runner-up): True" in text
    assert "LRP-gamma's R1 equals the formula for every a and gamma: True" in text
    cache = tmp_path / "cache"        # the photo came from HW3_IMAGE_DIR: nothing fetched
    assert not cache.exists() or not os.listdir(cache)

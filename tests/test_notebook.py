"""The ImageNet-world path of the notebook, end to end with tiny parameters.

CI cannot download VGG16's weights or the photos, so this runs the notebook through the
real loader on a synthetic weight file in the official layout (random values) and real
photos from ../shared: it proves the path a networked user takes does not crash. The
committed notebook itself (synthetic world) is checked by nbval in `make test`.
"""
import json
import os

import pytest

from helpers import ROOT, SHARED_IMAGENET
from helpers import notebook_outputs_text as _outputs_text

NOTEBOOK = os.path.join(ROOT, "hw3_explain.ipynb")


@pytest.mark.skipif(not os.path.exists(os.path.join(SHARED_IMAGENET, "manifest.tsv")),
                    reason="needs ../shared/data/imagenet")
def test_imagenet_world_runs_end_to_end(tmp_path, monkeypatch, full_vgg16_weights):
    import papermill
    path, _ = full_vgg16_weights
    monkeypatch.setenv("HW3_VGG16_WEIGHTS", path)
    monkeypatch.setenv("HW3_IMAGE_DIR", SHARED_IMAGENET)
    monkeypatch.setenv("HW3_CACHE_DIR", str(tmp_path / "cache"))
    out = tmp_path / "imagenet.ipynb"
    papermill.execute_notebook(NOTEBOOK, str(out), cwd=ROOT, progress_bar=False,
                               parameters=dict(WORLD="imagenet", STEPS=4, N_IMAGES=2,
                                               GRID=[0, 8, 512]))
    nb = json.load(open(out))
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    assert all(o.get("output_type") != "error" for c in code for o in c.get("outputs", []))
    text = "\n".join(_outputs_text(c) for c in code)
    assert "ImageNet world" in text
    # the exact invariants hold in any world, whatever the weights
    assert "comparative == absolute(sports car) - absolute(convertible): True" in text
    assert "keeping every channel gives the original recall: True" in text
    assert "Table 1 has one row per class: True" in text
    cache = tmp_path / "cache"        # every photo came from HW3_IMAGE_DIR: nothing fetched
    assert not cache.exists() or not os.listdir(cache)

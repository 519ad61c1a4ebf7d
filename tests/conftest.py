import os
import sys

# The project itself is installed (editable) into .venv by README's commands; the shared
# test helpers and toy models of this folder are imported by name.
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import hw3_env  # noqa: E402,F401  (configures Keras/Theano before any test imports them)

_shared = os.path.abspath(os.path.join(ROOT, "..", "shared", "data", "imagenet"))
if os.path.exists(os.path.join(_shared, "manifest.tsv")):
    os.environ.setdefault("HW3_IMAGE_DIR", _shared)

import pytest  # noqa: E402
import toys  # noqa: E402
from weights import stand_in  # noqa: E402


@pytest.fixture(scope="session")
def full_vgg16_weights(tmp_path_factory):
    """Session fixture shared by test files: (path, arrays) of a full-size (528 MB)
    stand-in VGG16 file in the official layout (:mod:`weights.stand_in`), written once
    and deleted at the end of the session (pytest keeps old temporary directories)."""
    path = str(tmp_path_factory.mktemp("vgg16_full") / "vgg16_stand_in_0.h5")
    arrays = stand_in.write_official_weight_file(path, style="keras1", backend=None, seed=0)
    yield path, arrays
    if os.path.exists(path):
        os.remove(path)


# Module-scoped toy models shared by test files (tests/toys.py builds them).
@pytest.fixture(scope="module")
def linear():
    """A linear model with closed-form attributions (:func:`toys.linear_model`)."""
    return toys.linear_model()


@pytest.fixture(scope="module")
def smooth():
    """A smooth (non-piecewise-linear) model (:func:`toys.smooth_model`)."""
    return toys.smooth_model()

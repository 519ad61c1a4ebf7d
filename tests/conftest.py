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

# Session fixture shared by test files: the full-size VGG16 weight file (528 MB, random).
from weightfiles import full_vgg16_weights  # noqa: E402,F401


# Module-scoped toy models shared by test files (tests/toys.py builds them).
import pytest  # noqa: E402
import toys  # noqa: E402


@pytest.fixture(scope="module")
def linear():
    """A linear model with closed-form attributions (:func:`toys.linear_model`)."""
    return toys.linear_model()


@pytest.fixture(scope="module")
def smooth():
    """A smooth (non-piecewise-linear) model (:func:`toys.smooth_model`)."""
    return toys.smooth_model()

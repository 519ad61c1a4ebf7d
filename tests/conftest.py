import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import hw3_env  # noqa: E402,F401  (configures Keras/Theano before any test imports them)

_shared = os.path.abspath(os.path.join(ROOT, "..", "shared", "data", "imagenet"))
if os.path.exists(os.path.join(_shared, "manifest.tsv")):
    os.environ.setdefault("HW3_IMAGE_DIR", _shared)

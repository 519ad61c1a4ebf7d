"""Runtime set-up for the legacy Keras 2.3.1 + Theano 1.0.5 stack on Python 3.11.

Import this module before anything imports keras or theano (every module of the
project does, and so does the notebook's first cell). It

* aliases ``collections.Iterable``/``Mapping``/``Sequence``/... to
  ``collections.abc`` (removed in Python 3.10, still used by Keras 2.3.1 and Theano);
* selects the Theano backend, ``channels_first`` and ``float32`` for Keras through a
  project-local Keras home (``.keras/keras.json``);
* sets default ``THEANO_FLAGS``: ``floatX=float32``, a project-local
  ``base_compiledir`` and a BLAS that links (:func:`blas_ldflags`): the OpenBLAS
  that SciPy's wheel ships (LP64, plain ``sgemm_`` symbols; NumPy's ``openblas64_``
  has suffixed ILP64 symbols and does not link), else Debian's ``-lopenblas``, else
  ``blas.ldflags=``, which makes Theano call NumPy's BLAS through the C API (about 7%
  slower on VGG16 gradients). ``openmp`` is never turned on: with ``blas.ldflags=``
  it crashes the process, and with OpenBLAS it made gradients no faster.

Nothing the user has set is overridden: an existing ``KERAS_BACKEND``,
``KERAS_HOME`` or any flag already present in ``THEANO_FLAGS`` wins.
"""
import collections
import collections.abc
import ctypes.util
import contextlib
import glob
import importlib.util
import io
import json
import logging
import os
import warnings

ROOT = os.path.dirname(os.path.abspath(__file__))

for _name in ("Iterable", "Mapping", "MutableMapping", "Sequence", "MutableSequence",
              "Set", "MutableSet", "Callable", "Hashable", "Sized", "Container",
              "Iterator", "Generator", "OrderedDict"):
    if not hasattr(collections, _name) and hasattr(collections.abc, _name):
        setattr(collections, _name, getattr(collections.abc, _name))


_LOADED = []   # handles of the bundled BLAS and its runtime libraries, kept loaded


def _links_sgemm(path):
    """True when the shared library at ``path`` loads and exports ``sgemm_``.

    Its companions in the same folder (the wheel's own libgfortran and libquadmath,
    which it needs but finds by no search path) are loaded first, globally, so the
    modules Theano compiles against it find them already in the process.
    """
    folder = os.path.dirname(path)
    try:
        for dep in (sorted(glob.glob(os.path.join(folder, "libquadmath*.so*")))
                    + sorted(glob.glob(os.path.join(folder, "libgfortran*.so*")))):
            _LOADED.append(ctypes.CDLL(dep, mode=ctypes.RTLD_GLOBAL))
        lib = ctypes.CDLL(path, mode=ctypes.RTLD_GLOBAL)
    except OSError:
        return False
    _LOADED.append(lib)
    return hasattr(lib, "sgemm_")


def _scipy_openblas():
    """(folder, file name) of the OpenBLAS bundled in SciPy's wheel, or None."""
    spec = importlib.util.find_spec("scipy")
    if spec is None or not spec.submodule_search_locations:
        return None
    libs = os.path.join(os.path.dirname(list(spec.submodule_search_locations)[0]),
                        "scipy.libs")
    for path in sorted(glob.glob(os.path.join(libs, "libopenblas*.so"))):
        # THEANO_FLAGS is split at commas and blas.ldflags at white space.
        if not any(c.isspace() or c == "," for c in path) and _links_sgemm(path):
            return libs, os.path.basename(path)
    return None


def blas_ldflags():
    """The ``blas.ldflags`` Theano links its BLAS calls with.

    Returns:
        ``-L<site-packages>/scipy.libs -l:<libopenblas...so>`` when SciPy's wheel
        bundles a usable OpenBLAS (the pinned SciPy does, so every machine gets the
        same BLAS), else ``-lopenblas`` when a system libopenblas is installed, else
        ``''`` (NumPy's BLAS through its C API).
    """
    bundled = _scipy_openblas()
    if bundled:
        return "-L%s -l:%s" % bundled
    if ctypes.util.find_library("openblas") is not None:
        return "-lopenblas"
    return ""


def default_theano_flags():
    """The flags this project wants, as a dict (before merging with the user's). The
    BLAS default is a function, so it is looked up (and its library loaded) only when
    the user has not set ``blas.ldflags``."""
    return {
        "floatX": "float32",
        "device": "cpu",
        "base_compiledir": os.path.join(ROOT, ".theano"),
        "blas.ldflags": blas_ldflags,
    }


def merge_theano_flags(user_flags, defaults):
    """Merge ``defaults`` into a ``THEANO_FLAGS`` string; the user's keys win.

    Args:
        user_flags: the current ``THEANO_FLAGS`` value (may be empty).
        defaults: dict of flag -> value, or a function of no arguments giving the
            value, called only when the user has not set that flag.
    Returns:
        the merged comma-separated string.
    """
    items = [f for f in (user_flags or "").split(",") if f.strip()]
    have = {f.split("=", 1)[0].strip() for f in items}
    items += ["%s=%s" % (k, v() if callable(v) else v)
              for k, v in defaults.items() if k not in have]
    return ",".join(items)


def _configure_keras_home():
    home = os.environ.setdefault("KERAS_HOME", os.path.join(ROOT, ".keras"))
    os.environ.setdefault("KERAS_BACKEND", "theano")
    path = os.path.join(home, "keras.json")
    if not os.path.exists(path):
        os.makedirs(home, exist_ok=True)
        with open(path + ".tmp", "w") as f:
            json.dump({"backend": "theano", "image_data_format": "channels_first",
                       "floatx": "float32", "epsilon": 1e-07}, f)
        os.replace(path + ".tmp", path)


os.environ["THEANO_FLAGS"] = merge_theano_flags(os.environ.get("THEANO_FLAGS", ""),
                                                default_theano_flags())
_configure_keras_home()
# Theano 1.0.5 and Keras 2.3.1 on a current NumPy/SciPy warn at import and on every
# compile about deprecated aliases; they are noise for our users.
warnings.filterwarnings("ignore", category=DeprecationWarning)
warnings.filterwarnings("ignore", category=FutureWarning)
warnings.filterwarnings("ignore", message=".*np.bool.*")
# "Using NumPy C-API based implementation for BLAS functions" is expected here.
logging.getLogger("theano.tensor.blas").setLevel(logging.ERROR)


def setup():
    """Import Keras configured for this project and return its backend ``K``.

    Sets channels_first/float32 explicitly (a user keras.json in KERAS_HOME may say
    otherwise) and the learning phase to 0 (inference), which raw ``theano.function``
    calls on Keras tensors need. Keras' ReLU activations then build
    :data:`theano_ops.relu.relu`, whose gradient reads the activation, not the
    pre-activation (which a gradient function would otherwise keep alive beside it).
    """
    with contextlib.redirect_stderr(io.StringIO()):   # "Using Theano backend."
        import keras.backend as K
    if K.backend() != "theano":
        raise RuntimeError("this project needs the Theano backend of Keras, but "
                           "KERAS_BACKEND=%r is set; unset it or set it to 'theano'"
                           % os.environ.get("KERAS_BACKEND"))
    K.set_image_data_format("channels_first")
    K.set_floatx("float32")
    K.set_learning_phase(0)
    from theano_ops import relu           # ReLU gradients read the activation (memory)
    relu.install()
    return K

"""hw3_env: the flags it sets, that the user's win, and that the BLAS it picks links."""
import os
import subprocess
import sys

import numpy as np

import hw3_env
from helpers import ROOT


def test_user_flags_win_and_defaults_fill_the_rest():
    merged = hw3_env.merge_theano_flags("floatX=float64,blas.ldflags=-lmkl",
                                        {"floatX": "float32", "blas.ldflags": "",
                                         "device": "cpu"})
    assert merged.split(",") == ["floatX=float64", "blas.ldflags=-lmkl", "device=cpu"]


def test_a_default_given_as_a_function_is_only_computed_when_needed():
    def must_not_run():
        raise AssertionError("looked up although the user set the flag")
    assert hw3_env.merge_theano_flags("blas.ldflags=", {"blas.ldflags": must_not_run}) \
        == "blas.ldflags="
    assert hw3_env.merge_theano_flags("", {"blas.ldflags": lambda: "-lopenblas"}) \
        == "blas.ldflags=-lopenblas"


def test_blas_is_the_openblas_scipy_ships():
    """The pinned SciPy wheel bundles OpenBLAS; Theano links against it (not NumPy's
    C-API fallback), and a gemm compiled with it gives NumPy's product."""
    import theano
    import theano.tensor as T
    flags = hw3_env.blas_ldflags()
    assert flags.startswith("-L") and "scipy.libs" in flags and "-l:libopenblas" in flags
    assert theano.config.blas.ldflags == flags
    a, b = T.matrices("a", "b")
    f = theano.function([a, b], T.dot(a, b))
    assert any("Gemm" in type(n.op).__name__ or "Dot22" in type(n.op).__name__
               for n in f.maker.fgraph.toposort())
    rng = np.random.RandomState(0)
    x, y = rng.randn(65, 70).astype("float32"), rng.randn(70, 33).astype("float32")
    np.testing.assert_allclose(f(x, y), x @ y, rtol=1e-5, atol=1e-5)


def test_without_a_bundled_or_system_openblas_the_fallback_is_numpys(monkeypatch):
    monkeypatch.setattr(hw3_env.importlib.util, "find_spec", lambda name: None)
    monkeypatch.setattr(hw3_env.ctypes.util, "find_library", lambda name: None)
    assert hw3_env.blas_ldflags() == ""
    monkeypatch.setattr(hw3_env.ctypes.util, "find_library", lambda name: "libopenblas.so.0")
    assert hw3_env.blas_ldflags() == "-lopenblas"


def test_a_library_that_does_not_load_is_not_chosen(tmp_path):
    bogus = tmp_path / "libopenblas_broken.so"
    bogus.write_bytes(b"not an ELF file")
    assert hw3_env._links_sgemm(str(bogus)) is False


def test_a_users_blas_flag_is_kept_in_a_fresh_process():
    env = dict(os.environ, THEANO_FLAGS="blas.ldflags=")
    out = subprocess.run([sys.executable, "-c", "import hw3_env, theano; "
                          "print(repr(theano.config.blas.ldflags))"],
                         cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "''"

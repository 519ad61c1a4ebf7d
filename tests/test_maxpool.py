"""The C max-pool op (theano_ops/maxpool.py): values, first-argmax gradient, C = NumPy, errors."""
import numpy as np
import pytest
import theano
import theano.tensor as T
from theano.tensor.signal.pool import pool_2d

from theano_ops import maxpool

PY = theano.compile.Mode(linker="py", optimizer="fast_run")


def _functions(dtype="float32"):
    x = T.tensor4("x", dtype=dtype)
    gz = T.tensor4("gz", dtype=dtype)
    y = maxpool.max_pool_2x2(x)
    gx = T.grad((y * gz).sum(), x)
    return [theano.function([x, gz], [y, gx], mode=m) for m in (None, PY)]


def _ties(rng, shape, dtype):
    """Random data with many ties: small integers, so windows often repeat their max."""
    return rng.randint(-2, 3, size=shape).astype(dtype)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_values_equal_theano_pool_and_c_equals_numpy(dtype):
    rng = np.random.RandomState(0)
    f_c, f_py = _functions(dtype)
    x = T.tensor4(dtype=dtype)
    ref = theano.function([x], pool_2d(x, (2, 2), ignore_border=True, mode="max"))
    for data in (rng.randn(2, 3, 6, 8).astype(dtype), _ties(rng, (3, 2, 10, 4), dtype)):
        gz = rng.randn(data.shape[0], data.shape[1], data.shape[2] // 2,
                       data.shape[3] // 2).astype(dtype)
        (y, gx), (y_py, gx_py) = f_c(data, gz), f_py(data, gz)
        np.testing.assert_array_equal(y, ref(data))
        np.testing.assert_array_equal(y, y_py)
        np.testing.assert_array_equal(gx, gx_py)      # the C and NumPy selections agree
        assert y.dtype == gx.dtype == np.dtype(dtype)


def test_gradient_goes_to_the_first_maximum_in_row_major_order():
    """Known answers on hand-made windows, including every pattern of ties."""
    f_c, f_py = _functions()
    win = np.array([[[[1, 3], [3, 0]]],               # tie top-right / bottom-left
                    [[[0, 0], [0, 0]]],               # four ties
                    [[[-1, -2], [-3, 5]]],            # unique, bottom-right
                    [[[2, 2], [1, 9]]]], np.float32)  # top ties lose to a larger later one
    want = np.zeros_like(win)
    want[0, 0, 0, 1] = want[1, 0, 0, 0] = want[2, 0, 1, 1] = want[3, 0, 1, 1] = 1
    for f in (f_c, f_py):
        y, gx = f(win, np.ones((4, 1, 1, 1), np.float32))
        np.testing.assert_array_equal(y.ravel(), [3, 0, 5, 9])
        np.testing.assert_array_equal(gx, want)


def test_gradient_matches_finite_differences_without_ties():
    rng = np.random.RandomState(1)
    data = rng.permutation(4 * 6 * 8).reshape(1, 4, 6, 8).astype(np.float64) / 7.0
    theano.gradient.verify_grad(maxpool.max_pool_2x2, [data], rng=rng, eps=1e-4)


def test_tie_gradient_differs_from_theano_maxpoolgrad():
    """The reason for the op: Theano's gradient credits all four tied elements."""
    x = T.tensor4()
    g_ref = theano.function([x], T.grad(pool_2d(x, (2, 2), ignore_border=True).sum(), x))
    g_ours = theano.function([x], T.grad(maxpool.max_pool_2x2(x).sum(), x))
    flat = np.ones((1, 1, 4, 4), np.float32)
    assert g_ref(flat).sum() == 16 and g_ours(flat).sum() == 4


def test_non_contiguous_input_and_shape_inference():
    x = T.tensor4()
    y = maxpool.max_pool_2x2(x.dimshuffle(0, 1, 3, 2))
    f = theano.function([x], [y, y.shape, T.grad(y.sum(), x)])
    data = np.random.RandomState(2).randn(2, 3, 4, 6).astype(np.float32)
    out, shape, gx = f(data)
    np.testing.assert_array_equal(out, data.transpose(0, 1, 3, 2).reshape(
        2, 3, 3, 2, 2, 2).max(axis=(3, 5)))
    assert tuple(shape) == (2, 3, 3, 2) and gx.sum() == out.size
    assert not any(isinstance(n.op, maxpool.MaxPool2x2) for n in
                   theano.function([x], y.shape).maker.fgraph.toposort())


@pytest.mark.parametrize("mode", [None, PY])
def test_odd_sizes_are_a_clear_error(mode):
    x = T.tensor4()
    f = theano.function([x], maxpool.max_pool_2x2(x), mode=mode)
    with pytest.raises(ValueError, match="even H and W"):
        f(np.zeros((1, 1, 5, 4), np.float32))


def test_wrong_rank_or_dtype_is_a_clear_error():
    with pytest.raises(TypeError, match="4-d float32/float64"):
        maxpool.max_pool_2x2(T.matrix())
    with pytest.raises(TypeError, match="4-d float32/float64"):
        maxpool.max_pool_2x2(T.itensor4())
    x = T.tensor4()
    gx = T.grad(maxpool.max_pool_2x2(x).sum(), x)
    with pytest.raises(theano.gradient.NullTypeGradError, match="second derivatives"):
        T.grad(gx.sum(), x)

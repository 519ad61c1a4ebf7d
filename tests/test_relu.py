"""The ReLU whose gradient reads its output (theano_ops/relu.py): values equal Theano's
relu, the gradient equals Theano's away from 0 and is 0 at 0, C = Python, and a
gradient function no longer keeps the pre-activation."""
import numpy as np
import pytest
import theano
import theano.tensor as T

import hw3_env
from theano_ops import relu

K = hw3_env.setup()
PY = theano.compile.Mode(linker="py", optimizer="fast_run")


def _functions(dtype):
    x, gz = T.vector("x", dtype=dtype), T.vector("gz", dtype=dtype)
    out = []
    for op in (relu.relu, T.nnet.relu):
        y = op(x)
        out.append([theano.function([x, gz], [y, T.grad((y * gz).sum(), x)], mode=m)
                    for m in (None, PY)])
    return out


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_values_and_gradient_equal_theano_relu_except_at_zero(dtype):
    rng = np.random.RandomState(0)
    ours, theirs = _functions(dtype)
    x = np.concatenate([rng.randn(1000), [0.0, -0.0, np.inf, -1e-30, 1e-30, 3.0, -3.0]]
                       ).astype(dtype)
    gz = rng.randn(len(x)).astype(dtype)
    (y, gx), (y_py, gx_py) = ours[0](x, gz), ours[1](x, gz)
    y_ref, gx_ref = theirs[0](x, gz)
    np.testing.assert_array_equal(y, y_ref)
    assert not np.signbit(y).any()                       # +0, never -0, as Theano's
    np.testing.assert_array_equal(y_py, y)
    np.testing.assert_array_equal(gx_py, gx)
    nonzero = x != 0
    np.testing.assert_array_equal(gx[nonzero], gx_ref[nonzero])
    np.testing.assert_array_equal(gx[~nonzero], 0)       # PyTorch's convention, not 1/2
    np.testing.assert_array_equal(gx_ref[~nonzero], 0.5 * gz[~nonzero])
    assert y.dtype == gx.dtype == np.dtype(dtype)


def test_nan_stays_nan():
    x = T.vector("x", dtype="float32")
    for mode in (None, PY):
        f = theano.function([x], relu.relu(x), mode=mode)
        y = f(np.array([np.nan, -1, 2], np.float32))
        assert np.isnan(y[0]) and y[1] == 0 and y[2] == 2


def test_gradient_by_finite_differences():
    """On a small float64 network with ReLUs (no point near a kink)."""
    rng = np.random.RandomState(1)
    w1, w2 = rng.randn(6, 5), rng.randn(5)
    x = T.vector("x", dtype="float64")
    q = T.dot(relu.relu(T.dot(x, w1)), w2)
    f = theano.function([x], q)
    g = theano.function([x], T.grad(q, x))
    x0 = rng.randn(6)
    eps = 1e-6
    fd = np.array([(f(x0 + eps * e) - f(x0 - eps * e)) / (2 * eps) for e in np.eye(6)])
    np.testing.assert_allclose(g(x0), fd, rtol=1e-6, atol=1e-8)


def _conv_output_readers(build_relu):
    """How many nodes of a compiled input gradient read each forward convolution's
    output (the pre-activation), for two 3x3 conv + ReLU layers."""
    rng = np.random.RandomState(2)
    x = T.tensor4("x", dtype="float32")
    h = x
    for c_in in (3, 4):
        w = theano.shared(rng.randn(4, c_in, 3, 3).astype(np.float32))
        h = build_relu(T.nnet.conv2d(h, w, border_mode="half"))
    f = theano.function([x], T.grad(h.sum(), x))
    convs = [n for n in f.maker.fgraph.toposort()
             if "Corr" in type(n.op).__name__ and "grad" not in type(n.op).__name__.lower()]
    assert len(convs) == 2, [type(n.op).__name__ for n in f.maker.fgraph.toposort()]
    return f, [len(n.outputs[0].clients) for n in convs]


def test_a_gradient_function_reads_the_pre_activation_only_once():
    """With this ReLU only the ReLU reads a convolution's output, so it is freed (or
    overwritten) once the activation exists; with Theano's relu the backward pass reads
    it again, so it stays alive beside the activation. The gradients agree."""
    ours, readers = _conv_output_readers(relu.relu)
    theirs, readers_theano = _conv_output_readers(T.nnet.relu)
    assert readers == [1, 1] and max(readers_theano) == 2, (readers, readers_theano)
    x = np.random.RandomState(3).randn(2, 3, 9, 9).astype(np.float32)
    np.testing.assert_allclose(ours(x), theirs(x), rtol=1e-6, atol=1e-6)


def test_keras_relu_activations_build_it():
    """hw3_env.setup() installs it in Keras' backend; other arguments keep Keras' relu."""
    from keras.layers import Conv2D, Dense
    from keras.models import Sequential
    m = Sequential([Conv2D(4, (3, 3), activation="relu", input_shape=(3, 8, 8)),
                    Dense(2, activation="relu")])
    assert all(layer.output.owner.op == relu.relu for layer in m.layers)
    assert K.relu(m.input, alpha=0.1).owner.op != relu.relu
    hw3_env.setup()                                   # idempotent
    assert K.relu(m.input).owner.op == relu.relu

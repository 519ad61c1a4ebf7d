"""The tiled im2col convolution (theano_ops/corr_tiled.py) against an independent NumPy
correlation and against Theano's own CorrMM, and its lowering from conv2d."""
import numpy as np
import pytest
import theano
import theano.tensor as T
from theano.tensor.nnet import conv2d
from theano.tensor.nnet.corr import CorrMM, CorrMM_gradInputs

from theano_ops import corr_tiled

pytestmark = pytest.mark.skipif(not corr_tiled.usable(),
                                reason="Theano links no OpenBLAS here")
corr_tiled.register()
WITHOUT = theano.compile.get_default_mode().excluding("tiled_corr")


def numpy_corr(x, w):
    """y[n, k, i, j] = sum_{c,a,b} x[n, c, i+a, j+b] w[k, c, a, b], in float64."""
    n, c, h, wd = x.shape
    k, _, kh, kw = w.shape
    y = np.zeros((n, k, h - kh + 1, wd - kw + 1))
    for a in range(kh):
        for b in range(kw):
            patch = x[:, :, a:a + h - kh + 1, b:b + wd - kw + 1].astype(np.float64)
            y += np.einsum("nchw,kc->nkhw", patch, w[:, :, a, b].astype(np.float64))
    return y


SHAPES = [((2, 3, 10, 9), (4, 3, 3, 3)),     # several tiles with a short last one
          ((1, 5, 7, 12), (6, 5, 2, 3)),     # non-square kernel
          ((3, 1, 3, 3), (2, 1, 3, 3)),      # 1x1 output
          ((4, 8, 6, 6), (1, 8, 1, 1))]      # 1x1 kernel, one output channel


def _ops(tile, dtype):
    x, w, gy = T.tensor4(dtype=dtype), T.tensor4(dtype=dtype), T.tensor4(dtype=dtype)
    ours = theano.function([x, w], corr_tiled.tiled_corr(x, w, tile, 1))
    ours_gi = theano.function([w, gy], corr_tiled.tiled_corr_grad_inputs(w, gy, tile, 1))
    ref = theano.function([x, w], CorrMM()(x, w))
    ref_gi = theano.function([w, gy, x], CorrMM_gradInputs()(w, gy, x.shape[2:]))
    return ours, ours_gi, ref, ref_gi


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("tile", [1, 40, corr_tiled.TILE_FLOATS])
def test_forward_and_input_gradient_match_numpy_and_corrmm(dtype, tile):
    ours, ours_gi, ref, ref_gi = _ops(tile, dtype)
    rng = np.random.RandomState(0)
    tol = 1e-5 if dtype == "float32" else 1e-12
    for xs, ws in SHAPES:
        x, w = rng.randn(*xs).astype(dtype), rng.randn(*ws).astype(dtype)
        y = ours(x, w)
        assert y.dtype == np.dtype(dtype)
        np.testing.assert_allclose(y, numpy_corr(x, w), rtol=tol, atol=tol)
        np.testing.assert_allclose(y, ref(x, w), rtol=tol, atol=tol)
        gy = rng.randn(*y.shape).astype(dtype)
        gx = ours_gi(w, gy)
        np.testing.assert_allclose(gx, ref_gi(w, gy, x), rtol=tol, atol=tol)
        # the input gradient is the adjoint of the forward map: <corr(x), gy> = <x, gx>
        np.testing.assert_allclose(np.vdot(numpy_corr(x, w), gy), np.vdot(x, gx),
                                   rtol=1e-4 if dtype == "float32" else 1e-10)


def test_results_do_not_depend_on_threads_or_runs():
    """Deterministic: images are independent, so two runs agree bit for bit."""
    ours, ours_gi, _, _ = _ops(64, "float32")
    rng = np.random.RandomState(1)
    x, w = rng.randn(5, 4, 12, 11).astype("float32"), rng.randn(3, 4, 3, 3).astype("float32")
    gy = rng.randn(5, 3, 10, 9).astype("float32")
    np.testing.assert_array_equal(ours(x, w), ours(x, w))
    np.testing.assert_array_equal(ours_gi(w, gy), ours_gi(w, gy))


def _conv_and_grad(mode, **kw):
    x, w = T.tensor4("x"), T.tensor4("w")
    y = T.nnet.relu(conv2d(x, w, **kw))
    return theano.function([x, w], [y, T.grad(y.sum(), x), T.grad(y.sum(), w)], mode=mode)


def test_conv2d_and_its_input_gradient_are_lowered_to_the_tiled_ops():
    f = _conv_and_grad(None)
    ops = {type(n.op) for n in f.maker.fgraph.toposort()}
    assert corr_tiled.TiledCorr in ops and corr_tiled.TiledCorrGradInputs in ops
    assert CorrMM not in ops                     # the weight gradient stays CorrMM's
    g = _conv_and_grad(WITHOUT)
    assert corr_tiled.TiledCorr not in {type(n.op) for n in g.maker.fgraph.toposort()}
    rng = np.random.RandomState(2)
    x, w = rng.randn(2, 3, 9, 8).astype("float32"), rng.randn(5, 3, 3, 3).astype("float32")
    for a, b in zip(f(x, w), g(x, w)):          # filter flip included
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("kw", [dict(subsample=(2, 2)), dict(border_mode="half"),
                                dict(filter_dilation=(2, 2))])
def test_other_convolutions_stay_with_corrmm(kw):
    f = _conv_and_grad(None, **kw)
    assert corr_tiled.TiledCorr not in {type(n.op) for n in f.maker.fgraph.toposort()}


def test_mismatched_shapes_are_a_clear_error():
    ours, ours_gi, _, _ = _ops(corr_tiled.TILE_FLOATS, "float32")
    with pytest.raises(ValueError, match="do not fit"):
        ours(np.zeros((1, 3, 5, 5), np.float32), np.zeros((2, 4, 3, 3), np.float32))
    with pytest.raises(ValueError, match="do not fit"):
        ours(np.zeros((1, 3, 2, 5), np.float32), np.zeros((2, 3, 3, 3), np.float32))
    with pytest.raises(ValueError, match="output channels"):
        ours_gi(np.zeros((2, 3, 3, 3), np.float32), np.zeros((1, 4, 3, 3), np.float32))
    with pytest.raises(TypeError, match="one dtype"):
        corr_tiled.tiled_corr(T.tensor4(dtype="float32"), T.tensor4(dtype="float64"))


# -- zero padding absorbed by the convolution ------------------------------------------
PADS = [(1, 1, 1, 1), (2, 0, 0, 3), (0, 1, 2, 0)]


@pytest.mark.parametrize("pad", PADS)
def test_padded_ops_match_numpy_on_the_padded_image(pad):
    pt, pb, pl, pr = pad
    x, w, gy = T.tensor4(), T.tensor4(), T.tensor4()
    f = theano.function([x, w], corr_tiled.tiled_corr(x, w, 40, 1, pad))
    g = theano.function([w, gy], corr_tiled.tiled_corr_grad_inputs(w, gy, 40, 1, pad))
    rng = np.random.RandomState(3)
    for xs, ws in SHAPES[:3]:
        xv, wv = rng.randn(*xs).astype("float32"), rng.randn(*ws).astype("float32")
        xp = np.pad(xv, ((0, 0), (0, 0), (pt, pb), (pl, pr)))
        y = f(xv, wv)
        np.testing.assert_allclose(y, numpy_corr(xp, wv), rtol=1e-5, atol=1e-5)
        gyv = rng.randn(*y.shape).astype("float32")
        gx = g(wv, gyv)
        assert gx.shape == xv.shape
        # adjoint of pad-then-correlate: <corr(pad(x)), gy> = <x, gx>
        np.testing.assert_allclose(np.vdot(y.astype(np.float64), gyv), np.vdot(xv, gx),
                                   rtol=1e-4)


def test_pad_and_crop_ops_and_their_gradients():
    x = T.tensor4()
    pad = (2, 0, 1, 3)
    y = corr_tiled.zero_pad_2d(x, pad)
    xv = np.random.RandomState(4).randn(2, 3, 4, 5).astype("float32")
    f = theano.function([x], [y, T.grad((y * y).sum(), x)])
    yv, gx = f(xv)
    np.testing.assert_array_equal(yv, np.pad(xv, ((0, 0), (0, 0), (2, 0), (1, 3))))
    np.testing.assert_allclose(gx, 2 * xv)          # d/dx sum(pad(x)^2) = 2x
    theano.gradient.verify_grad(lambda v: corr_tiled.zero_pad_2d(v, pad),
                                [xv.astype(np.float64)], rng=np.random.RandomState(5))
    with pytest.raises(ValueError, match="top, bottom, left, right"):
        corr_tiled.zero_pad_2d(x, (1, 1))


def _keras_like(mode):
    """ZeroPad2D -> conv2d -> relu, twice, as models.VGG_16 builds it."""
    x, w1, w2 = T.tensor4("x"), T.tensor4("w1"), T.tensor4("w2")
    h = T.nnet.relu(conv2d(corr_tiled.zero_pad_2d(x, (1, 1, 1, 1)), w1))
    y = T.nnet.relu(conv2d(corr_tiled.zero_pad_2d(h, (1, 1, 1, 1)), w2))
    return theano.function([x, w1, w2], [y, T.grad(y.sum(), x)], mode=mode)


def test_padding_is_absorbed_and_changes_nothing():
    f, ref = _keras_like(None), _keras_like(WITHOUT)
    ops = [n.op for n in f.maker.fgraph.toposort()]
    assert not any(isinstance(op, (corr_tiled.ZeroPad2D, corr_tiled.Crop2D)) for op in ops)
    assert [op.pad for op in ops if isinstance(op, corr_tiled.TiledCorr)] == [(1, 1, 1, 1)] * 2
    assert any(isinstance(op, corr_tiled.ZeroPad2D) for op in
               (n.op for n in ref.maker.fgraph.toposort()))
    rng = np.random.RandomState(6)
    args = (rng.randn(3, 2, 7, 6).astype("float32"), rng.randn(4, 2, 3, 3).astype("float32"),
            rng.randn(5, 4, 3, 3).astype("float32"))
    for a, b in zip(f(*args), ref(*args)):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5)


# -- kernel layouts: Keras' stored (kh, kw, C, K) kernel is read as it is -------------
@pytest.mark.parametrize("layout", ["oihw", "hwio"])
@pytest.mark.parametrize("flip", [False, True])
def test_kernel_layouts_and_flip_match_numpy(layout, flip):
    x, w, gy = T.tensor4(), T.tensor4(), T.tensor4()
    kw = dict(tile_floats=40, min_columns=1, pad=(1, 0, 2, 1), layout=layout, flip=flip)
    f = theano.function([x, w], corr_tiled.tiled_corr(x, w, **kw))
    g = theano.function([w, gy], corr_tiled.tiled_corr_grad_inputs(w, gy, **kw))
    rng = np.random.RandomState(7)
    xv = rng.randn(3, 4, 6, 7).astype("float32")
    oihw = rng.randn(5, 4, 3, 2).astype("float32")
    stored = oihw.transpose(2, 3, 1, 0).copy() if layout == "hwio" else oihw
    taps = oihw[:, :, ::-1, ::-1] if flip else oihw
    xp = np.pad(xv, ((0, 0), (0, 0), (1, 0), (2, 1)))
    y = f(xv, stored)
    np.testing.assert_allclose(y, numpy_corr(xp, taps), rtol=1e-5, atol=1e-5)
    gyv = rng.randn(*y.shape).astype("float32")
    np.testing.assert_allclose(np.vdot(y.astype(np.float64), gyv), np.vdot(xv, g(stored, gyv)),
                               rtol=1e-4)


def test_keras_kernels_are_passed_as_stored():
    """Keras feeds conv2d W.dimshuffle(3, 2, 0, 1) of its (kh, kw, C, K) kernel: the
    lowering reads W itself ('hwio', flipped), with the same result as CorrMM."""
    x, W = T.tensor4("x"), T.tensor4("W")
    y = T.nnet.relu(conv2d(corr_tiled.zero_pad_2d(x, (1, 1, 1, 1)), W.dimshuffle(3, 2, 0, 1)))
    outs = [y, T.grad(y.sum(), x)]
    f = theano.function([x, W], outs)
    ref = theano.function([x, W], outs, mode=WITHOUT)
    tiled = [n.op for n in f.maker.fgraph.toposort()
             if isinstance(n.op, (corr_tiled.TiledCorr, corr_tiled.TiledCorrGradInputs))]
    assert len(tiled) == 2 and all(op.layout == "hwio" and op.flip for op in tiled)
    rng = np.random.RandomState(8)
    args = rng.randn(2, 3, 8, 9).astype("float32"), rng.randn(3, 3, 3, 4).astype("float32")
    for a, b in zip(f(*args), ref(*args)):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5)


def test_bias_is_added_inside_the_convolution():
    """conv2d(...) + b[None, :, None, None], Keras' bias_add, becomes one TiledCorr
    with a bias input; values and gradients as without the rewrite."""
    x, W, b = T.tensor4("x"), T.tensor4("W"), T.vector("b")
    pre = conv2d(corr_tiled.zero_pad_2d(x, (1, 1, 1, 1)), W.dimshuffle(3, 2, 0, 1))
    y = T.nnet.relu(pre + b.dimshuffle("x", 0, "x", "x"))
    outs = [y, T.grad(y.sum(), x), T.grad(y.sum(), b)]
    f = theano.function([x, W, b], outs)
    ref = theano.function([x, W, b], outs, mode=WITHOUT)
    convs = [n for n in f.maker.fgraph.toposort() if isinstance(n.op, corr_tiled.TiledCorr)]
    assert len(convs) == 1 and len(convs[0].inputs) == 3
    rng = np.random.RandomState(9)
    args = (rng.randn(2, 3, 8, 9).astype("float32"), rng.randn(3, 3, 3, 4).astype("float32"),
            rng.randn(4).astype("float32"))
    for a, c in zip(f(*args), ref(*args)):
        np.testing.assert_allclose(a, c, rtol=1e-5, atol=1e-5)
    direct = theano.function([x, W, b], corr_tiled.TiledCorr()(x, W, b))
    with pytest.raises(ValueError, match="bias has 3 values for 4"):
        direct(np.zeros((1, 4, 5, 5), np.float32), np.zeros((4, 4, 3, 3), np.float32),
               np.zeros(3, np.float32))

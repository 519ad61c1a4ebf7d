"""Winograd's F(2x2, 3x3) and F(4x4, 3x3) paths of the tiled convolution ops
(theano_ops/winograd.py): the algorithm against a direct float64 correlation, the C
paths against the im2col path (forward and input gradient, every padding, layout, flip
and a bias), and which one 'auto' takes."""
import numpy as np
import pytest
import theano
import theano.tensor as T

from theano_ops import corr_tiled, winograd

pytestmark = pytest.mark.skipif(not corr_tiled.usable(),
                                reason="Theano links no OpenBLAS here")


def direct_corr(x, w, pad):
    """y[n, k, i, j] = sum_{c,a,b} xpad[n, c, i+a, j+b] w[k, c, a, b], in float64."""
    pt, pb, pl, pr = pad
    x = np.pad(x.astype(np.float64), ((0, 0), (0, 0), (pt, pb), (pl, pr)))
    ho, wo = x.shape[2] - 2, x.shape[3] - 2
    return sum(np.einsum("nchw,kc->nkhw", x[:, :, a:a + ho, b:b + wo], w[:, :, a, b])
               for a in range(3) for b in range(3))


def rel(a, b):
    return np.linalg.norm(a - b) / np.linalg.norm(b)


@pytest.mark.parametrize("m", [2, 4])
@pytest.mark.parametrize("shape,pad", [((2, 3, 7, 9), (0, 0, 0, 0)),     # odd: partial tiles
                                       ((1, 4, 6, 6), (1, 1, 1, 1)),
                                       ((2, 2, 5, 4), (2, 0, 1, 2))])
def test_numpy_algorithm_is_the_correlation(shape, pad, m):
    rng = np.random.RandomState(0)
    x, w = rng.randn(*shape), rng.randn(5, shape[1], 3, 3)
    np.testing.assert_allclose(winograd.winograd_corr(x, w, pad, m=m), direct_corr(x, w, pad),
                               rtol=1e-10, atol=1e-10)


def test_numpy_algorithm_names_a_bad_tile():
    with pytest.raises(ValueError, match="m must be one of"):
        winograd.winograd_corr(np.zeros((1, 1, 4, 4)), np.zeros((1, 1, 3, 3)), m=3)


def _pair(mode, pad, layout, flip, bias):
    x, w, gy, b = T.tensor4(), T.tensor4(), T.tensor4(), T.vector()
    ins = [x, w] + ([b] if bias else [])
    fwd = theano.function(ins, corr_tiled.TiledCorr(pad=pad, layout=layout, flip=flip,
                                                    winograd=mode)(*ins))
    grad = theano.function([w, gy], corr_tiled.TiledCorrGradInputs(
        pad=pad, layout=layout, flip=flip, winograd=mode)(w, gy))
    return fwd, grad


#: elementwise tolerance to im2col, in units of the output's largest magnitude: F(4x4,
#: 3x3)'s transforms (factors up to 8 and 1/24) round about 6x more than F(2x2, 3x3)'s
TOLERANCE = {"always": 1e-6, "always4": 1e-5}


@pytest.mark.parametrize("mode", ["always", "always4"])
@pytest.mark.parametrize("pad", [(0, 0, 0, 0), (1, 1, 1, 1), (2, 0, 1, 2)])
@pytest.mark.parametrize("layout,flip", [("oihw", False), ("hwio", False), ("hwio", True)])
def test_winograd_path_matches_im2col_and_numpy(pad, layout, flip, mode):
    rng = np.random.RandomState(1)
    bias = pad == (1, 1, 1, 1)
    wino, im2col = _pair(mode, pad, layout, flip, bias), _pair("never", pad, layout, flip,
                                                                bias)
    for n, c, k, h, wd in [(2, 3, 4, 7, 9), (3, 16, 9, 5, 4), (1, 6, 5, 1, 2)]:
        if h + pad[0] + pad[1] < 3 or wd + pad[2] + pad[3] < 3:
            continue                                     # no output: the kernel does not fit
        x = rng.randn(n, c, h, wd).astype("float32")
        w = rng.randn(k, c, 3, 3).astype("float32")
        stored = w.transpose(2, 3, 1, 0).copy() if layout == "hwio" else w
        b = rng.randn(k).astype("float32")
        args = [x, stored] + ([b] if bias else [])
        y, y0 = wino[0](*args), im2col[0](*args)
        np.testing.assert_allclose(y, y0, rtol=0, atol=TOLERANCE[mode] * np.abs(y0).max())
        taps = w[:, :, ::-1, ::-1] if flip else w
        expected = direct_corr(x, taps, pad) + (b[None, :, None, None] if bias else 0)
        np.testing.assert_allclose(y, expected, rtol=1e-4, atol=1e-4)
        gy = rng.randn(*y.shape).astype("float32")
        gx, gx0 = wino[1](stored, gy), im2col[1](stored, gy)
        np.testing.assert_allclose(gx, gx0, rtol=0, atol=TOLERANCE[mode] * np.abs(gx0).max())
        # the input gradient is the forward map's adjoint: <corr(x), gy> = <x, gx>
        lhs = np.vdot(direct_corr(x, taps, pad), gy)
        assert np.vdot(x.astype(np.float64), gx) == pytest.approx(lhs, rel=1e-4, abs=1e-3)


@pytest.mark.parametrize("c,k,size,path", [(512, 512, 28, "always4"), (512, 512, 14, "always4"),
                                           (256, 128, 15, "always4"), (64, 128, 10, "always")])
def test_real_sized_layers_agree_within_1e5(c, k, size, path):
    """VGG16's conv4 and conv5 layers (and an odd size, a channel change, a map too
    small for F(4x4, 3x3)): 'auto' takes ``path``, and the relative L2 of its forward and
    input gradient to the im2col op is at most 1e-5."""
    rng = np.random.RandomState(2)
    x = np.maximum(rng.randn(2, c, size, size), 0).astype("float32")
    w = (rng.randn(3, 3, c, k) * np.sqrt(2.0 / (9 * c))).astype("float32")
    (f1, g1), (fp, gp), (f0, g0) = (_pair(m, (1, 1, 1, 1), "hwio", True, False)
                                    for m in ("auto", path, "never"))
    y0, y1 = f0(x, w), f1(x, w)
    assert np.array_equal(y1, fp(x, w))
    assert rel(y1, y0) <= 1e-5
    gy = rng.randn(*y0.shape).astype("float32")
    g = g1(w, gy)
    assert np.array_equal(g, gp(w, gy))
    assert rel(g, g0(w, gy)) <= 1e-5


def test_auto_takes_winograd_from_min_channels_and_size_on():
    """'auto' runs F(4x4, 3x3) from MIN_CHANNELS_4 channels and MIN_SIZE_4 rows, else
    F(2x2, 3x3) from MIN_CHANNELS and MIN_SIZE, else im2col (``tile_size`` says which)."""
    rng = np.random.RandomState(3)
    least, size = winograd.MIN_CHANNELS, winograd.MIN_SIZE
    least4, size4 = winograd.MIN_CHANNELS_4, winograd.MIN_SIZE_4
    auto, always, always4, never = (_pair(m, (1, 1, 1, 1), "oihw", False, False)[0]
                                    for m in ("auto", "always", "always4", "never"))
    path = {4: always4, 2: always, 0: never}
    for c, s, m in ((least, size, 2), (least - 1, size, 0), (least, size - 1, 0),
                    (least4, size4, 4), (least4, size4 - 1, 2 if size4 - 1 >= size else 0)):
        assert winograd.tile_size(c, least4, s, s) == m
        x = rng.randn(2, c, s, s).astype("float32")
        w = rng.randn(least4, c, 3, 3).astype("float32")
        outs = {k: f(x, w) for k, f in path.items()}
        assert np.array_equal(auto(x, w), outs[m])
        assert not np.array_equal(outs[4], outs[0]) and not np.array_equal(outs[2], outs[0])
        assert not np.array_equal(outs[4], outs[2])


def test_bad_setting_is_named():
    with pytest.raises(ValueError, match="winograd must be one of"):
        corr_tiled.TiledCorr(winograd="sometimes")


def test_kept_kernel_transform_follows_the_kernel():
    """The transformed kernel is reused across calls only while the kernel's bytes are
    the same: a new kernel, or the same array changed in place, is transformed anew."""
    rng = np.random.RandomState(4)
    (fwd, grad), (ref, ref_grad) = (_pair(m, (1, 1, 1, 1), "oihw", False, False)
                                    for m in ("always", "never"))
    x = rng.randn(2, 5, 6, 6).astype("float32")
    w = rng.randn(4, 5, 3, 3).astype("float32")
    gy = rng.randn(2, 4, 6, 6).astype("float32")
    for change in (None, "new", "in place", "shape"):
        if change == "new":
            w = rng.randn(4, 5, 3, 3).astype("float32")
        elif change == "in place":
            w[1, 2, 0, 1] += 1.0
        elif change == "shape":                   # same number of weights, other split
            w = rng.randn(5, 4, 3, 3).astype("float32")
            x, gy = x[:, :4], rng.randn(2, 5, 6, 6).astype("float32")
        np.testing.assert_allclose(fwd(x, w), ref(x, w), rtol=1e-5, atol=1e-5)
        np.testing.assert_allclose(grad(w, gy), ref_grad(w, gy), rtol=1e-5, atol=1e-5)


def test_kept_kernel_transform_follows_the_tile_size():
    """Under 'auto' one kernel meets maps that take F(2x2, 3x3) and maps that take
    F(4x4, 3x3): its transform, kept between calls, is redone when the tile changes."""
    rng = np.random.RandomState(5)
    c, small, large = winograd.MIN_CHANNELS_4, winograd.MIN_SIZE_4 - 1, winograd.MIN_SIZE_4
    assert (winograd.tile_size(c, c, small, small), winograd.tile_size(c, c, large, large)) \
        == (2, 4)
    (fwd, grad), (ref, ref_grad) = (_pair(m, (1, 1, 1, 1), "oihw", False, False)
                                    for m in ("auto", "never"))
    w = (rng.randn(c, c, 3, 3) / np.sqrt(9 * c)).astype("float32")
    for size in (small, large, small, large):
        x = rng.randn(1, c, size, size).astype("float32")
        gy = rng.randn(1, c, size, size).astype("float32")
        assert rel(fwd(x, w), ref(x, w)) <= 1e-5
        assert rel(grad(w, gy), ref_grad(w, gy)) <= 1e-5


def test_lowered_convolutions_take_winograd_unless_excluded():
    from theano.tensor.nnet import conv2d
    corr_tiled.register()
    x, w = T.tensor4(), T.tensor4()
    y = conv2d(x, w, border_mode="valid")
    cost = (y ** 2).sum()
    outs = [y, theano.grad(cost, x)]
    mode = theano.compile.get_default_mode()
    tf, tg = corr_tiled.TiledCorr, corr_tiled.TiledCorrGradInputs
    for m, expected in ((mode, {(tf, "auto"), (tg, "auto")}),
                        (mode.excluding("winograd_forward"), {(tf, None), (tg, "auto")}),
                        (mode.excluding("winograd"), {(tf, None), (tg, None)})):
        f = theano.function([x, w], outs, mode=m)
        settings = {(type(n.op), n.op.winograd) for n in f.maker.fgraph.toposort()
                    if isinstance(n.op, (tf, tg))}
        assert settings == expected


def test_quantity_functions_keep_no_kernel_transforms():
    """A compiled quantity's gradient takes Winograd where it pays, but the function
    that evaluates Q alone (a few points per instance) does not: its cached kernel
    transforms would repeat the gradient's (chain.compiled.quantity_mode). Both agree
    with a plain forward."""
    import keras
    from chain.compiled import compile_quantity
    cf = dict(data_format="channels_first")
    m = keras.models.Sequential([
        keras.layers.ZeroPadding2D(1, input_shape=(3, 12, 12), **cf),
        keras.layers.Conv2D(64, 3, activation="relu", **cf),
        keras.layers.ZeroPadding2D(1, **cf), keras.layers.Conv2D(64, 3, activation="relu", **cf),
        keras.layers.Flatten(), keras.layers.Dense(3)])
    ops = (corr_tiled.TiledCorr, corr_tiled.TiledCorrGradInputs)

    def settings(f):
        return {n.op.winograd for n in f.maker.fgraph.toposort() if isinstance(n.op, ops)}

    fns = compile_quantity(m.output[:, 1], m.input)
    assert "auto" in settings(fns.gradient)              # 64 -> 64 at 12x12
    assert settings(fns.quantity) and settings(fns.quantity) <= {None, "never"}
    x = np.random.RandomState(0).randn(2, 3, 12, 12).astype(np.float32)
    np.testing.assert_allclose(fns.quantity(x), m.predict(x)[:, 1], rtol=1e-5, atol=1e-5)

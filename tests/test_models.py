"""models.py: weight files (against an independent NumPy forward pass), the
downloader (against a local HTTP server), preprocessing and the layer layout."""
import hashlib
import os

import hw3_env

import h5py
import numpy as np
import pytest
from scipy.signal import convolve2d, correlate2d

K = hw3_env.setup()
from keras.layers import Activation, Conv2D, Dense, Flatten  # noqa: E402

import models  # noqa: E402
from weights import stand_in as wf  # noqa: E402  (stand-in weights)
from helpers import free_port_url, http_server  # noqa: E402

SMALL = dict(widths=(4, 8, 8, 16, 16), dense=32, n_classes=10)
HW = (64, 64)             # 2x2 map entering Flatten: the flatten order matters
TOL = 1e-4


def small_file(path, **kw):
    """A small random weight file in the official layout; returns its arrays."""
    return wf.write_official_weight_file(str(path), input_hw=HW, **SMALL, **kw)


def reference(arrays, x_nhwc, backend):
    """Scores of the NumPy reference for a file written with ``backend``: Theano
    files hold convolution kernels, all others cross-correlation kernels."""
    return wf.numpy_vgg_forward(arrays, x_nhwc, correlation=(backend != "theano"))


def predict(model, x_nhwc):
    return model.predict(np.ascontiguousarray(x_nhwc.transpose(0, 3, 1, 2)))


def scramble(model, seed=99):
    """Overwrite every weight with noise (so a later load must really set it)."""
    rng = np.random.default_rng(seed)
    K.batch_set_value([(w, rng.standard_normal(K.int_shape(w)).astype(np.float32))
                       for w in model.weights])


def model_values(model):
    return [np.array(v) for v in K.batch_get_value(model.weights)]


class ChannelsLastFlatten(Flatten):
    """A Flatten that flattens a channels-first map in (c, h, w) order."""

    def __init__(self, **kwargs):
        kwargs["data_format"] = "channels_last"
        super().__init__(**kwargs)


@pytest.fixture(scope="module")
def small_model():
    return models.VGG_16(input_shape=(3,) + HW, **SMALL)


@pytest.fixture(scope="module")
def cl_flatten_model():
    """The small layout, but with a channels-last Flatten (c, h, w feature order)."""
    mp = pytest.MonkeyPatch()
    mp.setattr(models, "Flatten", ChannelsLastFlatten)
    try:
        model = models.VGG_16(input_shape=(3,) + HW, **SMALL)
    finally:
        mp.undo()
    return model


@pytest.fixture(scope="module")
def images():
    return wf.caffe_like_images(2, HW, seed=1)


# ---------------------------------------------------------------------------
# The reference itself
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("correlation", [True, False])
def test_reference_conv_matches_scipy(correlation):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((1, 5, 7, 3))
    k = rng.standard_normal((3, 3, 3, 2))
    b = rng.standard_normal(2)
    got = wf.conv3x3(x, k, b, correlation)
    op = correlate2d if correlation else convolve2d
    for o in range(2):
        ref = sum(op(x[0, :, :, c], k[:, :, c, o], mode="same") for c in range(3)) + b[o]
        np.testing.assert_allclose(got[0, :, :, o], ref, rtol=1e-12, atol=1e-12)


def test_reference_activations_stay_in_scale(images):
    """He scaling: no layer's activations vanish or explode, so relative errors of
    the scores mean something."""
    arrays = wf.random_vgg_arrays(input_hw=HW, **SMALL)
    _, outs = wf.numpy_vgg_forward(arrays, images, return_all=True)
    rms_in = np.sqrt(np.mean(images.astype(np.float64) ** 2))
    for name, out in outs.items():
        rms = np.sqrt(np.mean(out ** 2))
        assert rms_in / 30 < rms < rms_in * 30, (name, rms, rms_in)
        assert np.mean(out != 0) > 0.2, name   # not dead


# ---------------------------------------------------------------------------
# Loading the official convention
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("backend", [None, "tensorflow", "theano"])
@pytest.mark.parametrize("style", ["keras1", "keras2"])
def test_load_matches_numpy_reference(tmp_path, small_model, images, style, backend):
    arrays = small_file(tmp_path / "w.h5", style=style, backend=backend, seed=3)
    scramble(small_model)
    models.load_weights(small_model, str(tmp_path / "w.h5"))
    got = predict(small_model, images)
    assert wf.relative_error(got, reference(arrays, images, backend)) < TOL
    # the reference tells the conventions apart: the other one is far off
    wrong = wf.numpy_vgg_forward(arrays, images, correlation=(backend == "theano"))
    assert wf.relative_error(got, wrong) > 0.05


def test_vgg16_constructor_loads_official_layout(tmp_path, images):
    arrays = small_file(tmp_path / "w.h5", seed=4)
    model = models.VGG_16(str(tmp_path / "w.h5"), input_shape=(3,) + HW, **SMALL)
    assert wf.relative_error(predict(model, images), reference(arrays, images, None)) < TOL


def test_load_model_save_container(tmp_path, small_model, images):
    """Files written by ``model.save`` keep the weights in a ``model_weights`` group."""
    arrays = small_file(tmp_path / "m.h5", style="keras2", backend="tensorflow",
                        container="model", seed=5)
    scramble(small_model)
    models.load_weights(small_model, str(tmp_path / "m.h5"))
    assert wf.relative_error(predict(small_model, images),
                             reference(arrays, images, "tensorflow")) < TOL


def test_kernel_flip_matters(tmp_path, small_model, images, monkeypatch):
    """Without the flip (what Keras' own loader does for a file without a backend
    attribute) the model is silently wrong: the loader test can fail."""
    arrays = small_file(tmp_path / "w.h5", seed=6)
    ref = reference(arrays, images, None)
    monkeypatch.setattr(models, "file_uses_correlation", lambda attrs: False)
    models.load_weights(small_model, str(tmp_path / "w.h5"))
    assert wf.relative_error(predict(small_model, images), ref) > 0.05
    monkeypatch.undo()
    models.load_weights(small_model, str(tmp_path / "w.h5"))
    assert wf.relative_error(predict(small_model, images), ref) < TOL


def test_channels_last_flatten_rows_reordered(tmp_path, cl_flatten_model, images, monkeypatch):
    assert cl_flatten_model.layers[models.FLATTEN].data_format == "channels_last"
    assert models._flatten_needs_reorder(cl_flatten_model)
    arrays = small_file(tmp_path / "w.h5", seed=7)
    ref = reference(arrays, images, None)
    models.load_weights(cl_flatten_model, str(tmp_path / "w.h5"))
    assert wf.relative_error(predict(cl_flatten_model, images), ref) < TOL
    # without the reordering the (c, h, w) features meet (h, w, c) rows
    monkeypatch.setattr(models, "_flatten_needs_reorder", lambda model: False)
    models.load_weights(cl_flatten_model, str(tmp_path / "w.h5"))
    assert wf.relative_error(predict(cl_flatten_model, images), ref) > 0.05


def test_default_flatten_needs_no_reorder(small_model):
    assert small_model.layers[models.FLATTEN].data_format == "channels_first"
    assert not models._flatten_needs_reorder(small_model)


def test_full_size_vgg16_matches_reference(full_vgg16_model, full_vgg16_weights):
    path, arrays = full_vgg16_weights
    models.load_weights(full_vgg16_model, path)
    x = wf.caffe_like_images(1, (224, 224), seed=2)
    ref, outs = wf.numpy_vgg_forward(arrays, x, return_all=True)
    x_nchw = np.ascontiguousarray(x.transpose(0, 3, 1, 2))
    f = K.function([full_vgg16_model.input],
                   [full_vgg16_model.layers[models.CONV4_1].input,
                    full_vgg16_model.layers[models.SCORES].output])
    conv4_1, scores = f([x_nchw])
    assert scores.shape == (1, 1000)
    assert wf.relative_error(scores, ref) < TOL
    # the homework's slice point is conv4_1's (ReLU) output
    assert wf.relative_error(conv4_1.transpose(0, 2, 3, 1), outs["block4_conv1"]) < TOL


# ---------------------------------------------------------------------------
# save_weights -> load_weights
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("backend", ["tensorflow", "theano"])
def test_save_load_round_trip(tmp_path, small_model, images, backend):
    arrays = small_file(tmp_path / "w.h5", seed=8)
    models.load_weights(small_model, str(tmp_path / "w.h5"))
    before = predict(small_model, images)
    saved = models.save_weights(small_model, str(tmp_path / "saved.h5"), backend=backend)
    assert sorted(os.listdir(tmp_path)) == ["saved.h5", "w.h5"]   # no .part left
    layers, attrs = models.read_weight_file(saved)
    assert attrs["backend"] == backend
    # the file holds the official arrays in its backend's convention
    for (name, got), (kernel, bias) in zip(layers, arrays):
        flip = backend == "theano" and kernel.ndim == 4
        np.testing.assert_array_equal(got[0], kernel[::-1, ::-1] if flip else kernel)
        np.testing.assert_array_equal(got[1], bias)
    scramble(small_model)
    models.load_weights(small_model, saved)
    np.testing.assert_array_equal(predict(small_model, images), before)


def test_save_from_channels_last_flatten_model(tmp_path, cl_flatten_model, small_model,
                                               images):
    """A file saved from a model with another flatten order is still in the official
    order: it loads into the standard model and matches the reference."""
    arrays = small_file(tmp_path / "w.h5", seed=9)
    models.load_weights(cl_flatten_model, str(tmp_path / "w.h5"))
    models.save_weights(cl_flatten_model, str(tmp_path / "saved.h5"))
    layers, _ = models.read_weight_file(str(tmp_path / "saved.h5"))
    np.testing.assert_array_equal(layers[13][1][0], arrays[13][0])   # fc1 rows
    scramble(small_model)
    models.load_weights(small_model, str(tmp_path / "saved.h5"))
    assert wf.relative_error(predict(small_model, images),
                             reference(arrays, images, None)) < TOL


def test_save_weights_rejects_unknown_backend(tmp_path, small_model):
    with pytest.raises(ValueError, match="backend"):
        models.save_weights(small_model, str(tmp_path / "x.h5"), backend="cntk")
    assert os.listdir(tmp_path) == []


# ---------------------------------------------------------------------------
# Bad weight files
# ---------------------------------------------------------------------------
def test_missing_file(tmp_path, small_model):
    path = str(tmp_path / "nothing.h5")
    with pytest.raises(models.WeightFileError, match="not found") as e:
        models.load_weights(small_model, path)
    assert path in str(e.value)


def test_not_hdf5(tmp_path, small_model):
    path = tmp_path / "text.h5"
    path.write_bytes(b"<html>404 not found</html>\n")
    with pytest.raises(models.WeightFileError, match="not a readable HDF5") as e:
        models.load_weights(small_model, str(path))
    assert "download it again" in str(e.value)


@pytest.mark.parametrize("fraction", [0.05, 0.5, 0.95])
def test_truncated_file(tmp_path, small_model, fraction):
    small_file(tmp_path / "w.h5")
    data = (tmp_path / "w.h5").read_bytes()
    (tmp_path / "cut.h5").write_bytes(data[:int(len(data) * fraction)])
    with pytest.raises(models.WeightFileError, match="truncated or corrupt"):
        models.load_weights(small_model, str(tmp_path / "cut.h5"))


def test_not_a_keras_file(tmp_path, small_model):
    with h5py.File(str(tmp_path / "x.h5"), "w") as f:
        f.create_dataset("data", data=np.zeros(3))
    with pytest.raises(models.WeightFileError, match="layer_names"):
        models.load_weights(small_model, str(tmp_path / "x.h5"))


def test_layer_group_missing(tmp_path, small_model):
    small_file(tmp_path / "w.h5")
    with h5py.File(str(tmp_path / "w.h5"), "a") as f:
        del f["fc2"]
    with pytest.raises(models.WeightFileError, match="'fc2'"):
        models.load_weights(small_model, str(tmp_path / "w.h5"))


def test_wrong_number_of_layers(tmp_path, small_model):
    small_file(tmp_path / "w.h5")
    with h5py.File(str(tmp_path / "w.h5"), "a") as f:
        f.attrs["layer_names"] = [n for n in f.attrs["layer_names"] if n != b"fc2"]
    with pytest.raises(models.WeightFileError, match="15 layers") as e:
        models.load_weights(small_model, str(tmp_path / "w.h5"))
    assert "16 weighted layers" in str(e.value)


def test_wrong_shape_names_the_layer(tmp_path, small_model):
    wf.write_official_weight_file(str(tmp_path / "w.h5"), widths=(4, 8, 8, 16, 32),
                                  dense=32, n_classes=10, input_hw=HW)
    with pytest.raises(models.WeightFileError, match="'block5_conv1'") as e:
        models.load_weights(small_model, str(tmp_path / "w.h5"))
    assert "(3, 3, 16, 32)" in str(e.value) and "(3, 3, 16, 16)" in str(e.value)


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_non_finite_values_rejected_and_model_unchanged(tmp_path, small_model, bad):
    small_file(tmp_path / "w.h5")
    with h5py.File(str(tmp_path / "w.h5"), "a") as f:
        d = f["block3_conv2"]["block3_conv2_W_1:0"]
        k = d[()]
        k[1, 2, 0, 3] = bad
        d[...] = k
    scramble(small_model, seed=5)
    before = model_values(small_model)
    with pytest.raises(models.WeightFileError, match="'block3_conv2'.*NaN or infinite"):
        models.load_weights(small_model, str(tmp_path / "w.h5"))
    for a, b in zip(before, model_values(small_model)):
        np.testing.assert_array_equal(a, b)


# ---------------------------------------------------------------------------
# Downloader
# ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def payload(tmp_path_factory):
    """(bytes, md5, arrays) of a small official-layout weight file."""
    path = tmp_path_factory.mktemp("payload") / "small.h5"
    arrays = small_file(path, seed=10)
    data = path.read_bytes()
    return data, hashlib.md5(data).hexdigest(), arrays


def assert_download_error(excinfo, url, path):
    msg = str(excinfo.value)
    assert url in msg and path in msg, msg


def test_download_success_and_file_loads(tmp_path, payload, small_model, images):
    data, md5, arrays = payload
    target = str(tmp_path / "models" / "vgg.h5")
    with http_server({"/v0.1/vgg.h5": data}) as base:
        got = models.download(base + "/v0.1/vgg.h5", target, md5)
    assert got == target
    assert os.listdir(tmp_path / "models") == ["vgg.h5"]
    assert (tmp_path / "models" / "vgg.h5").read_bytes() == data
    scramble(small_model)
    models.load_weights(small_model, target)
    assert wf.relative_error(predict(small_model, images), reference(arrays, images, None)) < TOL


def test_vgg16_weights_downloads_once(tmp_path, payload):
    data, md5, _ = payload
    target = str(tmp_path / "models" / "vgg.h5")
    with http_server({"/vgg.h5": data}) as base:
        assert models.vgg16_weights(path=target, url=base + "/vgg.h5", md5=md5) == target
    assert file_md5(target) == md5
    # present with the right md5: used as it is, the server is not asked again
    assert models.vgg16_weights(path=target, url=free_port_url() + "/vgg.h5", md5=md5) == target
    assert os.listdir(tmp_path / "models") == ["vgg.h5"]


def file_md5(path):
    with open(path, "rb") as f:
        return hashlib.md5(f.read()).hexdigest()


def test_download_wrong_md5(tmp_path, payload):
    data, md5, _ = payload
    target = str(tmp_path / "models" / "vgg.h5")
    wrong = "0" * 32
    with http_server({"/vgg.h5": data}) as base:
        with pytest.raises(models.DownloadError, match="md5 mismatch") as e:
            models.download(base + "/vgg.h5", target, wrong)
    assert_download_error(e, base + "/vgg.h5", target)
    assert os.listdir(tmp_path / "models") == []


def test_download_truncated_body(tmp_path, payload):
    data, md5, _ = payload
    target = str(tmp_path / "models" / "vgg.h5")
    with http_server({"/vgg.h5": data}, truncate={"/vgg.h5": len(data) // 2}) as base:
        with pytest.raises(models.DownloadError) as e:
            models.vgg16_weights(path=target, url=base + "/vgg.h5", md5=md5)
    assert_download_error(e, base + "/vgg.h5", target)
    assert "by hand" in str(e.value)            # the hint of vgg16_weights
    assert os.listdir(tmp_path / "models") == []


def test_download_truncated_body_without_md5(tmp_path, payload):
    """Even with no digest to check, a short body is caught by its announced length."""
    data, _, _ = payload
    target = str(tmp_path / "models" / "vgg.h5")
    with http_server({"/vgg.h5": data}, truncate={"/vgg.h5": len(data) - 100}) as base:
        with pytest.raises(models.DownloadError) as e:
            models.download(base + "/vgg.h5", target, None)
    assert_download_error(e, base + "/vgg.h5", target)
    assert os.listdir(tmp_path / "models") == []


def test_download_404(tmp_path, payload):
    data, md5, _ = payload
    target = str(tmp_path / "models" / "vgg.h5")
    with http_server({"/vgg.h5": data}) as base:
        with pytest.raises(models.DownloadError, match="404") as e:
            models.vgg16_weights(path=target, url=base + "/moved.h5", md5=md5)
    assert_download_error(e, base + "/moved.h5", target)
    assert os.listdir(tmp_path / "models") == []


def test_download_server_down(tmp_path, payload):
    _, md5, _ = payload
    url = free_port_url() + "/vgg.h5"
    target = str(tmp_path / "models" / "vgg.h5")
    with pytest.raises(models.DownloadError) as e:
        models.vgg16_weights(path=target, url=url, md5=md5)
    assert_download_error(e, url, target)
    assert os.listdir(tmp_path / "models") == []


def test_download_interrupted_leaves_nothing(tmp_path, payload, monkeypatch):
    """An interrupt (Ctrl-C) mid-download propagates as it is and leaves no file."""
    import requests
    data, md5, _ = payload

    def interrupted(self, chunk_size=1, decode_unicode=False):
        yield data[:100]
        raise KeyboardInterrupt

    monkeypatch.setattr(requests.Response, "iter_content", interrupted)
    target = str(tmp_path / "models" / "vgg.h5")
    with http_server({"/vgg.h5": data}) as base:
        with pytest.raises(KeyboardInterrupt):
            models.download(base + "/vgg.h5", target, md5)
    assert os.listdir(tmp_path / "models") == []


def test_existing_file_with_wrong_md5(tmp_path, payload):
    data, md5, _ = payload
    target = tmp_path / "vgg.h5"
    target.write_bytes(data[:-1] + bytes([data[-1] ^ 0xFF]))   # one byte differs
    with pytest.raises(models.WeightFileError, match="md5") as e:
        models.vgg16_weights(path=str(target), url=free_port_url() + "/vgg.h5", md5=md5)
    assert str(target) in str(e.value) and "delete it" in str(e.value)
    assert target.exists()     # the user's file is not deleted behind their back


# ---------------------------------------------------------------------------
# Preprocessing
# ---------------------------------------------------------------------------
def test_preprocess_known_values():
    img = np.array([[[10, 20, 30], [0, 0, 0]],
                    [[255, 255, 255], [1, 2, 3]]], dtype=np.uint8)   # (2, 2, 3) RGB
    x = models.preprocess(img, size=2)
    assert x.shape == (1, 3, 2, 2) and x.dtype == np.float32
    # caffe: BGR order, ImageNet BGR means (103.939, 116.779, 123.68) subtracted
    np.testing.assert_allclose(x[0, :, 0, 0], [30 - 103.939, 20 - 116.779, 10 - 123.68],
                               rtol=0, atol=1e-4)
    np.testing.assert_allclose(x[0, :, 1, 0], [255 - 103.939, 255 - 116.779, 255 - 123.68],
                               rtol=0, atol=1e-4)
    np.testing.assert_allclose(x[0, :, 1, 1], [3 - 103.939, 2 - 116.779, 1 - 123.68],
                               rtol=0, atol=1e-4)
    np.testing.assert_allclose(x[0, :, 0, 1], [-103.939, -116.779, -123.68], rtol=0, atol=1e-4)


def test_preprocess_batch_forms_agree():
    rng = np.random.default_rng(0)
    batch = rng.integers(0, 256, size=(3, 8, 8, 3)).astype(np.uint8)
    a = models.preprocess(batch, size=8)
    b = models.preprocess(list(batch), size=8)
    c = np.concatenate([models.preprocess(im, size=8) for im in batch])
    assert a.shape == (3, 3, 8, 8)
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(a, c)


def _expected_coordinate(j, left, n_out_resized, n_in):
    """Source coordinate of output pixel j of a crop starting at ``left`` of an axis
    resized from n_in to n_out_resized (pixel centres aligned)."""
    return (j + left + 0.5) * n_in / n_out_resized - 0.5


@pytest.mark.parametrize("h,w", [(300, 400), (400, 300), (100, 150)])
def test_resize_crop_geometry(h, w):
    """Short side to 224, then the centre 224 x 224: checked on linear ramps, which a
    (symmetric) resampling filter preserves away from the image border."""
    size = 224
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float64)
    ramp_x, ramp_y = 200.0 * xs / (w - 1), 200.0 * ys / (h - 1)
    img = np.stack([ramp_x, ramp_y, np.full_like(xs, 77)], axis=-1)
    out = models.resize_crop(np.round(img).astype(np.uint8), size)
    assert out.shape == (size, size, 3) and out.dtype == np.uint8
    scale = size / min(h, w)
    nh, nw = round(h * scale), round(w * scale)
    top, left = (nh - size) // 2, (nw - size) // 2
    assert min(nh, nw) == size
    j = np.arange(size)
    src_x = _expected_coordinate(j, left, nw, w)
    src_y = _expected_coordinate(j, top, nh, h)
    inner = slice(3, size - 3)   # away from the border (edge-clamped filter)
    err_x = np.abs(out[inner, :, 0] - 200.0 * src_x[None, :] / (w - 1))
    err_y = np.abs(out[:, inner, 1] - 200.0 * src_y[:, None] / (h - 1))
    keep_x = (src_x > 2) & (src_x < w - 3)
    keep_y = (src_y > 2) & (src_y < h - 3)
    assert err_x[:, keep_x].max() <= 1.5
    assert err_y[keep_y, :].max() <= 1.5
    assert np.all(out[..., 2] == 77)
    # the crop is centred: equal margins (to a pixel) on the long side
    if w > h:
        assert abs(src_x[0] - (w - 1 - src_x[-1])) <= w / nw
    else:
        assert abs(src_y[0] - (h - 1 - src_y[-1])) <= h / nh


def test_preprocess_resizes_then_crops():
    rng = np.random.default_rng(1)
    img = rng.integers(0, 256, size=(48, 64, 3)).astype(np.uint8)
    x = models.preprocess(img, size=32)
    assert x.shape == (1, 3, 32, 32)
    np.testing.assert_array_equal(models.deprocess(x)[0], models.resize_crop(img, 32))


def test_deprocess_inverts_preprocess():
    rng = np.random.default_rng(2)
    img = rng.integers(0, 256, size=(2, 32, 32, 3)).astype(np.uint8)
    x = models.preprocess(img, size=32)
    np.testing.assert_array_equal(models.deprocess(x), img)
    np.testing.assert_array_equal(models.deprocess(x[0]), img[0])


@pytest.mark.parametrize("bad,match", [
    (np.zeros((8, 8, 3), np.float32), "uint8"),
    (np.zeros((8, 8), np.uint8), "grayscale"),
    (np.zeros((8, 8, 4), np.uint8), "RGBA"),
    (np.zeros((3, 8, 8), np.uint8), "channels-first"),
    (np.zeros((1, 1, 8, 8, 3), np.uint8), "shape"),
    ([], "no images"),
    ([np.zeros((8, 8, 3), np.uint8), np.zeros((8, 8), np.uint8)], "grayscale"),
])
def test_preprocess_bad_input(bad, match):
    with pytest.raises(ValueError, match=match):
        models.preprocess(bad, size=8)


def test_deprocess_bad_shape():
    with pytest.raises(ValueError, match="N, 3, H, W"):
        models.deprocess(np.zeros((1, 8, 8, 3), np.float32))


# ---------------------------------------------------------------------------
# Layer layout
# ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def full_vgg16_model():
    return models.VGG_16()


def test_layer_facts(full_vgg16_model):
    layers = full_vgg16_model.layers
    assert len(layers) == models.N_LAYERS == 37
    assert layers[models.CONV4_1_LAYER].name == "block4_conv1"
    assert K.int_shape(layers[models.CONV4_1].input) == (None, 512, 28, 28)
    assert isinstance(layers[models.FLATTEN], Flatten)
    assert K.int_shape(layers[models.FLATTEN].input) == (None, 512, 7, 7)
    top = layers[models.SCORES]
    assert isinstance(top, Dense) and top.units == 1000
    assert top.activation.__name__ == "linear"
    assert K.int_shape(top.output) == (None, 1000)
    for i in (models.FC1, models.FC2):
        assert isinstance(layers[i], Dense) and layers[i].units == 4096
        assert layers[i].activation.__name__ == "relu"
    for i in (33, 35):
        assert isinstance(layers[i], Activation)
        assert layers[i].activation.__name__ == "linear"
    convs = [i for i, l in enumerate(layers) if isinstance(l, Conv2D)]
    assert models.conv_layer_indices() == convs and len(convs) == 13
    assert all(layers[i].activation.__name__ == "relu" for i in convs)


def test_weighted_layers_named_as_in_official_file(full_vgg16_model):
    names = [l.name for l in full_vgg16_model.layers if l.weights]
    assert names == wf.weighted_layer_names()
    assert full_vgg16_model.count_params() == 138357544   # VGG16, Simonyan & Zisserman


@pytest.mark.parametrize("kw,match", [
    (dict(input_shape=(224, 224, 3)), "input_shape"),
    (dict(input_shape=(3, 100, 100)), "divisible by 32"),
    (dict(widths=(64, 128)), "widths"),
])
def test_vgg16_bad_arguments(kw, match):
    with pytest.raises(ValueError, match=match):
        models.VGG_16(**kw)


def test_env_weights_file_is_used_as_is(tmp_path, monkeypatch):
    f = tmp_path / "mine.h5"
    f.write_bytes(b"not the official md5")
    monkeypatch.setenv("HW3_VGG16_WEIGHTS", str(f))
    assert models.vgg16_weights() == str(f)
    monkeypatch.setenv("HW3_VGG16_WEIGHTS", str(tmp_path / "missing.h5"))
    with pytest.raises(models.WeightFileError, match="HW3_VGG16_WEIGHTS"):
        models.vgg16_weights()


def test_argmax_pool_values_and_gradient_on_ties():
    """Same values as Theano's pool; on a window of ties the gradient reaches one
    element (Theano's own MaxPoolGrad gives every tied element the full gradient)."""
    import theano
    import theano.tensor as T
    from theano.tensor.signal.pool import pool_2d
    x = T.tensor4("x")
    ours = models.argmax_pool_2x2(x)
    ref = pool_2d(x, (2, 2), ignore_border=True, mode="max")
    f = theano.function([x], [ours, ref, T.grad(ours.sum(), x), T.grad(ref.sum(), x)])
    rng = np.random.RandomState(0)
    data = rng.randn(2, 3, 6, 8).astype(np.float32)
    data[0, 0, :2, :2] = 1.5                       # a window of four ties
    a, b, ga, gb = f(data)
    np.testing.assert_array_equal(a, b)
    assert ga[0, 0, :2, :2].sum() == 1.0 and gb[0, 0, :2, :2].sum() == 4.0
    assert ga.sum() == a.size                      # one unit of gradient per window
    np.testing.assert_array_equal(ga[1], gb[1])    # no ties: the same gradient


def test_vgg_pools_are_the_tie_safe_pool():
    m = models.VGG_16(input_shape=(3, 64, 64), widths=SMALL["widths"], dense=32, n_classes=10)
    pools = [l for l in m.layers if "pool" in l.name]
    assert len(pools) == 5 and all(isinstance(l, models.MaxPooling2D) for l in pools)

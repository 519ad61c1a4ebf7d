"""The course's VGG16 (Simonyan & Zisserman 2014) in Keras 2.3.1 on Theano, its
ImageNet weights, and the image preprocessing it expects.

The model is the starter's: a channels-first ``Sequential`` of ZeroPadding2D + 3x3
Conv2D blocks (2-2-3-3-3 convolutions, each block closed by a 2x2 max-pool), then
``Flatten`` and three dense layers whose activations are *linear* at the top (the
slides' "linear substitution": class scores are not squashed by a softmax, so the
influence on one class does not depend on the others). 37 layers; ``layers[19].input``
is conv4_1's output.

Weights are read and written with h5py in the Keras HDF5 weight-file convention
(root attribute ``layer_names``; each layer group's ``weight_names``, in order), not
with Keras' own loader, which breaks under h5py 3 and silently skips the kernel flip
for files without a ``backend`` attribute, such as the official VGG16 file.
"""
import hashlib
import os

import hw3_env  # noqa: F401  (must come before keras)

import numpy as np

K = hw3_env.setup()
from keras.models import Sequential  # noqa: E402
import keras.layers  # noqa: E402
from theano_ops.maxpool import max_pool_2x2  # noqa: E402
from theano_ops import corr_tiled  # noqa: E402
from keras.layers import Activation, Conv2D, Dense, Flatten  # noqa: E402

# ---------------------------------------------------------------------------
# Max-pooling with the gradient of the function
# ---------------------------------------------------------------------------
def argmax_pool_2x2(x):
    """2x2/2 max-pool of a (N, C, H, W) tensor whose gradient reaches exactly one
    maximum of each window (the first in row-major order): :func:`theano_ops.maxpool.max_pool_2x2`.

    The forward value is Theano's ``pool_2d``'s. Its gradient is not: Theano's
    ``MaxPoolGrad`` passes the incoming gradient to *every* element equal to the
    window's maximum, so wherever a window holds ties (flat colour, saturated pixels)
    the gradient is a multiple of the function's derivative, and Integrated Gradients
    stops satisfying completeness: the gap converges to a non-zero value as the
    resolution grows. Selecting one maximum restores a true derivative.
    """
    return max_pool_2x2(x)


class MaxPooling2D(keras.layers.MaxPooling2D):
    """Keras' MaxPooling2D, with :func:`argmax_pool_2x2` for the course's 2x2/2
    channels-first pools (same values, the function's own gradient)."""

    def _pooling_function(self, inputs, pool_size, strides, padding, data_format):
        shape = K.int_shape(inputs)
        if (tuple(pool_size) == (2, 2) and tuple(strides) == (2, 2) and padding == "valid"
                and data_format == "channels_first" and shape[2] is not None
                and shape[2] % 2 == 0 and shape[3] % 2 == 0):
            return argmax_pool_2x2(inputs)
        return super()._pooling_function(inputs, pool_size, strides, padding, data_format)


class ZeroPadding2D(keras.layers.ZeroPadding2D):
    """Keras' ZeroPadding2D as one Theano op (:class:`theano_ops.corr_tiled.ZeroPad2D`), which the
    following convolution absorbs: the padded map is never materialised. Same values;
    channels-last input keeps Keras' own implementation."""

    def call(self, inputs):
        if self.data_format != "channels_first":
            return super().call(inputs)
        (top, bottom), (left, right) = self.padding
        return corr_tiled.zero_pad_2d(inputs, (top, bottom, left, right))


keras.utils.get_custom_objects()["MaxPooling2D"] = MaxPooling2D
keras.utils.get_custom_objects()["ZeroPadding2D"] = ZeroPadding2D
corr_tiled.register()   # Theano lowers the (stride-1, valid) convolutions to tiled im2col


# ---------------------------------------------------------------------------
# Layout and layer indices
# ---------------------------------------------------------------------------
BLOCKS = (2, 2, 3, 3, 3)               # convolutions per block
VGG16_WIDTHS = (64, 128, 256, 512, 512)
VGG16_DENSE = 4096
N_LAYERS = 37

CONV4_1 = 19      # layers[19].input is conv4_1's output: the homework's slice
CONV4_1_LAYER = 18  # the Conv2D layer conv4_1 itself
FLATTEN = 31
FC1, FC2, SCORES = 32, 34, 36  # layers[36].output: the (linear) class scores


def conv_layer_indices(blocks=BLOCKS):
    """Indices of the Conv2D layers in the layout (each follows a ZeroPadding2D)."""
    idx, i = [], 0
    for n in blocks:
        for _ in range(n):
            idx.append(i + 1)
            i += 2
        i += 1  # the pool
    return idx


class UnwrittenZeros(keras.initializers.Initializer):
    """Kernel initializer for models whose weights come from a file: float32 zeros
    (no random draw). A registered class, so a loaded model's config rebuilds
    (``Sequential.from_config``: the model-randomisation check copies models so)."""

    def __call__(self, shape, dtype=None):
        return np.zeros(shape, dtype=np.float32)


keras.utils.get_custom_objects()["UnwrittenZeros"] = UnwrittenZeros


def VGG_16(weights_path=None, input_shape=(3, 224, 224), widths=VGG16_WIDTHS,
           dense=VGG16_DENSE, n_classes=1000, kernel_initializer="glorot_uniform"):
    """Build the course's VGG16 (channels first, linear top), optionally with weights.

    The same function builds the layout at other widths and input sizes (the tests'
    toy models and the offline surrogate model use it), so layer indices are shared.

    Args:
        weights_path: a weight file in the Keras HDF5 convention (see
            :func:`load_weights`), or None for Keras' random initialisation.
        input_shape: (3, H, W); H and W divisible by 32.
        widths: channels of the five convolution blocks.
        dense: units of the two hidden dense layers.
        n_classes: units of the output layer.
        kernel_initializer: Keras initializer name for all kernels.
    Returns:
        a ``keras.models.Sequential`` with 37 layers.
    """
    input_shape = tuple(int(s) for s in input_shape)
    if len(input_shape) != 3 or input_shape[0] != 3 or input_shape[1] % 32 or input_shape[2] % 32:
        raise ValueError("input_shape must be (3, H, W) with H and W divisible by 32 "
                         "(five 2x2 pools), got %r" % (input_shape,))
    if len(widths) != len(BLOCKS):
        raise ValueError("widths needs one channel count per block (%d), got %r"
                         % (len(BLOCKS), widths))
    if weights_path is not None and kernel_initializer == "glorot_uniform":
        # The file overwrites every kernel: skip the random draw (it costs seconds
        # and a float64 copy of fc1's 103M weights at the peak).
        kernel_initializer = UnwrittenZeros()
    model = Sequential()
    first = True
    for b, (n, width) in enumerate(zip(BLOCKS, widths), start=1):
        for i in range(1, n + 1):
            kw = {"input_shape": input_shape} if first else {}
            model.add(ZeroPadding2D((1, 1), name="block%d_pad%d" % (b, i), **kw))
            model.add(Conv2D(int(width), (3, 3), activation="relu",
                             kernel_initializer=kernel_initializer,
                             name="block%d_conv%d" % (b, i)))
            first = False
        model.add(MaxPooling2D((2, 2), strides=(2, 2), name="block%d_pool" % b))
    model.add(Flatten(name="flatten"))
    model.add(Dense(int(dense), activation="relu", kernel_initializer=kernel_initializer,
                    name="fc1"))
    model.add(Activation("linear", name="fc1_linear"))
    model.add(Dense(int(dense), activation="relu", kernel_initializer=kernel_initializer,
                    name="fc2"))
    model.add(Activation("linear", name="fc2_linear"))
    model.add(Dense(int(n_classes), activation="linear", kernel_initializer=kernel_initializer,
                    name="predictions"))
    assert len(model.layers) == N_LAYERS
    if weights_path is not None:
        load_weights(model, weights_path)
    return model


# ---------------------------------------------------------------------------
# Weight files (Keras HDF5 convention, read and written with h5py)
# ---------------------------------------------------------------------------
class WeightFileError(ValueError):
    """A weight file that is missing, corrupt or does not fit the model."""


def _weighted_layers(model):
    return [l for l in model.layers if l.weights]


def _decode(x):
    return x.decode("utf8") if isinstance(x, bytes) else str(x)


def read_weight_file(path):
    """Read a Keras HDF5 weight file into an ordered list of (layer name, [arrays]).

    Handles both dataset naming styles (Keras 1 ``<layer>_W_1:0``, Keras 2
    ``<layer>/kernel:0``) since it follows ``weight_names`` in order, and both
    containers (``save_weights`` files, and ``model.save`` files whose weights sit in
    a ``model_weights`` group).

    Returns:
        (layers, attrs): the layers that hold weights, in file order, and the file's
        root attributes (``backend``, ``keras_version``) as strings.
    Raises:
        WeightFileError: a missing, truncated, corrupt or non-Keras file.
    """
    import h5py
    if not os.path.exists(path):
        raise WeightFileError("weight file not found: %s" % path)
    try:
        f = h5py.File(path, "r")
    except OSError as e:
        raise WeightFileError("%s is not a readable HDF5 file (%s); it may be truncated "
                              "or corrupt: delete it and download it again" % (path, e))
    with f:
        try:
            return _read_groups(path, f)
        except WeightFileError:
            raise
        except (KeyError, OSError, RuntimeError, ValueError, TypeError) as e:
            raise WeightFileError("%s: cannot read its layer list (%s: %s); the file is "
                                  "corrupt or not a Keras weight file"
                                  % (path, type(e).__name__, e)) from e


def _read_groups(path, f):
    group = f["model_weights"] if "model_weights" in f and "layer_names" not in f.attrs else f
    if "layer_names" not in group.attrs:
        raise WeightFileError("%s has no 'layer_names' attribute: not a Keras weight "
                              "file" % path)
    attrs = {k: _decode(group.attrs[k]) for k in ("backend", "keras_version")
             if k in group.attrs}
    layers = []
    for name in (_decode(n) for n in group.attrs["layer_names"]):
        arrays = _read_layer(path, group, name)
        if arrays:
            layers.append((name, arrays))
    return layers, attrs


def _read_layer(path, group, name):
    """The arrays of one layer group, in ``weight_names`` order; a missing or
    unreadable group or dataset (a corrupt file) raises :class:`WeightFileError`."""
    try:
        g = group[name]
        names = [_decode(n) for n in g.attrs.get("weight_names", [])]
        return [np.asarray(g[n]) for n in names]
    except (KeyError, OSError, RuntimeError, ValueError, TypeError) as e:
        raise WeightFileError("%s: cannot read the weights of layer %r (%s: %s); the file "
                              "is corrupt or not a Keras weight file: delete it and "
                              "download it again" % (path, name, type(e).__name__, e)) from e


def file_uses_correlation(attrs):
    """True when the file's kernels are cross-correlation kernels (TensorFlow's
    convention, and the official ``*_tf_kernels`` files, which carry no ``backend``);
    False only when the file says ``backend='theano'``."""
    return attrs.get("backend", "tensorflow") != "theano"


def flip_kernel(kernel):
    """Turn a (kh, kw, in, out) cross-correlation kernel into a convolution kernel
    and back (Keras' ``convert_kernel``)."""
    return np.ascontiguousarray(kernel[::-1, ::-1, :, :])


def _flatten_needs_reorder(model):
    """The official file's first dense layer expects features flattened in
    channels-last order (h, w, c). Keras' channels-first ``Flatten`` permutes to
    that order itself; any other flatten yields (c, h, w) and needs the rows
    reordered."""
    flat = [l for l in model.layers if isinstance(l, Flatten)]
    return bool(flat) and getattr(flat[0], "data_format", None) != "channels_first"


def _reorder_dense_rows(kernel, chw):
    """Rows of a dense kernel from (h, w, c) flatten order to (c, h, w) order."""
    c, h, w = chw
    return np.ascontiguousarray(
        kernel.reshape(h, w, c, -1).transpose(2, 0, 1, 3).reshape(c * h * w, -1))


def _unreorder_dense_rows(kernel, chw):
    """Inverse of :func:`_reorder_dense_rows`: rows from (c, h, w) to (h, w, c) order."""
    c, h, w = chw
    return np.ascontiguousarray(
        kernel.reshape(c, h, w, -1).transpose(1, 2, 0, 3).reshape(c * h * w, -1))


def load_weights(model, path):
    """Load a Keras HDF5 weight file into ``model`` with explicit conversions.

    * Convolution kernels are flipped into Theano's convolution convention unless the
      file says ``backend='theano'`` (Keras' own loader skips the flip when the file
      has no ``backend`` attribute, as the official VGG16 file has none).
    * The first dense layer is reordered from channels-last to channels-first rows
      only when the model's Flatten does not already flatten channels-last.

    Raises:
        WeightFileError: missing or unreadable file, wrong number of weighted layers,
            or a shape that does not fit (the message names the layer).
    """
    file_layers, attrs = read_weight_file(path)
    targets = _weighted_layers(model)
    if len(file_layers) != len(targets):
        raise WeightFileError(
            "%s holds weights for %d layers (%s), the model has %d weighted layers; is "
            "it a VGG16 weight file for this layout?"
            % (path, len(file_layers), ", ".join(n for n, _ in file_layers), len(targets)))
    flip = file_uses_correlation(attrs)
    reorder = _flatten_needs_reorder(model)
    first_dense = True
    values = []
    for (name, arrays), layer in zip(file_layers, targets):
        expected = [tuple(K.int_shape(w)) for w in layer.weights]
        got = [a.shape for a in arrays]
        if got != expected:
            raise WeightFileError("%s: layer %r has weights of shapes %s, model layer %r "
                                  "expects %s" % (path, name, got, layer.name, expected))
        arrays = [a.astype(np.float32, copy=False) for a in arrays]
        if isinstance(layer, Conv2D) and flip:
            arrays[0] = flip_kernel(arrays[0])
        if isinstance(layer, Dense) and first_dense:
            first_dense = False
            if reorder:
                arrays[0] = _reorder_dense_rows(arrays[0], _flatten_input_shape(model))
        if not all(np.isfinite(a).all() for a in arrays):
            raise WeightFileError("%s: layer %r holds NaN or infinite values; the file "
                                  "is corrupt" % (path, name))
        values.extend(zip(layer.weights, arrays))
    del file_layers
    for variable, value in values:   # hand the arrays over without another copy
        variable.set_value(np.ascontiguousarray(value), borrow=True)
    return model


def _flatten_input_shape(model):
    flat = [l for l in model.layers if isinstance(l, Flatten)][0]
    return K.int_shape(flat.input)[1:]


def save_weights(model, path, backend="tensorflow"):
    """Write ``model``'s weights as a Keras 2 HDF5 weight file (h5py only).

    Kernels are written in the convention ``backend`` names (cross-correlation for
    'tensorflow', the official files' convention; convolution for 'theano'), and the
    first dense layer in the official (h, w, c) row order whatever the model's
    Flatten, so :func:`load_weights` reads them back exactly into this model or any
    other of the same layout. The file is written to a temporary name and renamed;
    on failure nothing is left.

    Args:
        model: the model whose weights to write.
        path: the file to write.
        backend: 'tensorflow' or 'theano', the kernel convention of the file.
    Returns:
        path.
    """
    import h5py
    import keras
    if backend not in ("tensorflow", "theano"):
        raise ValueError("backend must be 'tensorflow' (cross-correlation kernels, as in "
                         "the official files) or 'theano', got %r" % (backend,))
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    tmp = path + ".part"
    reorder = _flatten_needs_reorder(model)
    first_dense = True
    try:
        with h5py.File(tmp, "w") as f:
            f.attrs["backend"] = backend.encode("utf8")
            f.attrs["keras_version"] = keras.__version__.encode("utf8")
            f.attrs["layer_names"] = [l.name.encode("utf8") for l in model.layers]
            for layer in model.layers:
                g = f.create_group(layer.name)
                arrays = K.batch_get_value(layer.weights)
                names = ["%s/%s:0" % (layer.name, w.name.split("/")[-1].split(":")[0])
                         for w in layer.weights]
                if isinstance(layer, Conv2D) and backend != "theano":
                    arrays[0] = flip_kernel(arrays[0])
                if isinstance(layer, Dense) and first_dense:
                    first_dense = False
                    if reorder:
                        arrays[0] = _unreorder_dense_rows(arrays[0], _flatten_input_shape(model))
                g.attrs["weight_names"] = [n.encode("utf8") for n in names]
                for n, a in zip(names, arrays):
                    g.create_dataset(n, data=np.asarray(a, dtype=np.float32))
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    return path


# ---------------------------------------------------------------------------
# The official ImageNet weights
# ---------------------------------------------------------------------------
VGG16_WEIGHTS_FILE = "vgg16_weights_tf_dim_ordering_tf_kernels.h5"
VGG16_WEIGHTS_MD5 = "64373286793e3c8b2b4e3219cbf3544b"
VGG16_WEIGHTS_URL = ("https://github.com/fchollet/deep-learning-models/releases/download/"
                     "v0.1/" + VGG16_WEIGHTS_FILE)   # keras_applications/vgg16.py
MODELS_DIR = os.path.join(hw3_env.ROOT, "models")


class DownloadError(RuntimeError):
    """A download that failed; no partial file is left behind."""


def file_digest(path, algorithm="md5", chunk=1 << 20):
    """Hex digest of a file, read in chunks."""
    h = hashlib.new(algorithm)
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(chunk), b""):
            h.update(block)
    return h.hexdigest()


def _temp_beside(path):
    """A new, empty temporary file in ``path``'s directory (created with the user's
    umask, unlike ``mkstemp``'s 0600, so the renamed download has normal permissions).
    """
    import secrets
    directory, base = os.path.split(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    while True:
        tmp = os.path.join(directory, ".download-%s-%s.part" % (base, secrets.token_hex(4)))
        try:
            with open(tmp, "xb"):
                return tmp
        except FileExistsError:
            continue


def _fetch(url, out, h, timeout, desc):
    """Stream ``url`` into the open file ``out``, updating the hash ``h``.

    Returns:
        (bytes received, bytes announced or None).
    """
    import requests
    from notebook_tools.progress import progress
    got = 0
    # identity: the announced length is then the length of the file itself.
    with requests.get(url, stream=True, timeout=timeout,
                      headers={"Accept-Encoding": "identity"}) as r:
        r.raise_for_status()
        encoded = r.headers.get("content-encoding", "identity").lower() != "identity"
        total = None if encoded else int(r.headers.get("content-length") or 0) or None
        with progress(total=total, unit="B", desc="downloading %s" % desc,
                      summary=False) as bar:
            for block in r.iter_content(1 << 20):
                out.write(block)
                h.update(block)
                got += len(block)
                bar.update(len(block))
    return got, total


def download(url, path, digest, algorithm="md5", desc=None, timeout=60, hint=""):
    """Download ``url`` to ``path`` atomically, checking its digest.

    Streams into a temporary file beside ``path`` with a progress display, checks the
    length the server announced and the ``algorithm`` digest, then renames. On any
    failure (an interrupt included) the temporary file is removed; errors other than
    an interrupt become :class:`DownloadError`, naming the URL, the path and ``hint``.

    Args:
        url: what to download.
        path: where the file goes (its directory is created).
        digest: expected hex digest, or None not to check it.
        algorithm: a :mod:`hashlib` algorithm name.
        desc: label of the progress bar (default: the file name).
        timeout: seconds to wait for the server (connect and between blocks).
        hint: appended to the error message (how to get the file otherwise).
    Returns:
        path.
    """
    tmp = _temp_beside(path)
    try:
        try:
            h = hashlib.new(algorithm)
            with open(tmp, "wb") as out:
                got, total = _fetch(url, out, h, timeout, desc or os.path.basename(path))
            if total is not None and got != total:
                raise DownloadError("truncated: received %d of %d bytes" % (got, total))
            if digest is not None and h.hexdigest() != digest.lower():
                raise DownloadError("%s mismatch: expected %s, got %s"
                                    % (algorithm, digest, h.hexdigest()))
            os.replace(tmp, path)
        except Exception as e:
            reason = e if isinstance(e, DownloadError) else "%s: %s" % (type(e).__name__, e)
            raise DownloadError("could not download %s to %s (%s). %s"
                                % (url, path, reason, hint)) from e
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    return path


def vgg16_weights(path=None, url=VGG16_WEIGHTS_URL, md5=VGG16_WEIGHTS_MD5):
    """Path to the official VGG16 ImageNet weights, downloading them on first use.

    The file (528 MB) goes to ``models/`` (git-ignored) and is checked by md5; an
    existing file with the right md5 is used as it is.

    Args:
        path: where the file lives (default ``models/<official name>``). When
            ``path`` is None and the ``HW3_VGG16_WEIGHTS`` environment variable names a
            file, that file is returned as it is, without the md5 check.
        url: where to download it from when it is missing.
        md5: its expected md5 (hex), or None to accept any existing file and not
            check a download.
    Returns:
        the path.
    Raises:
        DownloadError: no network, a failed or corrupt download (nothing is left).
        WeightFileError: the file exists but its md5 is wrong.
    """
    if path is None and os.environ.get("HW3_VGG16_WEIGHTS"):
        # The user's own file (e.g. a converted copy): used as it is; load_weights
        # still checks its layers, shapes and values.
        path = os.environ["HW3_VGG16_WEIGHTS"]
        if not os.path.exists(path):
            raise WeightFileError("HW3_VGG16_WEIGHTS=%s does not exist; unset it to "
                                  "download the official file" % path)
        return path
    path = path or os.path.join(MODELS_DIR, VGG16_WEIGHTS_FILE)
    if os.path.exists(path):
        if md5 is None or file_digest(path) == md5.lower():
            return path
        raise WeightFileError("%s exists but its md5 is not %s: delete it and run again "
                              "to download a fresh copy" % (path, md5))
    hint = ("Place the file there by hand (md5 %s), or run the notebook offline with "
            "WORLD='synthetic' (make notebook-offline)." % md5)
    return download(url, path, md5, "md5", desc="VGG16 weights", hint=hint)


# ---------------------------------------------------------------------------
# Preprocessing ('caffe' mode) and class names
# ---------------------------------------------------------------------------
CAFFE_MEAN_BGR = np.array([103.939, 116.779, 123.68], dtype=np.float32)


def resize_crop(image, size=224):
    """Resize an RGB uint8 image (H, W, 3) so its short side is ``size`` and crop
    the centre ``size`` x ``size`` (bilinear, Pillow)."""
    from PIL import Image
    image = _check_image(image)
    if int(size) != size or size < 1:
        raise ValueError("size must be a positive integer, got %r" % (size,))
    size = int(size)
    h, w = image.shape[:2]
    if (h, w) == (size, size):
        return image
    scale = size / float(min(h, w))
    nh, nw = max(size, int(round(h * scale))), max(size, int(round(w * scale)))
    im = Image.fromarray(image).resize((nw, nh), Image.BILINEAR)
    top, left = (nh - size) // 2, (nw - size) // 2
    return np.asarray(im)[top:top + size, left:left + size]


def _check_image(image):
    image = np.asarray(image)
    if image.dtype != np.uint8:
        raise ValueError("images must be uint8 RGB arrays with values 0-255, got dtype %s; "
                         "convert with np.clip(x, 0, 255).astype(np.uint8)" % image.dtype)
    if image.ndim != 3 or image.shape[2] != 3:
        raise ValueError("an image must have shape (H, W, 3) (RGB, channels last), got %r%s"
                         % (image.shape, _shape_hint(image.shape)))
    if min(image.shape[:2]) < 1:
        raise ValueError("an image must not be empty, got shape %r" % (image.shape,))
    return image


def _shape_hint(shape):
    if len(shape) == 2:
        return "; for a grayscale image use np.stack([g, g, g], axis=-1)"
    if len(shape) == 3 and shape[2] == 4:
        return "; for an RGBA image drop the alpha channel: image[..., :3]"
    if len(shape) == 3 and shape[0] == 3:
        return "; for a channels-first image use image.transpose(1, 2, 0)"
    return ""


def preprocess(images, size=224):
    """RGB uint8 images -> float32 (N, 3, size, size) model input ('caffe' mode).

    Each image is resized (short side) and centre-cropped to ``size``, turned to BGR,
    and the ImageNet channel means are subtracted.

    Args:
        images: one (H, W, 3) uint8 image, an (N, H, W, 3) array, or a list of
            (H, W, 3) images of any sizes.
    Returns:
        float32 array (N, 3, size, size).
    Raises:
        ValueError: no images, an image that is not uint8 or not (H, W, 3) RGB.
    """
    if isinstance(images, np.ndarray):
        if images.ndim == 3:
            images = [images]
        elif images.ndim != 4:
            raise ValueError("preprocess expects one (H, W, 3) image, an (N, H, W, 3) batch "
                             "or a list of images, got an array of shape %r%s"
                             % (images.shape, _shape_hint(images.shape)))
    if len(images) == 0:
        raise ValueError("preprocess got no images")
    batch = np.stack([resize_crop(im, size) for im in images]).astype(np.float32)
    batch = batch[..., ::-1] - CAFFE_MEAN_BGR
    return np.ascontiguousarray(batch.transpose(0, 3, 1, 2))


def deprocess(x):
    """Inverse of :func:`preprocess` (after cropping): (N, 3, H, W) or (3, H, W)
    model input -> RGB uint8 (N, H, W, 3) or (H, W, 3)."""
    x = np.asarray(x, dtype=np.float32)
    single = x.ndim == 3
    if single:
        x = x[None]
    if x.ndim != 4 or x.shape[1] != 3:
        raise ValueError("deprocess expects (N, 3, H, W) or (3, H, W), got %r" % (x.shape,))
    img = x.transpose(0, 2, 3, 1) + CAFFE_MEAN_BGR
    img = np.clip(np.round(img[..., ::-1]), 0, 255).astype(np.uint8)
    return img[0] if single else img


CLASSES_TSV = os.path.join(hw3_env.ROOT, "data", "imagenet_classes.tsv")


def imagenet_classes(path=CLASSES_TSV):
    """The 1000 ImageNet class names, by index (list of str)."""
    names = {}
    with open(path, encoding="utf8") as f:
        for line in f:
            parts = line.rstrip("\n").split("\t")
            if len(parts) >= 3 and parts[0].isdigit():
                names[int(parts[0])] = parts[2]
    if sorted(names) != list(range(1000)):
        raise ValueError("%s must list the classes 0..999" % path)
    return [names[i] for i in range(1000)]

"""Stand-in weights: VGG16 weight files of random values in the official Keras HDF5
layout (the official weights cannot be downloaded everywhere), and an independent NumPy
forward pass to check a loaded model against.

Nothing here imports ``models``: the files are written with h5py the way Keras 1/2
wrote them (the official ``vgg16_weights_tf_dim_ordering_tf_kernels.h5`` is a Keras 1
file with cross-correlation kernels and no ``backend`` attribute), and the reference
forward pass is plain NumPy, channels last, so a test comparing the two checks the
loader's conventions (kernel flip, flatten order, weight order) and not itself. The
tests, the benchmarks and ``HW3_VGG16_WEIGHTS`` runs use them::

    from weights import stand_in
    arrays = stand_in.write_official_weight_file("vgg16_stand_in.h5", seed=0)
"""
import h5py
import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

BLOCKS = (2, 2, 3, 3, 3)                 # convolutions per block (VGG16)
VGG16_WIDTHS = (64, 128, 256, 512, 512)  # the real network's block widths
STYLES = ("keras1", "keras2")
BACKENDS = (None, "tensorflow", "theano")


def official_layer_names(blocks=BLOCKS):
    """All layer names of the official VGG16 file, weightless ones included, in order.

    Returns:
        list of str: ``input_1, block1_conv1, ..., block5_pool, flatten, fc1, fc2,
        predictions``.
    """
    names = ["input_1"]
    for b, n in enumerate(blocks, start=1):
        names += ["block%d_conv%d" % (b, i) for i in range(1, n + 1)]
        names.append("block%d_pool" % b)
    return names + ["flatten", "fc1", "fc2", "predictions"]


def weighted_layer_names(blocks=BLOCKS):
    """Names of the 16 layers that hold weights (13 convolutions, 3 dense), in order."""
    return [n for n in official_layer_names(blocks)
            if "_conv" in n or n in ("fc1", "fc2", "predictions")]


def _dataset_names(layer, style):
    if style == "keras1":
        return ["%s_W_1:0" % layer, "%s_b_1:0" % layer]
    if style == "keras2":
        return ["%s/kernel:0" % layer, "%s/bias:0" % layer]
    raise ValueError("style must be one of %s, got %r" % (STYLES, style))


def random_vgg_arrays(widths=VGG16_WIDTHS, dense=4096, n_classes=1000, input_hw=(224, 224),
                      seed=0, scale=1.0, bias_std=1.0):
    """Random float32 VGG16 weights, kernels HWIO (3, 3, in, out), dense (in, out).

    Kernels are He-scaled (std ``scale * sqrt(2 / fan_in)``; ``sqrt(1 / fan_in)`` for
    the linear output layer), so the second moment of the activations stays roughly
    that of the input through all 16 layers: nothing vanishes or explodes and a
    relative-error check stays meaningful. Biases have std ``bias_std`` (about 2 % of
    activations for caffe-scaled inputs, i.e. far above a 1e-4 tolerance).

    Args:
        widths: channels of the five blocks.
        dense: units of fc1 and fc2.
        n_classes: units of the output layer.
        input_hw: (H, W) of the input, divisible by 32 (sets fc1's fan-in).
        seed: seed of the generator.
        scale: gain on the He standard deviation.
        bias_std: standard deviation of the biases.
    Returns:
        list of [kernel, bias] per weighted layer, in file order.
    """
    h, w = (int(s) for s in input_hw)
    if h % 32 or w % 32:
        raise ValueError("input_hw must be divisible by 32 (five 2x2 pools), got %r"
                         % (input_hw,))
    rng = np.random.default_rng(seed)

    def draw(shape, std):
        return (rng.standard_normal(shape, dtype=np.float32) * np.float32(std))

    arrays, cin = [], 3
    for n, width in zip(BLOCKS, widths):
        for _ in range(n):
            std = scale * np.sqrt(2.0 / (9 * cin))
            arrays.append([draw((3, 3, cin, width), std), draw((width,), bias_std)])
            cin = width
    fan_in = (h // 32) * (w // 32) * cin
    for units, gain in ((dense, 2.0), (dense, 2.0), (n_classes, 1.0)):
        arrays.append([draw((fan_in, units), scale * np.sqrt(gain / fan_in)),
                       draw((units,), bias_std)])
        fan_in = units
    return arrays


def write_arrays(path, arrays, style="keras1", backend=None, keras_version=None,
                 container="weights"):
    """Write per-layer [kernel, bias] arrays as a Keras HDF5 weight file (h5py only).

    Args:
        path: file to write.
        arrays: 16 [kernel, bias] pairs in VGG16 layer order, stored as they are.
        style: 'keras1' (``<layer>_W_1:0`` datasets directly in the layer group, as
            in the official file) or 'keras2' (``<layer>/kernel:0``, a nested group).
        backend: None (no attribute, as in the official file), 'tensorflow' or
            'theano'; the caller is responsible for the kernels matching it.
        keras_version: optional ``keras_version`` attribute.
        container: 'weights' (``save_weights`` layout: everything at the root) or
            'model' (``model.save`` layout: under a ``model_weights`` group).
    Returns:
        path.
    """
    names = weighted_layer_names()
    if len(arrays) != len(names):
        raise ValueError("need %d [kernel, bias] pairs, got %d" % (len(names), len(arrays)))
    by_layer = dict(zip(names, arrays))
    with h5py.File(path, "w") as f:
        if container == "model":
            f.attrs["model_config"] = b"{}"
            root = f.create_group("model_weights")
        elif container == "weights":
            root = f
        else:
            raise ValueError("container must be 'weights' or 'model', got %r" % container)
        root.attrs["layer_names"] = np.array([n.encode("utf8") for n in
                                              official_layer_names()])
        if backend is not None:
            root.attrs["backend"] = backend.encode("utf8")
        if keras_version is not None:
            root.attrs["keras_version"] = keras_version.encode("utf8")
        for layer in official_layer_names():
            g = root.create_group(layer)
            if layer not in by_layer:
                # What Keras writes for a weightless layer: an empty (float) array.
                g.attrs["weight_names"] = np.asarray([])
                continue
            dnames = _dataset_names(layer, style)
            g.attrs["weight_names"] = np.array([n.encode("utf8") for n in dnames])
            for dname, a in zip(dnames, by_layer[layer]):
                g.create_dataset(dname, data=np.asarray(a, dtype=np.float32))
    return path


def write_official_weight_file(path, widths=VGG16_WIDTHS, dense=4096, n_classes=1000,
                               input_hw=(224, 224), style="keras1", backend=None, seed=0,
                               scale=1.0, bias_std=1.0, keras_version=None,
                               container="weights"):
    """Write random VGG16 weights as the official Keras HDF5 file would hold them.

    See :func:`random_vgg_arrays` for the weights and :func:`write_arrays` for the
    layout. The kernels are stored as drawn: a test compares the loaded model with
    ``numpy_vgg_forward(arrays, x, correlation=(backend != 'theano'))``.

    Returns:
        the list of [kernel, bias] per weighted layer (the reference's input).
    """
    arrays = random_vgg_arrays(widths, dense, n_classes, input_hw, seed, scale, bias_std)
    if keras_version is None and style == "keras2":
        keras_version = "2.3.1"
    write_arrays(path, arrays, style, backend, keras_version, container)
    return arrays


# ---------------------------------------------------------------------------
# Independent NumPy forward pass (channels last, float64)
# ---------------------------------------------------------------------------
def conv3x3(x, kernel, bias, correlation=True):
    """'Same' 3x3 convolution layer (zero padding 1), no activation.

    Args:
        x: (N, H, W, C) array.
        kernel: (3, 3, C, O); a cross-correlation kernel when ``correlation``,
            otherwise a true convolution kernel (spatially flipped before use).
        bias: (O,).
    Returns:
        float64 (N, H, W, O).
    """
    k = np.asarray(kernel, dtype=np.float64)
    if not correlation:
        k = k[::-1, ::-1]
    xp = np.pad(np.asarray(x, dtype=np.float64), ((0, 0), (1, 1), (1, 1), (0, 0)))
    win = sliding_window_view(xp, (3, 3), axis=(1, 2))            # (N, H, W, C, 3, 3)
    return np.tensordot(win, k, axes=([4, 5, 3], [0, 1, 2])) + bias


def maxpool2(x):
    """2x2 max-pool, stride 2, of (N, H, W, C) with even H and W."""
    n, h, w, c = x.shape
    return x.reshape(n, h // 2, 2, w // 2, 2, c).max(axis=(2, 4))


def numpy_vgg_forward(arrays, images_nhwc, correlation=True, return_all=False):
    """The VGG16 forward pass in NumPy, channels last, float64.

    Zero-pad 1 + 3x3 convolution + ReLU (2-2-3-3-3 per block), 2x2 max-pools,
    flatten in (h, w, c) order, dense + ReLU, dense + ReLU, dense (linear scores).

    Args:
        arrays: 16 [kernel, bias] pairs (kernels (3, 3, in, out), dense (in, out)).
        images_nhwc: (N, H, W, 3) input (the model's input, transposed to channels
            last).
        correlation: True when the kernels are cross-correlation kernels
            (TensorFlow/official files), False for Theano's convolution kernels.
        return_all: also return every layer's output by official layer name
            (``block4_conv1`` is the ReLU output of conv4_1, NHWC).
    Returns:
        float64 (N, n_classes) scores; with ``return_all``, (scores, dict).
    """
    x = np.asarray(images_nhwc, dtype=np.float64)
    if x.ndim != 4 or x.shape[3] != 3:
        raise ValueError("images_nhwc must be (N, H, W, 3), got %r" % (x.shape,))
    it = iter(arrays)
    outputs = {}
    for b, n in enumerate(BLOCKS, start=1):
        for i in range(1, n + 1):
            k, bias = next(it)
            x = np.maximum(conv3x3(x, k, bias, correlation), 0.0)
            outputs["block%d_conv%d" % (b, i)] = x
        x = maxpool2(x)
        outputs["block%d_pool" % b] = x
    x = x.reshape(x.shape[0], -1)
    for name, (w, bias) in zip(("fc1", "fc2", "predictions"), it):
        x = x @ np.asarray(w, dtype=np.float64) + bias
        if name != "predictions":
            x = np.maximum(x, 0.0)
        outputs[name] = x
    return (x, outputs) if return_all else x


def relative_error(got, ref):
    """max |got - ref| / max |ref| (a scale-free error of a whole output)."""
    ref = np.asarray(ref, dtype=np.float64)
    return float(np.max(np.abs(np.asarray(got, dtype=np.float64) - ref)) / np.max(np.abs(ref)))


def caffe_like_images(n, hw, seed=0):
    """Random NHWC float images on the scale of caffe-preprocessed input
    (uint8 values minus the ImageNet means), float32."""
    rng = np.random.default_rng(seed)
    img = rng.integers(0, 256, size=(n, hw[0], hw[1], 3)).astype(np.float32)
    return img - np.array([103.939, 116.779, 123.68], dtype=np.float32)

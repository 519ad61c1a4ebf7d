"""Toy models for the attribution tests, in one place (tiny, seeded, fast)."""
import hw3_env  # noqa: F401

import numpy as np

import models

K = hw3_env.setup()
from keras.models import Sequential  # noqa: E402
from keras.layers import Conv2D, Dense, Flatten  # noqa: E402

TINY_WIDTHS = (4, 8, 8, 16, 16)
TINY_INPUT = (3, 64, 64)        # the map entering Flatten is 2x2


def seed_all(seed=0):
    np.random.seed(seed)


def tiny_vgg(n_classes=10, seed=0):
    """The course's VGG layout at tiny width (He init, so scores are not all 0)."""
    seed_all(seed)
    return models.VGG_16(input_shape=TINY_INPUT, widths=TINY_WIDTHS, dense=32,
                         n_classes=n_classes, kernel_initializer="he_normal")


def linear_model(seed=0, shape=(2, 4, 4), n_classes=5):
    """Conv2D 1x1 (linear) -> Flatten -> Dense (linear): every slice is linear."""
    seed_all(seed)
    m = Sequential([Conv2D(3, (1, 1), activation="linear", input_shape=shape),
                    Flatten(), Dense(n_classes, activation="linear")])
    rng = np.random.RandomState(seed)
    m.set_weights([rng.randn(*w.shape).astype("float32") for w in m.get_weights()])
    return m


def smooth_model(seed=0, shape=(2, 6, 6), n_classes=3):
    """Softplus convolutions and dense layers: a smooth, non-linear function."""
    seed_all(seed)
    m = Sequential([Conv2D(4, (3, 3), activation="softplus", padding="same", input_shape=shape),
                    Conv2D(4, (3, 3), activation="softplus", padding="same"),
                    Flatten(), Dense(8, activation="softplus"),
                    Dense(n_classes, activation="linear")])
    rng = np.random.RandomState(seed)
    m.set_weights([0.5 * rng.randn(*w.shape).astype("float32") for w in m.get_weights()])
    return m


def random_inputs(model, n, seed=0, scale=1.0):
    rng = np.random.RandomState(seed)
    return (scale * rng.randn(n, *model.input_shape[1:])).astype(np.float32)


def keras_gradient(model, tensor, c):
    """d s_c / d tensor evaluated from the model input, through Keras (independent of
    the slice machinery): x -> gradient."""
    f = K.function([model.input], K.gradients(K.sum(model.output[:, c]), [tensor]))
    return lambda x: f([x])[0]


# -- Part IV (compression): a model where one slice channel carries each class ------
CLASS_CHANNEL_SHAPE = (4, 4, 4)   # 4 channels, 4x4
CLASS_CHANNEL_SLICE = 1           # layers[1].input: the first convolution's output
CLASS_CHANNEL_INHIBITOR = 3       # slice channel that lowers every object class
CLASS_CHANNEL_BACKGROUND = 3      # output class with no weights and bias 0
CLASS_CHANNEL_THRESHOLD = 4.0     # object classes have bias -4


def class_channel_model():
    """Conv 1x1 relu (identity) -> [slice] -> Conv 1x1 relu (identity) -> Flatten ->
    Dense(4, linear), with hand-set weights:

    s_j = sum(z_j) - 0.5 sum(z_3) - 4 for the object classes j = 0, 1, 2, and
    s_3 = 0 (background). Slice channel j carries class j; channel 3 inhibits them.
    """
    C, H, W = CLASS_CHANNEL_SHAPE
    m = Sequential([Conv2D(C, (1, 1), activation="relu", input_shape=CLASS_CHANNEL_SHAPE),
                    Conv2D(C, (1, 1), activation="relu"), Flatten(),
                    Dense(4, activation="linear")])
    eye = np.eye(C, dtype=np.float32)[None, None]
    w = np.zeros((C, H, W, 4), dtype=np.float32)      # (channel, h, w, class)
    for j in range(3):
        w[j, :, :, j] = 1.0
        w[CLASS_CHANNEL_INHIBITOR, :, :, j] = -0.5
    # Keras' channels_first Flatten orders features (h, w, c).
    dense = w.transpose(1, 2, 0, 3).reshape(H * W * C, 4)
    bias = np.array([-CLASS_CHANNEL_THRESHOLD] * 3 + [0.0], dtype=np.float32)
    m.set_weights([eye, np.zeros(C, np.float32), eye, np.zeros(C, np.float32), dense, bias])
    return m


def class_channel_inputs(c, n, seed=0):
    """n inputs of class c in 0..2: channel c in [1, 2], the other object channels
    in [0, 0.2], the inhibitor channel in [0.05, 0.2]."""
    rng = np.random.RandomState(seed)
    x = rng.uniform(0.0, 0.2, size=(n,) + CLASS_CHANNEL_SHAPE)
    x[:, c] = rng.uniform(1.0, 2.0, size=(n,) + CLASS_CHANNEL_SHAPE[1:])
    x[:, CLASS_CHANNEL_INHIBITOR] = rng.uniform(0.05, 0.2, size=(n,) + CLASS_CHANNEL_SHAPE[1:])
    return x.astype(np.float32)


def class_channel_scores(x):
    """The class scores of :func:`class_channel_model`, by hand."""
    z = np.maximum(x, 0).sum(axis=(2, 3))
    s = np.zeros((len(x), 4))
    s[:, :3] = z[:, :3] - 0.5 * z[:, [CLASS_CHANNEL_INHIBITOR]] - CLASS_CHANNEL_THRESHOLD
    return s


# -- CSEP 590B HW2 (removal methods): a model linear in the pixels ---------------------
def pixel_linear_model(shape=(3, 16, 16), n_classes=4, seed=0, support=None, scale=0.05):
    """Flatten -> Dense(n_classes, linear): s = W . x + b, so p = softmax(s).

    Args:
        support: optional bool (H, W) mask; the scores depend only on those pixels
            (the weights of every other pixel are 0).
        scale: standard deviation of the random weights (small: p stays unsaturated).
    """
    seed_all(seed)
    c, h, w = shape
    m = Sequential([Flatten(input_shape=shape), Dense(n_classes, activation="linear")])
    rng = np.random.RandomState(seed)
    kernel = scale * rng.randn(h, w, c, n_classes)     # Flatten orders features (h, w, c)
    if support is not None:
        kernel *= np.asarray(support, dtype=bool)[:, :, None, None]
    m.set_weights([kernel.reshape(h * w * c, n_classes).astype(np.float32),
                   rng.randn(n_classes).astype(np.float32)])
    return m


def pixel_linear_probabilities(model, x):
    """p = softmax(W . x + b) of :func:`pixel_linear_model` by hand, in float64 (N, K)."""
    kernel, bias = (np.asarray(v, dtype=np.float64) for v in model.get_weights())
    x = np.asarray(x, dtype=np.float64)
    s = x.transpose(0, 2, 3, 1).reshape(len(x), -1) @ kernel + bias
    e = np.exp(s - s.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)
# -- CAMs: a convolution slice read by a linear top ----------------------
CAM_INPUT = (3, 6, 6)
CAM_CHANNELS = 4
CAM_DEAD = 3                      # slice channel whose ReLU output is 0 everywhere


def conv_linear_top_model(seed=0, summed_channel=1, n_classes=3):
    """Conv2D 3x3 relu (same padding) -> [slice: layers[1].input] -> Flatten ->
    Dense(n_classes, linear), seeded.

    Class 0's score is the sum of slice channel ``summed_channel`` (kernel 1 on that
    channel, 0 elsewhere, bias 0); the other classes have random weights and biases.
    Channel :data:`CAM_DEAD` has bias -100, so it is 0 on inputs of moderate size.

    Returns:
        (model, dense) with ``dense`` the (C, H, W, n_classes) weights of the top in
        the slice's own layout (the Keras kernel is its (h, w, c) flattening).
    """
    seed_all(seed)
    rng = np.random.RandomState(seed)
    C, (_, H, W) = CAM_CHANNELS, CAM_INPUT
    m = Sequential([Conv2D(C, (3, 3), activation="relu", padding="same",
                           input_shape=CAM_INPUT),
                    Flatten(), Dense(n_classes, activation="linear")])
    kernel = rng.randn(3, 3, 3, C).astype(np.float32)
    bias = (0.5 * rng.randn(C)).astype(np.float32)
    bias[CAM_DEAD] = -100.0
    dense = rng.randn(C, H, W, n_classes).astype(np.float32)
    dense[..., 0] = 0.0
    dense[summed_channel, :, :, 0] = 1.0
    top_bias = rng.randn(n_classes).astype(np.float32)
    top_bias[0] = 0.0
    # Keras' channels_first Flatten orders features (h, w, c).
    m.set_weights([kernel, bias, dense.transpose(1, 2, 0, 3).reshape(H * W * C, n_classes),
                   top_bias])
    return m, dense


# -- Network dissection: a planted concept unit and a constant unit ------
DISSECT_INPUT = (3, 8, 8)


def planted_unit_model():
    """Conv2D(2, 1x1, relu) -> [slice: layers[1].input] -> Flatten -> Dense(2).

    Unit 0 copies input channel 0 (feed it a concept mask and it *is* that mask);
    unit 1 is the constant 1 (kernel 0, bias 1) whatever the input.
    """
    C, H, W = DISSECT_INPUT
    m = Sequential([Conv2D(2, (1, 1), activation="relu", input_shape=DISSECT_INPUT),
                    Flatten(), Dense(2, activation="linear")])
    kernel = np.zeros((1, 1, C, 2), dtype=np.float32)
    kernel[0, 0, 0, 0] = 1.0
    rng = np.random.RandomState(0)
    m.set_weights([kernel, np.array([0.0, 1.0], np.float32),
                   rng.randn(2 * H * W, 2).astype(np.float32), np.zeros(2, np.float32)])
    return m


def strided_conv_model(seed=0):
    """Conv2D(3, 2x2, stride 2, relu) on (3, 8, 8) -> [slice: 4x4 maps] -> Flatten ->
    Dense(2): a slice coarser than the input, for upsampled unit masks."""
    seed_all(seed)
    m = Sequential([Conv2D(3, (2, 2), strides=(2, 2), activation="relu",
                           input_shape=DISSECT_INPUT), Flatten(), Dense(2)])
    rng = np.random.RandomState(seed)
    m.set_weights([rng.randn(*w.shape).astype(np.float32) for w in m.get_weights()])
    return m

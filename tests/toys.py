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

"""The synthetic world's surrogate model: the course's VGG16 layout, narrowed, on the
64x64 scenes of :mod:`synthetic_world.scenes` (trained by
:mod:`synthetic_world.train_surrogate`; weights and training record in ``models/``).
"""
import json
import os

import hw3_env

import numpy as np

from synthetic_world.scenes import (CLASS_NAMES, IMAGE_SIZE, TASKS, check_task,
                                    generate_dataset)

SURROGATE_WIDTHS = (8, 16, 32, 64, 64)
SURROGATE_DENSE = 128
SURROGATE_PATH = os.path.join(hw3_env.ROOT, 'models', 'surrogate.h5')
BACKGROUND_SURROGATE_PATH = os.path.join(hw3_env.ROOT, 'models', 'surrogate_background.h5')
"""The second surrogate: the same layout trained on a scene-level label (task
``'stripes'``: is the background striped?) instead of the object's class."""


def record_path(weights_path):
    """The JSON record that belongs to a weight file (same name, ``.json``)."""
    return os.path.splitext(weights_path)[0] + '.json'


def surrogate_record(path=None):
    """The training record of the surrogate model.

    Args:
        path: the weight file (default ``models/surrogate.h5``) or its ``.json``.
    Returns:
        dict read from the JSON record (seed, epochs, data sizes, widths, dense,
        held-out accuracy overall and per class, wall time, command, versions).
    Raises:
        ValueError: no record found.
    """
    path = record_path(path or SURROGATE_PATH)
    if not os.path.exists(path):
        raise ValueError('no surrogate record at %s: train the surrogate with '
                         '`make surrogate` (python -m synthetic_world.train_surrogate)' % path)
    with open(path, encoding='utf8') as f:
        return json.load(f)


def build_surrogate(widths=SURROGATE_WIDTHS, dense=SURROGATE_DENSE,
                    kernel_initializer='glorot_uniform', n_classes=len(CLASS_NAMES)):
    """The surrogate's architecture: the course's VGG16 layout on 64x64 inputs.

    Args:
        widths: channels of the five convolution blocks.
        dense: units of the two hidden dense layers.
        kernel_initializer: Keras initializer name.
        n_classes: output units (10 objects; 3 background kinds for the second surrogate).
    Returns:
        an uncompiled ``keras.models.Sequential`` (37 layers, linear scores).
    """
    import models
    return models.VGG_16(None, input_shape=(3, IMAGE_SIZE, IMAGE_SIZE), widths=tuple(widths),
                         dense=int(dense), n_classes=int(n_classes),
                         kernel_initializer=kernel_initializer)


def load_surrogate(path=None):
    """The trained surrogate model (inputs: ``models.preprocess(images, size=64)``).

    Args:
        path: weight file (default ``models/surrogate.h5``). Widths and dense units
            come from its JSON record when there is one, else
            :data:`SURROGATE_WIDTHS` / :data:`SURROGATE_DENSE`.
    Returns:
        the Keras model with its weights loaded.
    Raises:
        models.WeightFileError: missing or unfitting weight file.
    """
    import models
    path = path or SURROGATE_PATH
    widths, dense, n_classes = SURROGATE_WIDTHS, SURROGATE_DENSE, len(CLASS_NAMES)
    if os.path.exists(record_path(path)):
        rec = surrogate_record(path)
        widths, dense = tuple(rec.get('widths', widths)), rec.get('dense', dense)
        n_classes = len(rec.get('class_names', CLASS_NAMES))
    model = build_surrogate(widths, dense, n_classes=n_classes)
    models.load_weights(model, path)
    return model


def predict_scores(model, images, images_per_call=100):
    """Linear class scores of uint8 RGB images.

    Args:
        model: a surrogate model.
        images: uint8 (N, 64, 64, 3).
        images_per_call: images per forward pass.
    Returns:
        float32 (N, n_classes).
    """
    import models
    out = [model.predict(models.preprocess(images[i:i + images_per_call], size=IMAGE_SIZE),
                         batch_size=images_per_call)
           for i in range(0, len(images), images_per_call)]
    return (np.concatenate(out) if out
            else np.zeros((0, int(model.output_shape[-1])), np.float32))


def heldout_accuracy(model, n_per_class=100, seed=0, task='object'):
    """Accuracy of ``model`` on the 'heldout' split, overall and per class.

    Args:
        model: a surrogate model.
        n_per_class: held-out images per object class (for either task).
        seed: world seed of the held-out images.
        task: 'object' (labels: the object's class) or 'background' (its kind).
    Returns:
        dict with 'overall' (float), 'per_class' (label name -> float) and
        'confusion' (list of counts, rows = true label).
    """
    names = TASKS[check_task(task)]
    images, labels = generate_dataset(range(len(CLASS_NAMES)), n_per_class, 'heldout', seed,
                                      task=task)
    pred = predict_scores(model, images).argmax(axis=1)
    confusion = np.zeros((len(names),) * 2, dtype=int)
    np.add.at(confusion, (labels, pred), 1)
    per_class = {name: float(confusion[i, i] / max(1, confusion[i].sum()))
                 for i, name in enumerate(names)}
    return {'overall': float(np.mean(pred == labels)), 'per_class': per_class,
            'confusion': confusion.tolist()}

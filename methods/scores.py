"""The model's outputs as NumPy arrays: class scores, the softmax, probabilities.

One copy of each, shared by the methods that read the model forward only (Score-CAM's
masked inputs, LIME's classifier, the removal methods, the notebooks' predictions):

* :func:`model_scores`: the linear class scores s(x), through the compiled forward of
  the model's cached point-DoI explanation (:func:`point_explanation`), the same
  function the CAMs' slices are cut from;
* :func:`softmax`: p = softmax(s) row by row, in float64 with the row maximum
  subtracted first;
* :func:`probabilities`: p = softmax(s(x)), the forward quantity of CSEP 590B's
  p_t (:class:`methods.quantities.ProbabilityQoI` is its gradient side).
"""
import hw3_env  # noqa: F401  (must come before keras/theano)

import numpy as np

from Explanation import explanation_of
from methods.distributions import Point

__all__ = ["point_explanation", "model_scores", "softmax", "probabilities"]


def point_explanation(model):
    """The ``Explanation`` of ``model`` under the point DoI (influence, dQ/dz at z),
    kept with the model: its slices' compiled h, g and gradients are reused by every
    caller (the CAMs, :func:`model_scores`, network dissection).

    Args:
        model: the Keras model.
    Returns:
        the cached :class:`Explanation.Explanation`.
    """
    return explanation_of(model, "point", Point(ignore_difference_term=True, images_per_call=16))


def model_scores(model, x, images_per_call=16):
    """The model's class scores s(x).

    Args:
        model: the Keras model (linear class scores).
        x: preprocessed model inputs (N, 3, H, W).
        images_per_call: images per call of the compiled forward.
    Returns:
        float32 (N, classes).
    """
    return point_explanation(model).for_input().g(x, images_per_call)


def softmax(scores):
    """Row-wise softmax of scores.

    Args:
        scores: (N, C) (or any shape; the softmax runs over the last axis).
    Returns:
        float64 probabilities of the same shape, each row summing to 1.
    """
    s = np.asarray(scores, dtype=np.float64)
    s = s - s.max(axis=-1, keepdims=True)
    e = np.exp(s)
    return e / e.sum(axis=-1, keepdims=True)


def probabilities(model, x, images_per_call=16):
    """p = softmax(s(x)), the model's class probabilities.

    Args:
        model: the Keras model (linear class scores).
        x: model inputs (N, ...).
        images_per_call: images per forward call.
    Returns:
        float64 (N, C).
    """
    x = np.asarray(x, dtype=np.float32)
    return softmax(model.predict(x, batch_size=images_per_call))

"""Class activation maps (Grad-CAM, Ablation-CAM, Score-CAM) as influence at a
convolution slice.

In the vocabulary of Leino et al. 2018 every CAM here is one slice s = <g, h> of the
model at a convolution's output, z = A = h(x) with channels A_k (C, u, v), one
quantity of interest, the class score Q = s_c (the linear output, no softmax), and
a per-channel weight w_k that says how much channel k matters for Q. The map is

    L_c = ReLU( sum_k w_k A_k )                                       (u, v)

and the three methods differ only in w_k. They follow the definitions of
pytorch-grad-cam 1.5 (``GradCAM``, ``AblationCAM``, ``ScoreCAM``; the anchor of
``benchmarks/bench_cam.py``, which checks agreement on the same VGG16 weights):

* **Grad-CAM** (Selvaraju et al. 2017, eq. 1-2):
  w_k = (1/uv) sum_ij dQ/dA_k,ij, the spatial mean of the *influence* of the slice
  under the point distribution of interest at the instance
  (:class:`methods.distributions.Point`: exactly dQ/dz at z).
* **Ablation-CAM** (Desai & Ramaswamy 2020, eq. 2):
  w_k = (Q(A) - Q(A with channel k zeroed)) / Q(A). Only g, the part of the network
  above the slice, runs per ablation, on the cached A (``compression.masked_scores``),
  many channels per batch.
* **Score-CAM** (Wang et al. 2020): each A_k is upsampled bilinearly to the input's
  size with corners aligned, min-max normalised, M_k = (U_k - min U_k) /
  (max U_k - min U_k + 1e-8), and multiplied into the (preprocessed) input; the
  score of the masked input is S_k = Q(x * M_k) and w = softmax_k(S_k). Channels
  whose M_k is identically 0 (a dead or constant channel) all give the blank input
  x * 0, whose score is computed once.

``grad_cam``, ``ablation_cam`` and ``score_cam`` take ``(imgs, model, target_labels,
layer=None, upsample=True)``: ``layer`` is the index i of the slice z =
``model.layers[i].input``, which must be a convolution's output (default: the last
convolution, conv5_3 = ``layers[30].input`` in the VGG16 layout, the ReLU output of
block5_conv3, since our Conv2D layers carry their ReLU). With ``upsample=True`` they
return (N, H, W) maps min-max scaled to [0, 1] ((L - min) / (max + 1e-7) after
subtracting the min, as pytorch-grad-cam's ``scale_cam_image``) and resized to the
input bilinearly (half-pixel centres, as OpenCV's ``resize``); with ``upsample=False``
the unscaled ReLU maps (N, u, v) at the slice's resolution.
"""
import hw3_env  # noqa: F401  (must come before keras/theano)

import time
from dataclasses import dataclass

import numpy as np

import compression
from chain.checks import check_inputs, check_targets
from methods.images import resize_bilinear, scale_maps
from methods.scores import model_scores, point_explanation, softmax
from notebook_tools.progress import progress as _progress

K = hw3_env.setup()

SCORE_CAM_EPS = 1e-8     # Score-CAM's min-max normalisation (pytorch-grad-cam)


# ---------------------------------------------------------------------------
# The slice: a convolution's output
# ---------------------------------------------------------------------------
def _is_conv(layer):
    from keras.layers import Conv2D
    return isinstance(layer, Conv2D)


def conv_slices(model):
    """Indices i whose ``model.layers[i].input`` is a convolution's output (the
    output of a Conv2D, with its activation, or of an activation layer right after
    a linear Conv2D).

    Returns:
        list of ints, bottom to top.
    """
    from keras.layers import Activation, ReLU
    out = []
    for i in range(1, len(model.layers)):
        prev = model.layers[i - 1]
        if _is_conv(prev) or (isinstance(prev, (Activation, ReLU)) and i >= 2
                              and _is_conv(model.layers[i - 2])):
            out.append(i)
    return out


def conv_slice(model, layer=None):
    """The slice index of a CAM: ``layer`` checked, or the last convolution's.

    Args:
        model: a Keras Sequential model, channels first.
        layer: i such that ``model.layers[i].input`` is a convolution's output, or
            None for the last convolution (conv5_3 = 30 in the VGG16 layout).
    Returns:
        the int index.
    Raises:
        ValueError: the model has no convolution followed by another layer, or
            ``layer`` is not a convolution's output (the message lists the valid
            indices).
    """
    valid = conv_slices(model)
    if not valid:
        raise ValueError("the model has no convolution output followed by another layer, "
                         "so there is no slice for a CAM")
    if layer is None:
        return valid[-1]
    if isinstance(layer, (bool, np.bool_)) or not isinstance(layer, (int, np.integer)):
        raise ValueError("layer must be an int index i with model.layers[i].input a "
                         "convolution's output, got %r; valid: %s" % (layer, valid))
    if int(layer) not in valid:
        where = ("out of range (0..%d)" % (len(model.layers) - 1)
                 if not 0 <= int(layer) < len(model.layers) else
                 "the output of %s %r" % (type(model.layers[int(layer) - 1]).__name__,
                                          model.layers[int(layer) - 1].name)
                 if int(layer) > 0 else "the model's input")
        raise ValueError("layer %d is not a convolution output: model.layers[%d].input is %s. "
                         "Pass one of %s (the last, %d, is the default)"
                         % (int(layer), int(layer), where, valid, valid[-1]))
    return int(layer)


def _slice(model, layer):
    """The slice ``for_layer(layer)`` of the cached point-DoI explanation (resolution 1,
    influence: :func:`methods.scores.point_explanation`)."""
    return point_explanation(model).for_layer(layer)


def _inputs(imgs, model, target_labels, layer):
    x = check_inputs(model, imgs)
    return x, check_targets(model, target_labels, len(x)), _slice(model, conv_slice(model,
                                                                                     layer))


def weighted_map(activations, weights):
    """L = ReLU(sum_k w_k A_k) for (N, C, u, v) activations and (N, C) weights."""
    a = np.asarray(activations, dtype=np.float32)
    w = np.asarray(weights, dtype=np.float32)
    if a.ndim != 4 or w.shape != a.shape[:2]:
        raise ValueError("activations must be (N, C, u, v) and weights (N, C), got %r and %r"
                         % (a.shape, w.shape))
    return np.maximum(np.einsum("nc,ncij->nij", w, a), 0)


def _finish(activations, weights, x, upsample):
    cam = weighted_map(activations, weights)
    return scale_maps(cam, x.shape[-2:]) if upsample else cam


# ---------------------------------------------------------------------------
# Channel weights
# ---------------------------------------------------------------------------
def grad_cam_weights(imgs, model, target_labels, layer=None):
    """Grad-CAM's weights w_k = (1/uv) sum_ij dQ/dA_k,ij, Q = s_c.

    The gradient is the influence of Q at the slice under the point DoI at each
    instance: ``Explanation(model, Point()).for_layer(layer).absolute(c)``.

    Args:
        imgs: preprocessed model inputs (N, 3, H, W).
        model: the Keras model.
        target_labels: one class index, or one per image.
        layer: the slice (see :func:`conv_slice`).
    Returns:
        (A, w): activations (N, C, u, v) and float32 weights (N, C).
    """
    x, t, sl = _inputs(imgs, model, target_labels, layer)
    a = sl.h(x)
    grads = np.empty_like(a)
    for c in np.unique(t):
        idx = np.flatnonzero(t == c)
        grads[idx] = sl.absolute(int(c)).explain_activations(a[idx]).attribution
    return a, grads.mean(axis=(2, 3))


def ablation_cam_weights(imgs, model, target_labels, layer=None, channels_per_call=32,
                         progress=True):
    """Ablation-CAM's weights w_k = (Q(A) - Q(A with A_k = 0)) / Q(A), Q = s_c.

    Each image's C ablations run g only (the network above the slice) on its cached
    activations, ``channels_per_call`` ablated channels per call
    (``compression.masked_scores``).

    Args:
        imgs, model, target_labels, layer: as :func:`grad_cam_weights`.
        channels_per_call: ablations (one channel zeroed each) per call of g.
        progress: show progress over the images.
    Returns:
        (A, w): activations (N, C, u, v) and float32 weights (N, C).
    """
    x, t, sl = _inputs(imgs, model, target_labels, layer)
    a = sl.h(x)
    n_channels = a.shape[1]
    original = sl.g(a)[np.arange(len(a)), t].astype(np.float64)
    ablate = 1.0 - np.eye(n_channels, dtype=np.float32)
    weights = np.empty(a.shape[:2], dtype=np.float32)
    for i in _progress(range(len(a)), desc="Ablation-CAM: %d channels" % n_channels,
                       unit="image", disable=not progress):
        ablated = compression.masked_scores(sl, a[i:i + 1], ablate,
                                            channels_per_call)[:, t[i]]
        weights[i] = (original[i] - ablated) / original[i]
    return a, weights


def score_cam_weights(imgs, model, target_labels, layer=None, masks_per_call=16,
                      progress=True):
    """Score-CAM's weights w = softmax_k Q(x * M_k), M_k the upsampled (corners
    aligned) and min-max normalised A_k.

    Channels whose M_k is identically 0 share one evaluation of the blank input.

    Args:
        imgs, model, target_labels, layer: as :func:`grad_cam_weights`.
        masks_per_call: masked inputs x * M_k per forward call.
        progress: show progress over the images.
    Returns:
        (A, w): activations (N, C, u, v) and float32 weights (N, C) (each row sums
        to 1).
    """
    x, t, sl = _inputs(imgs, model, target_labels, layer)
    a = sl.h(x)
    weights = np.empty(a.shape[:2], dtype=np.float32)
    for i in _progress(range(len(a)), desc="Score-CAM: %d channels" % a.shape[1],
                       unit="image", disable=not progress):
        masks = score_cam_masks(a[i], x.shape[-2:])
        live = np.flatnonzero(masks.reshape(len(masks), -1).any(axis=1))
        scores = np.empty(len(masks), dtype=np.float64)
        if len(live) < len(masks):
            scores[:] = model_scores(model, np.zeros_like(x[i:i + 1]))[0, t[i]]
        for s in range(0, len(live), masks_per_call):
            k = live[s:s + masks_per_call]
            scores[k] = model_scores(model, x[i][None] * masks[k][:, None],
                                     masks_per_call)[:, t[i]]
        weights[i] = softmax(scores)
    return a, weights


def score_cam_masks(activations, size):
    """Score-CAM's masks of one image: each channel upsampled bilinearly with corners
    aligned to ``size`` and min-max normalised (+1e-8 in the denominator).

    Args:
        activations: (C, u, v).
        size: (H, W) of the model input.
    Returns:
        float32 (C, H, W) in [0, 1].
    """
    up = resize_bilinear(activations, size, align_corners=True)
    lo = up.min(axis=(1, 2), keepdims=True)
    hi = up.max(axis=(1, 2), keepdims=True)
    return (up - lo) / (hi - lo + np.float32(SCORE_CAM_EPS))


# ---------------------------------------------------------------------------
# The maps (the signature of the report's functions)
# ---------------------------------------------------------------------------
def grad_cam(imgs, model, target_labels, layer=None, upsample=True):
    """Grad-CAM maps L = ReLU(sum_k w_k A_k), w from :func:`grad_cam_weights`.

    Args:
        imgs: preprocessed model inputs (N, 3, H, W) (``world.preprocess(images)``).
        model: the Keras model (linear class scores).
        target_labels: one class index, or one per image.
        layer: i with ``model.layers[i].input`` a convolution's output; None: the last.
        upsample: True: (N, H, W) maps scaled to [0, 1] and resized to the input;
            False: the unscaled ReLU maps (N, u, v) at the slice.
    Returns:
        float32 maps.
    """
    a, w = grad_cam_weights(imgs, model, target_labels, layer)
    return _finish(a, w, np.asarray(imgs), upsample)


def ablation_cam(imgs, model, target_labels, layer=None, upsample=True):
    """Ablation-CAM maps, w from :func:`ablation_cam_weights` (arguments and result as
    :func:`grad_cam`)."""
    a, w = ablation_cam_weights(imgs, model, target_labels, layer)
    return _finish(a, w, np.asarray(imgs), upsample)


def score_cam(imgs, model, target_labels, layer=None, upsample=True):
    """Score-CAM maps, w from :func:`score_cam_weights` (arguments and result as
    :func:`grad_cam`)."""
    a, w = score_cam_weights(imgs, model, target_labels, layer)
    return _finish(a, w, np.asarray(imgs), upsample)


@dataclass
class CamResult:
    """One method's maps on a batch (what :func:`compare` returns per method).

    Attributes:
        weights: (N, C) channel weights w_k.
        raw: (N, u, v) unscaled ReLU maps at the slice.
        maps: (N, H, W) maps scaled to [0, 1] and resized to the input.
        seconds: wall time per image (activations and weights; h runs once per call).
    """
    weights: np.ndarray
    raw: np.ndarray
    maps: np.ndarray
    seconds: float


def compare(imgs, model, target_labels, layer=None, methods=None):
    """Every CAM of the registry (:func:`methods.registry.cams`; or ``methods``, a list
    of their names) on the same images, targets and slice.

    Args:
        imgs, model, target_labels, layer: as :func:`grad_cam`.
        methods: CAM names (default: all, in the registry's order).
    Returns:
        dict method name -> :class:`CamResult`, in the order of ``methods``.
    """
    from methods.registry import cams          # the registry imports this module
    weights = {e.name: e.weights for e in cams()}
    x = check_inputs(model, imgs)
    out = {}
    for name in (methods or list(weights)):
        if name not in weights:
            raise ValueError("unknown CAM %r; choose among %s" % (name, list(weights)))
        start = time.perf_counter()
        a, w = weights[name](x, model, target_labels, layer)
        seconds = (time.perf_counter() - start) / len(x)
        raw = weighted_map(a, w)
        out[name] = CamResult(w, raw, scale_maps(raw, x.shape[-2:]), seconds)
    return out

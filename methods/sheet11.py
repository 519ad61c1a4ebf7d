"""TU Berlin ML sheet 11, exercise 4 (explaining VGG16's "castle"): the sheet's
functions as thin wrappers over the Explanation chain.

* :func:`gradient_x_input`: R_i = x_i * df/dx_i, f the class score (scores, not
  probabilities). In the paper's vocabulary: the slice at the pixels, Q = s_c, and the
  point distribution of interest at x with the difference term (x - 0),
  :class:`methods.distributions.Point`.
* :func:`lrp`: the same, on the LRP-rewritten model of :mod:`methods.lrp` (z^B on the
  first convolution, LRP-gamma on the others), R = x dx + l dl + h dh.
* :func:`visualize`: the sheet's ``utils.visualize``: the channel sum, red positive and
  blue negative, symmetric limits +-b with b = 10 * (mean |R|^3)^(1/3).
"""
import hw3_env  # noqa: F401  (must come before keras/theano)

import numpy as np

from chain.checks import check_targets
from Explanation import explanation_of
from methods.distributions import Point
from methods.lrp import LRPRelevance, lrp_model



def _explain(expl, imgs, target_labels):
    """Per-image pixel explanations toward each image's class score, one pass per
    distinct class."""
    x = np.asarray(imgs, np.float32)
    if x.ndim == 3:
        x = x[None]
    labels = check_targets(expl.model, target_labels, len(x))
    out = None
    pixels = expl.for_input()
    for c in np.unique(labels):
        idx = np.flatnonzero(labels == c)
        r = pixels.absolute(int(c)).explain(x[idx]).attribution
        if out is None:
            out = np.zeros((len(x),) + r.shape[1:], np.float32)
        out[idx] = r
    return out


def explainer(model, kind="gradient_x_input", gammas=None):
    """The Explanation chain behind :func:`gradient_x_input` (``kind``
    'gradient_x_input': the model with the point DoI and its difference term) or
    :func:`lrp` ('lrp': the rewritten model with :class:`LRPRelevance`), built and
    compiled once per model, so notebook cells can explain other slices and QoIs with
    the same compiled graphs.

    Returns:
        an :class:`Explanation`; for 'lrp' its ``model`` is the rewritten model.
    """
    if kind not in ("gradient_x_input", "lrp"):
        raise ValueError("kind must be 'gradient_x_input' or 'lrp', got %r" % (kind,))
    if kind == "gradient_x_input":
        return explanation_of(model, "gradient_x_input", Point(ignore_difference_term=False))
    key = None if gammas is None else tuple(float(g) for g in gammas)
    rewritten = model.__dict__.setdefault("_lrp_models", {})   # goes with the model
    if key not in rewritten:
        rewritten[key] = lrp_model(model, gammas=gammas)
    return explanation_of(rewritten[key], "lrp", LRPRelevance())


def gradient_x_input(imgs, model, target_labels):
    """Gradient x Input, R_i = x_i * ds_c/dx_i (the sheet's ``gradinput``).

    Args:
        imgs: preprocessed model inputs (N, 3, H, W) (or one (3, H, W)).
        model: a Keras model with linear class scores.
        target_labels: the class c of each image (one int for all).
    Returns:
        float32 (N, 3, H, W) relevance; sum_i R_i = s_c(x) - s_c(0) + the curvature
        error only when the model is not piecewise linear and homogeneous.
    """
    return _explain(explainer(model, "gradient_x_input"), imgs, target_labels)


def lrp(imgs, model, target_labels, gammas=None):
    """LRP of the class score by the gradient trick (z^B + LRP-gamma, see
    :mod:`methods.lrp`).

    Args:
        imgs: preprocessed model inputs (N, 3, H, W) (or one (3, H, W)).
        model: a Keras model with at least one convolution (the course's VGG16).
        target_labels: the class c of each image (one int for all).
        gammas: LRP-gamma of each convolution after the first (None: the default
            schedule, 0.5 in blocks 1-2, 0.25 in 3, 0.1 in 4, 0 in 5).
    Returns:
        float32 (N, 3, H, W) relevance R = x dx + l dl + h dh.
    """
    return _explain(explainer(model, "lrp", gammas), imgs, target_labels)


def heatmap_limit(relevance):
    """b = 10 * (mean |R|^3)^(1/3) of the channel-summed map (the sheet's robust
    norm): the colour limits are -b and +b."""
    r = np.asarray(relevance, np.float64)
    return float(10.0 * np.mean(np.abs(r) ** 3) ** (1.0 / 3.0))


def heatmap(relevance):
    """The (H, W) map the sheet shows: the sum of R over colour channels.

    Args:
        relevance: (3, H, W), (1, 3, H, W) or (H, W).
    """
    r = np.asarray(relevance, np.float64)
    if r.ndim == 4 and len(r) == 1:
        r = r[0]
    if r.ndim == 3:
        r = r.sum(axis=0)
    if r.ndim != 2:
        raise ValueError("relevance must be (3, H, W), (1, 3, H, W) or (H, W), got %r"
                         % (np.shape(relevance),))
    return r


def visualize(relevance, ax=None, title=None):
    """Draw relevance maps like the sheet's ``utils.visualize``: channel sum, the
    darkened 'seismic' colour map (red positive, blue negative), limits +-b of each
    map's own robust norm (:func:`heatmap_limit`), with a colour bar per map.

    Args:
        relevance: one relevance ((3, H, W), (1, 3, H, W) or (H, W)), or a list of them
            drawn side by side (each on its own scale).
        ax: the axes (one per map) to draw on (default: a new figure).
        title: a title, or one per map.
    Returns:
        the matplotlib Figure.
    """
    from VisualizerTiler import relevance_row
    many = isinstance(relevance, (list, tuple))
    maps = [heatmap(r) for r in (relevance if many else [relevance])]
    titles = list(title) if many and title is not None else [title or ""] * len(maps)
    return relevance_row(maps, titles, [heatmap_limit(m) for m in maps],
                         axes=None if ax is None else list(np.atleast_1d(ax)))


# ---------------------------------------------------------------------------
# The LRP rules in words
# ---------------------------------------------------------------------------
def rules_text(model, rules):
    """The LRP rules by layer name, consecutive layers with one rule grouped:
    "z^B on block1_conv1; gamma=0.5 on block1_conv2 to block2_conv2; ...".

    Args:
        model: the model whose layer indices ``rules`` uses.
        rules: list of (layer index, rule) (``lrp_model(...).lrp_rules``).
    """
    groups = []
    for i, rule in rules:
        name = model.layers[i].name
        if groups and groups[-1][0] == rule:
            groups[-1][2] = name
        else:
            groups.append([rule, name, name])
    return "; ".join("%s on %s" % (r, a if a == b else "%s to %s" % (a, b)) for r, a, b in groups)

"""Network dissection (Bau et al. 2017, "Network Dissection: Quantifying
Interpretability of Deep Visual Representations") on any probe set of images with
pixel-level concept masks.

For a slice z = h(x) at a convolution's output (``model.layers[i].input``) and each
unit (channel) k with activation maps A_k(x):

1. the top-quantile threshold T_k: P(A_k > T_k) = 0.005 over every position of every
   probe image (``quantile=0.995``);
2. each map A_k(x) is upsampled bilinearly (half-pixel centres) to the mask size and
   binarised, M_k(x) = S_k(x) >= T_k; a unit whose T_k equals its minimum over the
   probe set (a constant or mostly dead unit, whose top quantile singles nothing
   out) gets empty masks;
3. its IoU with concept c over the whole probe set,

       IoU_k,c = sum_x |M_k(x) and L_c(x)| / sum_x |M_k(x) or L_c(x)|,

   L_c(x) the concept's mask on image x (empty where x does not show c);
4. the unit's label is the concept of largest IoU, kept if IoU_k,c > 0.04: the unit
   is then a *detector* of c.

In the synthetic world the concepts are every part mask of every class
(``synthetic.PARTS``: ``'sports car: roof'``, ...) and each class's whole object
(``'sports car: object'``); :func:`synthetic_probe_set` makes the probe set from
held-out scenes. The ImageNet world has no pixel-level concept masks here (the Broden
data set is not reachable), so dissection runs in the synthetic world only.
"""
import hw3_env  # noqa: F401  (must come before keras/theano)

from collections import Counter
from dataclasses import dataclass, field
from typing import List, Optional

import numpy as np

from methods import cam
from notebook_tools.progress import progress as _progress

QUANTILE = 0.995
IOU_THRESHOLD = 0.04
CHUNK_ELEMENTS = 2 ** 25     # unit-mask pixels per IoU batch (memory bound, ~130 MB)


@dataclass
class LayerDissection:
    """The dissection of one slice.

    Attributes:
        layer: the slice index (``model.layers[layer].input``).
        name: a label for readers (e.g. 'conv5_3').
        concepts: the concept names, in column order.
        thresholds: float (K,) T_k.
        iou: float (K, n_concepts) IoU of each unit with each concept.
        labels: K concept names, or None for a unit that detects nothing.
    """
    layer: int
    name: str
    concepts: List[str]
    thresholds: np.ndarray
    iou: np.ndarray
    labels: List[Optional[str]] = field(default_factory=list)

    @property
    def best_iou(self):
        """float (K,): each unit's largest IoU."""
        return self.iou.max(axis=1)

    @property
    def n_detectors(self):
        """How many units have a label."""
        return sum(lab is not None for lab in self.labels)

    def concept_counts(self):
        """Counter concept -> number of units labelled with it (detectors only)."""
        return Counter(lab for lab in self.labels if lab is not None)


def _check_probe(x, concept_masks):
    x = np.asarray(x)
    if x.ndim != 4 or len(x) == 0:
        raise ValueError("the probe set is empty or not a batch of model inputs (N, 3, H, W): "
                         "got shape %r; dissection needs images with concept masks"
                         % (x.shape,))
    if not concept_masks:
        raise ValueError("no concept masks: pass a dict concept name -> bool (N, H, W)")
    masks, shape = {}, None
    for name, m in concept_masks.items():
        m = np.asarray(m)
        if m.dtype != bool or m.ndim != 3 or len(m) != len(x):
            raise ValueError("concept %r: masks must be bool (N, H, W) with N = %d probe images, "
                             "got %s %r" % (name, len(x), m.dtype, m.shape))
        if shape is not None and m.shape != shape:
            raise ValueError("concept %r: masks have shape %r, the others %r"
                             % (name, m.shape, shape))
        shape = m.shape
        masks[str(name)] = m
    return x.astype(np.float32, copy=False), masks


def unit_thresholds(activations, quantile=QUANTILE):
    """T_k: the ``quantile`` of each unit's activations over all probe positions.

    Args:
        activations: (N, K, u, v).
        quantile: in (0, 1).
    Returns:
        (thresholds, minima): float (K,) each.
    """
    a = np.asarray(activations)
    if a.ndim != 4 or len(a) == 0:
        raise ValueError("activations must be a non-empty (N, K, u, v) batch, got %r"
                         % (a.shape,))
    if not 0 < float(quantile) < 1:
        raise ValueError("quantile must be in (0, 1), got %r" % (quantile,))
    per_unit = a.transpose(1, 0, 2, 3).reshape(a.shape[1], -1)
    return (np.quantile(per_unit, float(quantile), axis=1).astype(np.float32),
            per_unit.min(axis=1))


def unit_masks(activations, thresholds, minima, size):
    """M_k(x): maps upsampled (half-pixel bilinear) to ``size`` and binarised at T_k;
    empty for units whose T_k is their minimum.

    Returns:
        bool (N, K, H, W).
    """
    up = cam.resize_bilinear(activations, size)
    live = (np.asarray(thresholds) > np.asarray(minima))[None, :, None, None]
    return (up >= np.asarray(thresholds)[None, :, None, None]) & live


def _iou_matrix(activations, thresholds, minima, concept_stack):
    """IoU_k,c over the probe set, accumulated a batch of images at a time."""
    n, k = activations.shape[:2]
    size = concept_stack.shape[-2:]
    step = max(1, CHUNK_ELEMENTS // (k * size[0] * size[1]))
    inter = np.zeros((k, len(concept_stack)))
    unit_area = np.zeros(k)
    concept_area = concept_stack.reshape(len(concept_stack), -1).sum(axis=1).astype(np.float64)
    for s in range(0, n, step):
        m = unit_masks(activations[s:s + step], thresholds, minima, size)
        m = m.transpose(1, 0, 2, 3).reshape(k, -1).astype(np.float32)
        c = concept_stack[:, s:s + step].reshape(len(concept_stack), -1).astype(np.float32)
        inter += m @ c.T
        unit_area += m.sum(axis=1)
    union = unit_area[:, None] + concept_area[None, :] - inter
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(union > 0, inter / np.maximum(union, 1), 0.0)


def dissect_layer(model, x, concept_masks, layer, name=None, quantile=QUANTILE,
                  iou_threshold=IOU_THRESHOLD, batch_size=16):
    """Network dissection of one convolution slice.

    Args:
        model: the Keras model.
        x: the probe set's model inputs (N, 3, H, W).
        concept_masks: dict concept name -> bool (N, H', W') masks (any common size).
        layer: slice index, ``model.layers[layer].input`` a convolution's output.
        name: label for readers (default 'layers[i]').
        quantile, iou_threshold: T_k's quantile and the detector threshold.
        batch_size: images per call of h.
    Returns:
        :class:`LayerDissection`.
    """
    x, masks = _check_probe(x, concept_masks)
    layer = cam.conv_slice(model, layer)
    acts = cam._slice(model, layer).h(x, batch_size)
    thresholds, minima = unit_thresholds(acts, quantile)
    concepts = list(masks)
    iou = _iou_matrix(acts, thresholds, minima, np.stack([masks[c] for c in concepts]))
    best = iou.argmax(axis=1)
    labels = [concepts[b] if iou[k, b] > iou_threshold else None for k, b in enumerate(best)]
    return LayerDissection(layer, name or "layers[%d]" % layer, concepts, thresholds, iou,
                           labels)


def dissect(model, x, concept_masks, layers=None, names=None, progress=True, **kwargs):
    """:func:`dissect_layer` for several slices (default: the last three convolutions).

    Args:
        layers: slice indices (default ``cam.conv_slices(model)[-3:]``).
        names: one label per layer.
        **kwargs: as :func:`dissect_layer`.
    Returns:
        list of :class:`LayerDissection`, in the order of ``layers``.
    """
    layers = list(cam.conv_slices(model)[-3:] if layers is None else layers)
    names = list(names) if names is not None else [None] * len(layers)
    if len(names) != len(layers):
        raise ValueError("%d names for %d layers" % (len(names), len(layers)))
    return [dissect_layer(model, x, concept_masks, layer, name=n, **kwargs)
            for layer, n in _progress(list(zip(layers, names)), desc="dissecting",
                                      unit="layer", disable=not progress)]


def layers_above(model, layer):
    """How many weighted layers lie at or above the convolution that outputs slice
    ``layer``: the n of ``ground_truth.randomized_copy`` that re-initialises it and
    everything above it (the cascading model randomisation down to that slice)."""
    layer = cam.conv_slice(model, layer)
    conv = layer - 1 if model.layers[layer - 1].weights else layer - 2
    return sum(1 for lay in model.layers[conv:] if lay.weights)


# ---------------------------------------------------------------------------
# The synthetic world's probe set and the report's views
# ---------------------------------------------------------------------------
def synthetic_probe_set(n_per_class=10, split="heldout", seed=0):
    """Held-out scenes of every class with their concept masks.

    Concepts: '<class>: <part>' for every part of every class (``synthetic.PARTS``,
    'object' being the whole object); a concept's mask is empty on the images of the
    other classes.

    Returns:
        (images, labels, masks): uint8 (N, 64, 64, 3), int (N,) and dict concept ->
        bool (N, 64, 64).
    """
    from synthetic_world import scenes as synthetic
    if int(n_per_class) < 1:
        raise ValueError("n_per_class must be >= 1, got %r" % (n_per_class,))
    images, labels, per_class = [], [], []
    for c in range(len(synthetic.CLASS_NAMES)):
        ims, ms = synthetic.generate(c, int(n_per_class), split, seed=seed)
        images.append(np.asarray(ims, dtype=np.uint8))
        labels += [c] * len(ims)
        per_class.append(ms)
    images = np.concatenate(images)
    n, size = int(n_per_class), images.shape[1:3]
    masks = {}
    for c, ms in enumerate(per_class):
        for part in synthetic.PARTS[c]:
            m = np.zeros((len(images),) + size, dtype=bool)
            m[c * n:(c + 1) * n] = np.asarray(ms[part], dtype=bool)
            masks["%s: %s" % (synthetic.CLASS_NAMES[c], part)] = m
    return images, np.asarray(labels), masks


def units_table(results, units=(0, 1, 2)):
    """The report's table: the label of units 0-2 of each layer (Markdown).

    Args:
        results: :class:`LayerDissection` per layer (one column each).
        units: the unit indices (rows).
    Returns:
        a Markdown table; a unit without a label shows its best concept and IoU in
        parentheses ('-' when its IoU is 0).
    """
    head = "| unit | " + " | ".join(r.name for r in results) + " |"
    lines = [head, "|" + " --- |" * (len(results) + 1)]
    for u in units:
        cells = []
        for r in results:
            b = int(r.iou[u].argmax())
            if r.labels[u] is not None:
                cells.append("**%s** (IoU %.2f)" % (r.labels[u], r.iou[u, b]))
            elif r.iou[u, b] > 0:
                cells.append("none (best: %s, %.3f)" % (r.concepts[b], r.iou[u, b]))
            else:
                cells.append("none (-)")
        lines.append("| %d | %s |" % (u, " | ".join(cells)))
    return "\n".join(lines)


def detector_table(rows):
    """Markdown table of detector counts: rows of (model label, [LayerDissection])."""
    names = [r.name for r in rows[0][1]]
    lines = ["| model | " + " | ".join("%s detectors" % n for n in names)
             + " | distinct concepts |", "|" + " --- |" * (len(names) + 2)]
    for label, results in rows:
        distinct = set().union(*[set(r.concept_counts()) for r in results])
        lines.append("| %s | %s | %d |" % (label, " | ".join(
            "%d / %d" % (r.n_detectors, len(r.labels)) for r in results), len(distinct)))
    return "\n".join(lines)


def plot_concept_histograms(results, title=None, top=12):
    """The report's histograms: units per concept, one panel per layer.

    Args:
        results: :class:`LayerDissection` per layer.
        title: the figure's title.
        top: at most this many concepts per panel (the most frequent).
    Returns:
        the matplotlib Figure.
    """
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(1, len(results), figsize=(4.6 * len(results), 3.6),
                             squeeze=False)
    for ax, r in zip(axes[0], results):
        counts = r.concept_counts().most_common(top)
        if counts:
            names, values = zip(*counts)
            ax.barh(range(len(values))[::-1], values, color="tab:blue")
            ax.set_yticks(range(len(values))[::-1])
            ax.set_yticklabels(names, fontsize=8)
        else:
            ax.text(0.5, 0.5, "no detector units", ha="center", va="center",
                    transform=ax.transAxes)
            ax.set_yticks([])
        ax.set_xlabel("units")
        ax.set_title("%s: %d / %d detectors" % (r.name, r.n_detectors, len(r.labels)),
                     fontsize=10)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig

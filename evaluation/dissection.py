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
(``synthetic.PARTS``: ``'sports car: roof'``, ...), each class's whole object
(``'sports car: object'``) and the scene's own concepts on every image: the clutter
shapes (``'distractors'``) and the background's texture by kind
(``'background: stripes'``, ...); :func:`synthetic_probe_set` makes the probe set from
held-out scenes. The ImageNet photographs have no pixel-level concept masks here (the
Broden data set is not reachable), so any model is dissected on these scenes.

Comparing two networks (the report's Task 1): :func:`shared_concepts` splits the
concepts their detectors learned into shared and exclusive ones,
:func:`duplicates` counts units that repeat a concept of their layer,
:func:`write_descriptions` saves every unit's description as a CSV file.
"""
import hw3_env  # noqa: F401  (must come before keras/theano)

import csv
import os
from collections import Counter
from dataclasses import dataclass, field
from typing import List, Optional

import numpy as np

from methods import cam
from methods.images import resize_bilinear
from methods.scores import point_explanation
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
        unit_area: float (K,) pixels in each unit's masks M_k over the probe set.
        concept_area: float (n_concepts,) pixels in each concept's masks L_c.
    """
    layer: int
    name: str
    concepts: List[str]
    thresholds: np.ndarray
    iou: np.ndarray
    labels: List[Optional[str]] = field(default_factory=list)
    unit_area: Optional[np.ndarray] = None
    concept_area: Optional[np.ndarray] = None

    def iou_bound(self, concept):
        """float (K,): the largest IoU each unit could reach with ``concept`` given the
        two areas alone, min(|M_k|, |L_c|) / max(|M_k|, |L_c|) (a unit whose mask is
        much smaller than a concept's can never be its detector)."""
        c = float(self.concept_area[self.concepts.index(concept)])
        a = np.asarray(self.unit_area, dtype=np.float64)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(np.maximum(a, c) > 0, np.minimum(a, c) / np.maximum(a, c), 0.0)

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
    up = resize_bilinear(activations, size)
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
        return np.where(union > 0, inter / np.maximum(union, 1), 0.0), unit_area, concept_area


def dissect_layer(model, x, concept_masks, layer, name=None, quantile=QUANTILE,
                  iou_threshold=IOU_THRESHOLD, images_per_call=16):
    """Network dissection of one convolution slice.

    Args:
        model: the Keras model.
        x: the probe set's model inputs (N, 3, H, W).
        concept_masks: dict concept name -> bool (N, H', W') masks (any common size).
        layer: slice index, ``model.layers[layer].input`` a convolution's output.
        name: label for readers (default 'layers[i]').
        quantile, iou_threshold: T_k's quantile and the detector threshold.
        images_per_call: images per call of h.
    Returns:
        :class:`LayerDissection`.
    """
    x, masks = _check_probe(x, concept_masks)
    layer = cam.conv_slice(model, layer)
    acts = point_explanation(model).for_layer(layer).h(x, images_per_call)
    thresholds, minima = unit_thresholds(acts, quantile)
    concepts = list(masks)
    iou, unit_area, concept_area = _iou_matrix(acts, thresholds, minima,
                                               np.stack([masks[c] for c in concepts]))
    best = iou.argmax(axis=1)
    labels = [concepts[b] if iou[k, b] > iou_threshold else None for k, b in enumerate(best)]
    return LayerDissection(layer, name or "layers[%d]" % layer, concepts, thresholds, iou,
                           labels, unit_area, concept_area)


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
def synthetic_probe_set(n_per_class=10, seed=0):
    """Held-out scenes of every class with their concept masks.

    Concepts: '<class>: <part>' for every part of every class (``synthetic.PARTS``,
    'object' being the whole object), empty on the images of the other classes; and
    on every image the scene's concepts (``synthetic.SCENE_MASKS``): 'distractors' (the
    clutter shapes) and 'background: <kind>' for each of ``synthetic.BACKGROUND_KINDS``
    (the visible background of the scenes with that kind).

    Returns:
        (images, labels, masks): uint8 (N, 64, 64, 3), int (N,) and dict concept ->
        bool (N, 64, 64).
    """
    from synthetic_world import scenes as synthetic
    if int(n_per_class) < 1:
        raise ValueError("n_per_class must be >= 1, got %r" % (n_per_class,))
    images, labels, drawn = synthetic.heldout_scenes(int(n_per_class), seed=seed)
    masks = {}
    for c, name in enumerate(synthetic.CLASS_NAMES):
        for part in synthetic.PARTS[c]:
            masks["%s: %s" % (name, part)] = drawn[part] & (labels == c)[:, None, None]
    for name in synthetic.SCENE_MASKS:
        key = "background: " + name if name in synthetic.BACKGROUND_KINDS else name
        masks[key] = drawn[name]
    return images, labels, masks


def _as_models(results):
    """[(model label, [LayerDissection])] from one model's list or from such pairs."""
    results = list(results)
    if results and isinstance(results[0], LayerDissection):
        return [(None, results)]
    return [(label, list(res)) for label, res in results]


def units_table(results, units=(0, 1, 2)):
    """The report's table: the label of units 0-2 of each layer (Markdown).

    Args:
        results: :class:`LayerDissection` per layer (one column each), or a list of
            (model label, [LayerDissection]) for several models side by side (columns
            'label: layer').
        units: the unit indices (rows).
    Returns:
        a Markdown table; a unit without a label shows its best concept and IoU in
        parentheses ('-' when its IoU is 0).
    """
    columns = [(label, r) for label, res in _as_models(results) for r in res]
    head = "| unit | " + " | ".join(r.name if label is None else "%s: %s" % (label, r.name)
                                   for label, r in columns) + " |"
    lines = [head, "|" + " --- |" * (len(columns) + 1)]
    for u in units:
        cells = []
        for _, r in columns:
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


# ---------------------------------------------------------------------------
# Two networks compared (the report's Task 1) and every unit's description
# ---------------------------------------------------------------------------
DESCRIPTION_COLUMNS = ("layer", "unit", "concept", "iou", "detector")
"""The columns of :func:`write_descriptions`' CSV file: a unit's best concept and its
IoU, and whether that IoU is above the detector threshold."""


def describe_units(results):
    """Every unit's description, layer by layer.

    Args:
        results: :class:`LayerDissection` per layer.
    Returns:
        list of dicts with the keys of :data:`DESCRIPTION_COLUMNS` (concept: the
        unit's best concept, '' when it overlaps no concept at all).
    """
    rows = []
    for r in results:
        best = r.iou.argmax(axis=1)
        for k, b in enumerate(best):
            value = float(r.iou[k, b])
            rows.append({"layer": r.name, "unit": k,
                         "concept": r.concepts[b] if value > 0 else "",
                         "iou": round(value, 6), "detector": r.labels[k] is not None})
    return rows


def write_descriptions(results, path):
    """Write every unit's description to a CSV file (the report's ``descriptions.csv``):
    one row per unit with the columns of :data:`DESCRIPTION_COLUMNS`.

    Args:
        results: :class:`LayerDissection` per layer.
        path: the file to write (its folder is created).
    Returns:
        the number of rows written.
    """
    rows = describe_units(results)
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    with open(path, "w", newline="", encoding="utf8") as f:
        writer = csv.DictWriter(f, fieldnames=DESCRIPTION_COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    return len(rows)


def detected_concepts(results):
    """The set of concepts at least one unit of any of ``results``' layers detects."""
    return set().union(*[set(r.concept_counts()) for r in results])


def shared_concepts(results_a, results_b):
    """The concepts two networks' detectors learned, split as the report's histogram of
    shared versus exclusive concepts.

    Args:
        results_a, results_b: each network's :class:`LayerDissection` per layer (or any
            iterables of detected concept names, one per network, via
            :func:`detected_concepts`).
    Returns:
        (shared, only_a, only_b): sorted lists of concept names.
    """
    a, b = (detected_concepts(r) if _is_dissection(r) else set(r)
            for r in (results_a, results_b))
    return sorted(a & b), sorted(a - b), sorted(b - a)


def _is_dissection(results):
    results = list(results)
    return bool(results) and isinstance(results[0], LayerDissection)


def duplicates(result):
    """Detector units of one layer that repeat a concept another unit of the layer
    already detects: detectors minus distinct concepts."""
    return result.n_detectors - len(result.concept_counts())


def is_scene_concept(name):
    """True for the synthetic world's scene concepts ('distractors', 'background:
    <kind>'), False for an object's concepts ('<class>: <part>')."""
    return name == "distractors" or str(name).startswith("background: ")


def top_concepts(result, k=3):
    """'concept (n units)' for the ``k`` concepts most units of one layer detect."""
    return ["%s (%d)" % (c, n) for c, n in result.concept_counts().most_common(k)]


def _count(n, word):
    """'1 unit', '3 units'."""
    return "%d %s%s" % (n, word, "" if n == 1 else "s")


def _names(concepts, limit=8):
    concepts = list(concepts)
    if not concepts:
        return "none"
    more = len(concepts) - limit
    return ", ".join(concepts[:limit]) + (" and %d more" % more if more > 0 else "")


def model_markdown(label, results):
    """Sentences on one network's dissection, built from its numbers: detectors per
    layer, each layer's three most frequent concepts, distinct concepts, duplicates,
    and the share of detectors on scene concepts.

    Returns:
        str (Markdown).
    """
    detectors = sum(r.n_detectors for r in results)
    scene = sum(n for r in results for c, n in r.concept_counts().items()
                if is_scene_concept(c))
    layers = "; ".join("%s %d / %d%s" % (r.name, r.n_detectors, len(r.labels),
                                         (": " + ", ".join(top_concepts(r)))
                                         if r.n_detectors else "")
                       for r in results)
    text = ("**%s**: detector units per layer (with the most frequent concepts and their "
            "units) %s. In all %s of %s; %d of them %s duplicates (a unit whose concept "
            "another unit of its layer already detects)"
            % (label, layers, _count(detectors, "detector"),
               _count(len(detected_concepts(results)), "distinct concept"),
               sum(duplicates(r) for r in results),
               "is a" if sum(duplicates(r) for r in results) == 1 else "are"))
    if detectors:
        text += ("; %d of the %d detectors (%.0f%%) detect a scene concept (a background "
                 "texture or the distractors), %d an object or one of its parts."
                 % (scene, detectors, 100.0 * scene / detectors, detectors - scene))
    else:
        text += "."
    return text


def comparison_markdown(model_a, model_b):
    """The report's comparison of two networks, built from their dissections: which
    concepts each detects, how many are shared and exclusive, the share of scene
    concepts and the duplicates, each sentence chosen by the numbers.

    Args:
        model_a, model_b: (label, [LayerDissection]) of each network (same layers).
    Returns:
        str (Markdown).
    """
    (la, ra), (lb, rb) = model_a, model_b
    shared, only_a, only_b = shared_concepts(ra, rb)
    parts = [model_markdown(la, ra), model_markdown(lb, rb)]
    parts.append("**Shared and exclusive concepts.** %s %s detected by both networks "
                 "(%s), %d only by the %s network (%s) and %d only by the %s network (%s)."
                 % (_count(len(shared), "concept"), "is" if len(shared) == 1 else "are",
                    _names(shared), len(only_a), la, _names(only_a), len(only_b), lb,
                    _names(only_b)))

    def scene_share(results):
        det = sum(r.n_detectors for r in results)
        return (sum(n for r in results for c, n in r.concept_counts().items()
                    if is_scene_concept(c)) / det) if det else float("nan")
    sa, sb = scene_share(ra), scene_share(rb)
    if np.isfinite(sa) and np.isfinite(sb):
        if sb > sa:
            verdict = ("the %s network gives a larger share of its detectors to the scene "
                       "(%.0f%% against %.0f%%): its units learned what its labels are about"
                       % (lb, 100 * sb, 100 * sa))
        elif sb < sa:
            verdict = ("the %s network gives a smaller share of its detectors to the scene "
                       "than the %s network (%.0f%% against %.0f%%), although its labels "
                       "are about the scene" % (lb, la, 100 * sb, 100 * sa))
        else:
            verdict = ("both networks give the same share of their detectors to the "
                       "scene (%.0f%%)" % (100 * sa))
        parts.append("**What the labels change.** Like the report's ImageNet and Places365 "
                     "networks, the two differ in the kind of label they were trained on, "
                     "and %s." % verdict)
    da, db = (sum(duplicates(r) for r in res) for res in (ra, rb))
    if da != db:
        (hi, n_hi), (lo, n_lo) = sorted([(la, da), (lb, db)], key=lambda t: -t[1])
        parts.append("**Duplicates.** As in the report, not every unit is unique: the %s "
                     "network has more duplicate units (%d) than the %s network (%d)."
                     % (hi, n_hi, lo, n_lo))
    else:
        parts.append("**Duplicates.** Both networks have %s%s."
                     % (_count(da, "duplicate unit"),
                        "" if da == 0 else ": not every unit is unique, as in the report"))
    return "\n\n".join(parts)


def vgg_name(keras_name):
    """VGG's name of a Keras VGG16 layer ('block5_conv3' -> 'conv5_3'); other names
    unchanged."""
    import re
    m = re.fullmatch(r"block(\d+)_conv(\d+)", str(keras_name))
    return "conv%s_%s" % m.groups() if m else str(keras_name)


def floor_markdown(results, trained, random_label):
    """Sentences comparing each trained network with its randomised copies (the floor),
    built from the numbers: detectors per layer and distinct concepts.

    Args:
        results: dict network label -> [LayerDissection]; a trained network ``t``'s
            partly randomised copy is the label that starts with ``t + ', '``.
        trained: the trained networks' labels.
        random_label: the label of the copy with every layer randomised.
    Returns:
        str (Markdown).
    """
    full = results[random_label]
    n_full = sum(r.n_detectors for r in full)
    out = ["**The floor.** With every layer randomised, %d units of the three layers are "
           "detectors (mean best IoU per unit %s)." % (n_full, ", ".join(
               "%.3f at %s" % (r.best_iou.mean(), r.name) for r in full))]
    for label in trained:
        res = results[label]
        part = [k for k in results if k.startswith(label + ", ")]
        above = [r.name for r, f in zip(res, full) if r.n_detectors > f.n_detectors]
        text = ("The %s network has more detectors than the fully randomised copy at %s "
                "(%s against %s)" % (label, "every layer" if len(above) == len(res) else
                                     "%d of %d layers%s" % (len(above), len(res),
                                                            (" (" + ", ".join(above) + ")")
                                                            if above else ""),
                                     ", ".join(str(r.n_detectors) for r in res),
                                     ", ".join(str(f.n_detectors) for f in full)))
        if part:
            p = results[part[0]]
            beats = [r.name for r, q in zip(res, p) if r.n_detectors > q.n_detectors]
            text += ("; against its copy with conv5_1 and above randomised (on top of its "
                     "trained lower layers: %s detectors, %d distinct concepts against its "
                     "%d) it has more at %s" % (", ".join(str(q.n_detectors) for q in p),
                                                len(detected_concepts(p)),
                                                len(detected_concepts(res)),
                                                ", ".join(beats) if beats else "no layer"))
        out.append(text + ".")
    return " ".join(out)


def _best_unit(results, concept):
    """(IoU, layer name, unit, bound) of the unit of any layer with the largest IoU with
    ``concept``, and the largest IoU any unit could reach given the areas alone."""
    best = (-1.0, None, None)
    bound = 0.0
    for r in results:
        j = r.concepts.index(concept)
        k = int(r.iou[:, j].argmax())
        if r.iou[k, j] > best[0]:
            best = (float(r.iou[k, j]), r.name, k)
        if r.unit_area is not None:
            bound = max(bound, float(r.iou_bound(concept).max()))
    return best + (bound,)


def scene_concepts_markdown(models, iou_threshold=IOU_THRESHOLD):
    """A table and a sentence on the scene concepts (the background's textures and the
    distractors): each network's best IoU with each, and the largest IoU any of its
    units could reach from the areas alone (a top-quantile mask is small; a texture
    that covers a third of the probe set cannot be matched by it).

    Args:
        models: list of (label, [LayerDissection]).
    Returns:
        str (Markdown).
    """
    concepts = [c for c in models[0][1][0].concepts if is_scene_concept(c)]
    if not concepts:
        return "No scene concepts in this probe set."
    lines = ["| concept | " + " | ".join("%s: best IoU (unit) | %s: largest possible"
                                         % (label, label) for label, _ in models) + " |",
             "|" + " --- |" * (1 + 2 * len(models))]
    bounds = {}
    for c in concepts:
        cells = []
        for label, res in models:
            value, layer, unit, bound = _best_unit(res, c)
            bounds[(label, c)] = bound
            cells += ["%.3f (%s unit %d)" % (value, layer, unit), "%.3f" % bound]
        lines.append("| %s | %s |" % (c, " | ".join(cells)))
    out = "\n".join(lines)
    textures = [c for c in concepts if c != "distractors"]
    if textures:
        top = max(bounds[(label, c)] for label, _ in models for c in textures)
        if top <= iou_threshold:
            r0 = models[0][1][0]
            ratio = (min(float(r0.concept_area[r0.concepts.index(c)]) for c in textures)
                     / max(float(r.unit_area.max()) for _, res in models for r in res))
            out += ("\n\nNo unit dissected here can be a detector of a background texture at "
                    "Bau et al.'s quantile: the largest IoU any unit could reach with one, "
                    "given the area of its top-quantile mask and the texture's, is %.3f, below "
                    "the detector threshold %.2f, because each texture's masks hold at least "
                    "%.0f times as many pixels as the largest unit's. So the dissection cannot "
                    "show a network that learned textures, whatever its labels; the table shows "
                    "how close each network's best unit comes." % (top, iou_threshold, ratio))
        else:
            out += ("\n\nA unit could reach an IoU of up to %.3f with a background texture "
                    "given the areas alone, above the detector threshold %.2f."
                    % (top, iou_threshold))
    return out

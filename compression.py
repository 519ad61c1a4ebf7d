"""Model compression: the "essence" of a class at a slice (handout Part IV; Leino et
al. 2018, section III-B, Figure 3 and Table 1).

The paper asks how much of what the network knows about a class lives in the few
internal neurons with the most extreme influence on it. For a class c and the
slice s = <g, h> at conv4_1 (``Explanation(model, method).for_layer(19)``):

1. **Class influence.** The class-level attribution at the slice, with quantity of
   interest Q = s_c (the linear score of class c) and distribution of interest the
   class's *influence images* (the mean over those images of each image's
   Aumann-Shapley path from the baseline): ``absolute(c).explain_class(x)``
   (:func:`class_influence`). Each channel j gets one score, the max of its map
   (handout 3.2, as in Part II), or its mean, sum or min (:func:`channel_scores`).
   On the negative side 'max' scores a channel by its *least* negative value: a
   channel whose map holds a single 0 (conv4_1 is a ReLU output, and where no
   influence image activates the channel the attribution is 0) cannot score below
   0. ``bottom_by='min'`` ranks the bottom side by each map's most negative value.
2. **Selection.** Keep the ``t`` channels with the most positive scores and the
   ``b`` channels with the most negative scores (:func:`kept_channels`). The two
   sets are disjoint: the top side is chosen first, the bottom side among the
   channels left; asking for more than C channels keeps them all. Ties are broken
   by the lower channel index, as in :func:`Explanation.top_neurons`.
3. **Compression.** The compressed model multiplies the slice's activations by the
   binary channel mask m (m_j = 1 for kept channels, 0 for the others) and runs the
   rest of the network unchanged: s'(x) = g(m * h(x)) (:func:`compress`). As a
   binary classifier for c it answers "c" exactly when c is the arg-max of s'(x).
   h(x) is computed once per image; every mask reuses it.
4. **Evaluation.** Recall on the held-out images of class c; precision over the
   held-out images of c *and* of the other classes of the experiment
   (:func:`recall`, :func:`precision`). The original model's recall is that of the
   arg-max of the uncompressed g(h(x)), which is the full model.
5. **The grid.** Every (t, b) of a grid, by default t, b in 0, 1, 2, 4, 8, ..., C
   (:func:`default_grid`), gives one recall and one precision
   (:func:`recall_grid`): Figure 3 is its heat map (``VisualizerTiler.plot_grid``).
   Table 1 reports, for each class, the original recall and the recall and precision of the
   grid's best cell (:func:`best_cell`: the highest recall, ties to fewer kept
   channels, then to the higher precision).

Usage (one line each in the notebook)::

    result = compression_experiment(slice_, influence_sets, heldout_sets, classes,
                                    class_names)
    print(table1(result.rows))
    result.grids[classes[0]].plot(class_names[0])      # Figure 3 (chain saw)

Cost: a grid cell runs g on every held-out image of every class (cells that keep
the same channels are evaluated once), so a grid costs about
len(tops) * len(bottoms) * (number of held-out images) evaluations of g; on VGG16 at
224 x 224, g from conv4_1 takes about 0.35 s per image on two CPU cores, so the
default 11 x 11 grid over 76 held-out images takes about 45 minutes per class.
``precision_grids='first'`` computes the precision grid for the first class only
(Figure 3) and searches the other classes on their own images (about 5 times
faster), measuring only the chosen cell's precision over all images.
"""
import hw3_env  # noqa: F401  (must come before keras/theano)

import itertools
import math
import time
from dataclasses import dataclass, field
from typing import Dict, List

import numpy as np
from notebook_tools.progress import progress as _progress

from chain.checks import (check_binary, check_classes, check_class, check_count, check_counts,
                          check_scores, check_slice, check_targets)
from Explanation import class_label, neuron_scores, top_neurons

K = hw3_env.setup()

BY = ("max", "mean", "sum", "min")


# ---------------------------------------------------------------------------
# 1. Class influence
# ---------------------------------------------------------------------------
def channel_scores(attribution, by="max"):
    """One score per channel of a slice attribution (C, H, W).

    Args:
        attribution: (C, H, W) attribution (or (C,) scores, returned as they are).
        by: 'max' (handout 3.2), 'mean', 'sum' or 'min' (the channel's most
            negative value: the mirror of 'max' for the negative side); see
            :func:`Explanation.neuron_scores`.
    Returns:
        float64 array (C,).
    """
    if by not in BY:
        raise ValueError("by must be one of %s, got %r" % (list(BY), by))
    return neuron_scores(attribution, by)


def _names(explanation_slice):
    return getattr(getattr(explanation_slice, "explanation", None), "class_names", None)


def class_influence(explanation_slice, x_influence, c, by="max", baseline=None,
                    name=None):
    """The influence of each slice channel on class c over the class's images.

    Class-level explanation (DoI: the mean over ``x_influence`` of each image's
    path from the baseline; QoI: the class score s_c), aggregated per channel.

    Args:
        explanation_slice: a slice, ``Explanation(model, method).for_layer(i)``; its
            attribution method sets the resolution and the baseline.
        x_influence: model inputs (N, 3, H, W) of class c (the influence images).
        c: the class index.
        by: per-channel aggregate, see :func:`channel_scores`.
        baseline: overrides the method's baseline (slice space).
        name: the class's name for the progress label (default: the slice's
            class names, else the index).
    Returns:
        (scores, data): float64 (C,) channel scores, and the
        :class:`Explanation.ExplanationData` (``data.attribution`` is the (C, H, W)
        class attribution map, ``data.delta`` the completeness gaps).
    """
    if by not in BY:
        raise ValueError("by must be one of %s, got %r" % (list(BY), by))
    data = explanation_slice.absolute(c).explain_class(
        x_influence, baseline=baseline,
        desc="attribution to %s" % (name or class_label(_names(explanation_slice), c)))
    return channel_scores(data.attribution, by), data


# ---------------------------------------------------------------------------
# 2. Selection
# ---------------------------------------------------------------------------
def select_channels(scores, top, bottom, bottom_scores=None):
    """The top and bottom channels, each in rank order.

    Args:
        scores: (C,) channel scores; the top side ranks by them.
        top: t >= 0, how many channels with the highest scores.
        bottom: b >= 0, how many channels with the lowest scores.
        bottom_scores: (C,) scores the bottom side ranks by (default ``scores``).
    Returns:
        (top_idx, bottom_idx): int arrays, highest (lowest) score first, ties to the
        lower index. They are disjoint: the bottom side is chosen among the channels
        the top side left, so t is clipped to C and b to C - t.
    """
    s = check_scores(scores)
    sb = s if bottom_scores is None else check_scores(bottom_scores, "bottom_scores")
    if len(sb) != len(s):
        raise ValueError("bottom_scores has %d entries, scores %d; both need one per "
                         "channel" % (len(sb), len(s)))
    t = min(check_count("top", top), len(s))
    b = min(check_count("bottom", bottom), len(s) - t)
    top_idx = top_neurons(s, k=t)[0] if t else np.zeros(0, dtype=np.int64)
    rest = np.setdiff1d(np.arange(len(s)), top_idx)     # sorted: ties stay by index
    bottom_idx = rest[top_neurons(sb[rest], k=b, largest=False)[0]] if b \
        else np.zeros(0, dtype=np.int64)
    return top_idx.astype(np.int64), bottom_idx.astype(np.int64)


def kept_channels(scores, top, bottom, bottom_scores=None):
    """The channels a (t, b) compression keeps: the ``top`` most positive and the
    ``bottom`` most negative channels (see :func:`select_channels`).

    Returns:
        sorted int64 array of min(t, C) + min(b, C - min(t, C)) channel indices.
    """
    top_idx, bottom_idx = select_channels(scores, top, bottom, bottom_scores)
    return np.sort(np.concatenate([top_idx, bottom_idx]))


#: Images per call of the model above the slice in the compressed models (64 conv4_1
#: rows of VGG16 hold about 0.7 GB; fewer calls re-read the dense layers' 411 MB of
#: weights fewer times: 76 held-out images, 16 of 512 channels kept, took 0.025 s per
#: image at 64 per call and 0.035 at 16, on an idle machine).
IMAGES_PER_CALL = 64


# ---------------------------------------------------------------------------
# 3. Compression
# ---------------------------------------------------------------------------
def channel_mask(n_channels, channels):
    """Binary mask (C,) float32: 1 for ``channels``, 0 for the others.

    Raises:
        ValueError: a channel that is not an int in 0..C-1.
    """
    ch = np.asarray(channels).reshape(-1)
    if len(ch) and (not np.issubdtype(ch.dtype, np.integer)
                    or ch.min() < 0 or ch.max() >= n_channels):
        raise ValueError("channels %r are outside the slice's %d channels: use ints in "
                         "0..%d" % (ch.tolist(), n_channels, n_channels - 1))
    mask = np.zeros(n_channels, dtype=np.float32)
    mask[ch.astype(np.int64)] = 1.0
    return mask


@dataclass
class CompressedModel:
    """g(m * z): the model above the slice, fed the masked slice activations.

    Attributes:
        slice: the slice (its ``g`` is used unchanged).
        channels: the kept channels (sorted).
        mask: the binary channel mask (C,).
    """
    slice: object
    channels: np.ndarray
    mask: np.ndarray

    def scores(self, z, images_per_call=IMAGES_PER_CALL):
        """Compressed class scores g(m * z) for slice activations z (N, C, ...)."""
        return masked_scores(self.slice, z, self.mask[None], images_per_call)

    def predict(self, z, images_per_call=IMAGES_PER_CALL):
        """The arg-max class of the compressed scores (N,)."""
        return np.argmax(self.scores(z, images_per_call), axis=1)

    def is_class(self, z, c, images_per_call=IMAGES_PER_CALL):
        """The binary classifier for c: True where c is the compressed arg-max."""
        return self.predict(z, images_per_call) == c


def masked_scores(explanation_slice, z, masks, masks_per_call=16):
    """Class scores g(m_i * z_i) of the model above the slice on masked activations.

    With one 0/1 mask and a convolution opening g (:class:`chain.affine_head.AffineHead`),
    that convolution reads only the kept channels (the same scores up to rounding,
    at |kept|/C of its cost).

    ``z`` and ``masks`` pair up row by row; either may hold a single row, which is
    then used with every row of the other (one mask on many images, as a compressed
    model does, or many masks on one image, as Ablation-CAM's ablations do). h is
    never run: z are cached activations.

    Args:
        explanation_slice: the slice (``for_layer(i)``); the mask acts on its channels.
        z: slice activations (N, C, ...).
        masks: channel masks (M, C), float (0/1 or any weights).
        masks_per_call: masked copies (rows m_i * z_i) per call of g.
    Returns:
        float32 scores (max(N, M), classes).
    """
    # BEGIN SOLUTION
    z = check_slice(explanation_slice, z)
    m = np.asarray(masks, dtype=np.float32)
    if m.ndim != 2 or m.shape[1] != z.shape[1]:
        raise ValueError("masks must be (M, %d), one weight per slice channel, got %r"
                         % (z.shape[1], m.shape))
    n = max(len(z), len(m))
    if len(z) not in (1, n) or len(m) not in (1, n):
        raise ValueError("z has %d rows and masks %d: they must be equal, or one of them 1"
                         % (len(z), len(m)))
    if len(m) == 1 and np.isin(m, (0.0, 1.0)).all():
        # one 0/1 mask: the head's convolution reads the kept channels only
        out = _head_scores(explanation_slice, z, np.flatnonzero(m[0]), masks_per_call)
        if out is not None:
            return out[0]
    m = m.reshape(m.shape + (1,) * (z.ndim - 2))
    out = []
    step = masks_per_call
    for i in range(0, n, step):
        zi = z[i:i + step] if len(z) > 1 else z
        mi = m[i:i + step] if len(m) > 1 else m
        out.append(explanation_slice.g(zi * mi, step))
    return np.concatenate(out)
    # END SOLUTION


def _head_scores(explanation_slice, z, channels, images_per_call, start=None):
    """(scores g(m * z) of the model keeping ``channels``, start) through the slice's
    convolution head (:meth:`chain.affine_head.AffineHead.masked_outputs`; from
    ``start`` when its channels are a subset), or None without such a head."""
    head = getattr(explanation_slice, "affine_head", lambda: None)()
    if head is None:
        return None
    return head.masked_outputs(explanation_slice.model.output, z, channels,
                               images_per_call, start)


def compress(explanation_slice, channels):
    """Keep only ``channels`` of the slice: a :class:`CompressedModel`.

    Args:
        explanation_slice: the slice (``for_layer(i)``); its first non-batch axis
            is the channel axis.
        channels: the channel indices to keep (any order; may be empty).
    """
    # BEGIN SOLUTION
    n = explanation_slice.shape[0]
    mask = channel_mask(n, channels)
    return CompressedModel(explanation_slice, np.flatnonzero(mask), mask)
    # END SOLUTION


def predict(explanation_slice, z, images_per_call=IMAGES_PER_CALL):
    """The uncompressed model's arg-max class from slice activations: argmax g(z),
    which is the full model's prediction on the images z came from."""
    return np.argmax(explanation_slice.g(z, images_per_call), axis=1)


# ---------------------------------------------------------------------------
# 4. Evaluation
# ---------------------------------------------------------------------------
def recall(pred_is_c, is_c):
    """Recall TP / (TP + FN) of a binary classifier.

    Args:
        pred_is_c: boolean (N,), the classifier answered "c".
        is_c: boolean (N,), the image is of class c.
    Returns:
        float in [0, 1]; NaN when there are no positives (no image of class c).
    """
    # BEGIN SOLUTION
    p, t = check_binary(pred_is_c, is_c)
    return float(np.sum(p & t) / t.sum()) if t.any() else math.nan
    # END SOLUTION


def precision(pred_is_c, is_c):
    """Precision TP / (TP + FP) of a binary classifier.

    Returns:
        float in [0, 1]; NaN when the classifier never answers "c" (undefined;
        :func:`table1` prints it as 'n/a').
    """
    # BEGIN SOLUTION
    p, t = check_binary(pred_is_c, is_c)
    return float(np.sum(p & t) / p.sum()) if p.any() else math.nan
    # END SOLUTION


# ---------------------------------------------------------------------------
# 5. The grid (Figure 3)
# ---------------------------------------------------------------------------
def default_grid(n_channels):
    """0, 1, 2, 4, 8, ... (powers of two below C), C: the kept counts of the grid.

    Returns:
        tuple of ints.
    """
    n = check_count("n_channels", n_channels)
    if n < 1:
        raise ValueError("n_channels must be >= 1, got %d" % n)
    powers = [2 ** k for k in range(n.bit_length()) if 2 ** k < n]
    return tuple([0] + powers + [n])


@dataclass
class Grid:
    """Recall and precision of the compressed classifier for class c on a (t, b) grid.

    Attributes:
        c: the class index.
        tops, bottoms: the kept counts (rows, columns).
        recall, precision: float arrays (len(tops), len(bottoms)); NaN where undefined.
        kept: the number of channels each cell keeps.
        seconds: wall time of the grid.
        n_class, n_total: held-out images of class c, and in all.
    """
    c: int
    tops: tuple
    bottoms: tuple
    recall: np.ndarray
    precision: np.ndarray
    kept: np.ndarray
    seconds: float
    n_class: int
    n_total: int

    def plot(self, class_name):
        """Figure 3 for this grid (:func:`VisualizerTiler.plot_grid`)."""
        from VisualizerTiler import plot_grid
        return plot_grid(self.recall, self.precision, self.tops, self.bottoms, class_name)

    def best(self):
        """The best cell (:func:`best_cell`)."""
        return best_cell(self.recall, self.precision, self.tops, self.bottoms,
                         kept=self.kept)


def _cell(explanation_slice, z, is_c, c, channels, images_per_call, starts=()):
    """(recall, precision, start) of the classifier that keeps ``channels``
    (:func:`compress`); at a convolution head its scores start from the first of
    ``starts`` (earlier cells' heads) whose channels it keeps, else from scratch."""
    model = compress(explanation_slice, channels)
    start = next((st for st in starts
                  if st is not None and np.isin(st[0], model.channels).all()), None)
    out = _head_scores(explanation_slice, z, model.channels, images_per_call, start) \
        or (model.scores(z, images_per_call), None)
    pred = np.argmax(out[0], axis=1) == c
    return recall(pred, is_c), precision(pred, is_c), out[1]


def _grid_inputs(explanation_slice, z, labels, c, scores, tops, bottoms):
    """Validated (z, labels, c, scores, tops, bottoms) of :func:`recall_grid`."""
    z = check_slice(explanation_slice, z)
    y = check_targets(explanation_slice.model, labels, len(z), "labels",
                      "slice activation")
    c = check_class(explanation_slice.model, c)
    s = check_scores(scores)
    if len(s) != explanation_slice.shape[0]:
        raise ValueError("scores has %d entries but the slice has %d channels"
                         % (len(s), explanation_slice.shape[0]))
    tops = check_counts("tops", default_grid(len(s)) if tops is None else tops)
    bottoms = check_counts("bottoms", default_grid(len(s)) if bottoms is None else bottoms)
    return z, y, c, s, tops, bottoms


def recall_grid(explanation_slice, z_heldout_all, labels, c, scores, tops=None,
                bottoms=None, progress=True, bottom_scores=None, with_precision=True,
                images_per_call=IMAGES_PER_CALL, name=None):
    """Recall and precision of every (t, b) compression for class c (Figure 3).

    Args:
        explanation_slice: the slice.
        z_heldout_all: slice activations h(x) (N, C, ...) of the held-out images of
            class c and of the other classes (precision is measured over all of them).
        labels: (N,) true class of each image; recall is over ``labels == c``.
        c: the class index.
        scores: (C,) channel scores of class c (:func:`class_influence`).
        tops, bottoms: kept counts (default :func:`default_grid`).
        progress: show progress over the grid cells.
        bottom_scores: scores the bottom side ranks by (default ``scores``).
        with_precision: False evaluates the class-c images only (recall; the
            precision grid stays NaN), N / N_c times faster.
        images_per_call: images per call of g.
        name: the class's name for the progress label (default: the slice's class
            names, else the index).
    Returns:
        :class:`Grid`. Cells keeping the same channels are evaluated once, and a cell
        whose channels include the previous cell's (along a row, b rises) convolves
        only its new channels at the slice's convolution head.
    """
    z, y, c, s, tops, bottoms = _grid_inputs(explanation_slice, z_heldout_all, labels, c,
                                             scores, tops, bottoms)
    is_c = y == c
    if not with_precision:
        z, is_c = z[is_c], is_c[is_c]
    shape = (len(tops), len(bottoms))
    rec, prec, kept = np.full(shape, np.nan), np.full(shape, np.nan), np.zeros(shape, int)
    done = {}
    start = time.perf_counter()
    cells = list(itertools.product(range(len(tops)), range(len(bottoms))))
    label = name or class_label(_names(explanation_slice), c)
    last = row_first = None      # the kept sets grow along a row, and down the first column
    for i, j in _progress(cells, desc="grid for %s" % label, unit="cell", disable=not progress):
        ch = kept_channels(s, tops[i], bottoms[j], bottom_scores)
        if ch.tobytes() not in done:
            r, p, last = _cell(explanation_slice, z, is_c, c, ch, images_per_call,
                               (last, row_first))
            done[ch.tobytes()] = r, p
            row_first = last if j == 0 else row_first
        rec[i, j], p = done[ch.tobytes()]
        prec[i, j] = p if with_precision else np.nan
        kept[i, j] = len(ch)
    return Grid(c, tops, bottoms, rec, prec, kept, time.perf_counter() - start,
                int((y == c).sum()), len(y))


def _check_grid_arrays(recall_, precision_, tops, bottoms):
    r, p = np.asarray(recall_, dtype=float), np.asarray(precision_, dtype=float)
    shape = (len(tops), len(bottoms))
    if r.shape != shape or p.shape != shape:
        raise ValueError("recall and precision must have shape (len(tops), len(bottoms)) "
                         "= %r, got %r and %r" % (shape, r.shape, p.shape))
    return r, p


def best_cell(recall, precision, tops, bottoms, kept=None):
    """The grid cell Table 1 reports: the highest recall; ties go to fewer kept
    channels, then to the higher precision, then to the smaller t. NaN counts as
    lower than any number.

    Args:
        recall, precision: arrays (len(tops), len(bottoms)).
        tops, bottoms: the kept counts.
        kept: the number of channels each cell keeps (default t + b; pass
            ``Grid.kept`` for the clipped counts).
    Returns:
        dict with 'top', 'bottom', 'recall', 'precision', 'kept', 'row', 'col'.
    """
    r, p = _check_grid_arrays(recall, precision, tops, bottoms)
    if kept is None:
        kept = np.add.outer(np.asarray(tops), np.asarray(bottoms))
    kept = np.asarray(kept)
    if kept.shape != r.shape:
        raise ValueError("kept must have shape %r, got %r" % (r.shape, kept.shape))
    low = lambda v: -math.inf if math.isnan(v) else v  # noqa: E731
    cells = itertools.product(range(len(tops)), range(len(bottoms)))
    i, j = max(cells, key=lambda ij: (low(r[ij]), -kept[ij], low(p[ij]), -tops[ij[0]]))
    return {"top": int(tops[i]), "bottom": int(bottoms[j]), "recall": float(r[i, j]),
            "precision": float(p[i, j]), "kept": int(kept[i, j]), "row": i, "col": j}


# ---------------------------------------------------------------------------
# Table 1 and the whole experiment
# ---------------------------------------------------------------------------
TABLE1_COLUMNS = (("class", "class"), ("original_recall", "original recall"),
                  ("recall", "compressed recall"), ("precision", "compressed precision"),
                  ("top", "t"), ("bottom", "b"), ("kept", "kept channels"))


def _fmt(value):
    if isinstance(value, float):
        return "n/a" if math.isnan(value) else "%.3f" % value
    return str(value)


def table1(rows):
    """Table 1 as plain text: one line per class.

    Args:
        rows: dicts with the keys 'class', 'original_recall', 'recall', 'precision',
            'top', 'bottom', 'kept' (:func:`compression_experiment` makes them).
    Returns:
        str; NaN (undefined) values print as 'n/a'.
    """
    rows = list(rows)
    for r in rows:
        missing = [k for k, _ in TABLE1_COLUMNS if k not in r]
        if missing:
            raise ValueError("a Table 1 row lacks %s" % missing)
    cells = [[h for _, h in TABLE1_COLUMNS]] + [[_fmt(r[k]) for k, _ in TABLE1_COLUMNS]
                                                 for r in rows]
    widths = [max(len(line[i]) for line in cells) for i in range(len(TABLE1_COLUMNS))]
    lines = ["  ".join(v.ljust(w) if i == 0 else v.rjust(w)
                       for i, (v, w) in enumerate(zip(line, widths))) for line in cells]
    lines.insert(1, "-" * len(lines[0]))
    return "\n".join(lines)


@dataclass
class ExperimentResult:
    """What :func:`compression_experiment` returns.

    Attributes:
        rows: Table 1 rows (print them with :func:`table1`).
        grids: class index -> :class:`Grid` (the first class's is Figure 3).
        scores: class index -> (C,) channel scores.
        labels: (N,) true classes of the held-out images.
        predictions: (N,) the original model's predictions on them.
        seconds: wall time of the whole experiment.
    """
    rows: List[dict]
    grids: Dict[int, Grid]
    scores: Dict[int, np.ndarray]
    labels: np.ndarray
    predictions: np.ndarray
    seconds: float = field(default=0.0)


def _per_class(name, values, classes):
    """A mapping class -> value, from a dict or a sequence aligned with classes."""
    if isinstance(values, dict):
        missing = [c for c in classes if c not in values]
        if missing:
            raise ValueError("%s has no entry for classes %s" % (name, missing))
        return {c: values[c] for c in classes}
    values = list(values)
    if len(values) != len(classes):
        raise ValueError("%s has %d entries but there are %d classes; pass one per class "
                         "(a list aligned with classes, or a dict class -> value)"
                         % (name, len(values), len(classes)))
    return dict(zip(classes, values))


def heldout_activations(explanation_slice, heldout_sets, classes, progress=True):
    """h(x) of every held-out image, once, and their labels.

    Args:
        heldout_sets: class -> model inputs (N_c, 3, H, W) (dict, or list aligned
            with ``classes``); every image of set c is labelled c.
    Returns:
        (z, labels): (N, C, ...) activations and (N,) labels, classes in order.
    """
    sets = _per_class("heldout_sets", heldout_sets, classes)
    zs, ys = [], []
    for c in _progress(classes, desc="held-out activations", unit="class",
                       disable=not progress):
        zs.append(explanation_slice.h(sets[c]))
        ys.append(np.full(len(zs[-1]), c, dtype=np.int64))
    return np.concatenate(zs), np.concatenate(ys)


def _row(name, c, labels, original, grid, channels, best):
    return {"class": name, "class_index": c,
            "original_recall": recall(original == c, labels == c),
            "recall": best["recall"], "precision": best["precision"],
            "top": best["top"], "bottom": best["bottom"], "kept": best["kept"],
            "channels": channels.tolist(), "n_heldout": grid.n_class,
            "seconds": grid.seconds}


def _compress_class(explanation_slice, z, labels, c, x_influence, grid_kw, by, bottom_by,
                    with_precision, name=None):
    """Influence, grid and best cell of one class: (scores, grid, best, channels)."""
    scores, data = class_influence(explanation_slice, x_influence, c, by, name=name)
    low = None if bottom_by is None else channel_scores(data.attribution, bottom_by)
    grid = recall_grid(explanation_slice, z, labels, c, scores, bottom_scores=low, name=name,
                       with_precision=with_precision, **grid_kw)
    best = grid.best()
    channels = kept_channels(scores, best["top"], best["bottom"], low)
    if not with_precision:     # the best cell's precision, over all held-out images
        best["precision"] = _cell(explanation_slice, z, labels == c, c, channels,
                                  IMAGES_PER_CALL)[1]
    return scores, grid, best, channels


PRECISION_GRIDS = ("all", "first", "none")


def compression_experiment(explanation_slice, influence_sets, heldout_sets, classes,
                           class_names=None, tops=None, bottoms=None, by="max",
                           bottom_by=None, precision_grids="all", progress=True):
    """Part IV end to end: influence, grid and best cell for each class (Table 1),
    with the grids for Figure 3.

    h(x) runs once per held-out image for all classes; each class's grid measures
    recall on its own held-out images and precision over all of them.

    Args:
        explanation_slice: the slice (``Explanation(model, method).for_layer(19)``);
            its attribution method sets the influence's resolution.
        influence_sets: class -> model inputs of the class's influence images (dict,
            or list aligned with ``classes``).
        heldout_sets: class -> model inputs of its held-out images (same forms).
        classes: the class indices, in table order.
        class_names: one name per class (dict or aligned list); default the index.
        tops, bottoms: the grid (default :func:`default_grid` of the slice's C).
        by: channel score for the ranking (:func:`channel_scores`; 'max' as Part II).
        bottom_by: channel score for the bottom side (default ``by``).
        precision_grids: which classes get a full precision grid: 'all', 'first'
            (Figure 3's class only) or 'none'. A class without one is searched on
            its own images only (about N / N_c times faster); the best cell is then
            chosen without the precision tie-break, and its precision is measured
            over all held-out images, so Table 1 is complete either way.
        progress: show progress.
    Returns:
        :class:`ExperimentResult`.
    """
    start = time.perf_counter()
    classes = check_classes(explanation_slice.model, classes)
    names = _per_class("class_names", class_names if class_names is not None
                       else [str(c) for c in classes], classes)
    influence = _per_class("influence_sets", influence_sets, classes)
    if by not in BY or (bottom_by is not None and bottom_by not in BY):
        raise ValueError("by and bottom_by must be among %s, got %r and %r"
                         % (list(BY), by, bottom_by))
    if precision_grids not in PRECISION_GRIDS:
        raise ValueError("precision_grids must be one of %s, got %r"
                         % (list(PRECISION_GRIDS), precision_grids))
    grid_kw = {"tops": tops, "bottoms": bottoms, "progress": progress}
    rows, grids, all_scores = [], {}, {}
    with _progress(total=len(classes), desc="compressing %d classes" % len(classes),
                   unit="class", disable=not progress) as bar:
        z, labels = heldout_activations(explanation_slice, heldout_sets, classes, progress)
        original = predict(explanation_slice, z)
        for k, c in enumerate(classes):
            full = precision_grids == "all" or (precision_grids == "first" and k == 0)
            all_scores[c], grids[c], best, channels = _compress_class(
                explanation_slice, z, labels, c, influence[c], grid_kw, by, bottom_by, full,
                name=names[c])
            rows.append(_row(names[c], c, labels, original, grids[c], channels, best))
            bar.update(1)
    return ExperimentResult(rows, grids, all_scores, labels, original,
                            time.perf_counter() - start)

"""Overlap of explanations: intersection over union (IoU) between two methods' masks
(the report's Task 4: Grad-CAM against LIME) and between a method and a true mask
(the synthetic world's object masks).

A heat map becomes a mask by a threshold on its [0, 1]-scaled values
(:func:`binarize`, default 0.5: the pixels at least half as strong as the map's
maximum); LIME's mask is its positive superpixels.

    IoU(A, B) = |A and B| / |A or B|
"""
import numpy as np

CAM_THRESHOLD = 0.5
"""Default threshold on a [0, 1]-scaled heat map (``cam.grad_cam(..., upsample=True)``)."""


def _as_masks(a, name):
    m = np.asarray(a)
    if m.dtype != bool:
        raise ValueError("%s must be a boolean mask, got dtype %s; binarise heat maps with "
                         "overlap.binarize(maps, threshold)" % (name, m.dtype))
    if m.ndim not in (2, 3):
        raise ValueError("%s must be one mask (H, W) or a batch (N, H, W), got shape %r"
                         % (name, m.shape))
    return m


def iou(a, b):
    """IoU of two boolean masks, or per pair of a batch.

    Args:
        a, b: bool (H, W) or (N, H, W), the same shape.
    Returns:
        float, or float64 (N,); NaN where both masks are empty (undefined).
    """
    a, b = _as_masks(a, "a"), _as_masks(b, "b")
    if a.shape != b.shape:
        raise ValueError("masks differ in shape: %r and %r (resize the heat map to the "
                         "image first, e.g. upsample=True)" % (a.shape, b.shape))
    axes = (-2, -1)
    inter = np.logical_and(a, b).sum(axis=axes).astype(np.float64)
    union = np.logical_or(a, b).sum(axis=axes).astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = np.where(union > 0, inter / np.maximum(union, 1), np.nan)
    return float(out) if out.ndim == 0 else out


def binarize(maps, threshold=CAM_THRESHOLD):
    """Heat maps scaled to [0, 1] -> bool masks ``maps >= threshold``.

    Args:
        maps: (H, W) or (N, H, W) float maps in [0, 1].
        threshold: in (0, 1].
    Returns:
        bool array like ``maps``.
    """
    m = np.asarray(maps, dtype=np.float64)
    if not 0 < float(threshold) <= 1:
        raise ValueError("threshold must be in (0, 1] (maps are scaled to [0, 1]), got %r"
                         % (threshold,))
    if m.size and (m.min() < -1e-6 or m.max() > 1 + 1e-6):
        raise ValueError("maps must be scaled to [0, 1] (use upsample=True), got values in "
                         "[%.3g, %.3g]" % (m.min(), m.max()))
    return m >= float(threshold)


def share_inside(masks, truth):
    """The share of each mask's pixels that lie inside ``truth`` (e.g. the object):
    |mask and truth| / |mask|.

    Args:
        masks, truth: bool (H, W) or (N, H, W) of one shape.
    Returns:
        float, or float64 (N,); NaN where the mask is empty.
    """
    a, t = _as_masks(masks, "masks"), _as_masks(truth, "truth")
    if a.shape != t.shape:
        raise ValueError("masks %r and truth %r differ in shape" % (a.shape, t.shape))
    axes = (-2, -1)
    area = a.sum(axis=axes).astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = np.where(area > 0, (a & t).sum(axis=axes) / np.maximum(area, 1), np.nan)
    return float(out) if out.ndim == 0 else out


def iou_table(names, masks_a, masks_b):
    """Rows (name, IoU) per image and the mean (NaNs ignored), for a table.

    Args:
        names: a label per image.
        masks_a, masks_b: bool (N, H, W).
    Returns:
        (rows, mean): list of (name, float) and the mean IoU.
    """
    values = np.atleast_1d(iou(np.asarray(masks_a), np.asarray(masks_b)))
    names = list(names)
    if len(names) != len(values):
        raise ValueError("%d names for %d masks" % (len(names), len(values)))
    return list(zip(names, values.tolist())), float(np.nanmean(values))


def iou_markdown(names, columns):
    """A Markdown table of IoUs: one row per image and a last row with the means.

    Args:
        names: a label per image.
        columns: dict column title -> per-image IoUs (NaN prints as 'n/a').
    Returns:
        str.
    """
    names = list(names)
    cols = {k: np.asarray(v, dtype=np.float64) for k, v in columns.items()}
    for k, v in cols.items():
        if v.shape != (len(names),):
            raise ValueError("column %r has %d values for %d images" % (k, v.size, len(names)))
    fmt = lambda v: "n/a" if np.isnan(v) else "%.3f" % v  # noqa: E731
    lines = ["| image | " + " | ".join(cols) + " |", "|" + " --- |" * (len(cols) + 1)]
    lines += ["| %s | %s |" % (n, " | ".join(fmt(v[i]) for v in cols.values()))
              for i, n in enumerate(names)]
    lines.append("| **mean** | %s |" % " | ".join(
        "**%s**" % fmt(np.nanmean(v)) if np.isfinite(v).any() else "n/a"
        for v in cols.values()))
    return "\n".join(lines)


def extremes(names, values, k=2):
    """A sentence naming the ``k`` images with the highest and the lowest values, e.g.
    'highest for fish (0.52) and church (0.40); lowest for sports car (0.01) and golf
    ball (0.05)' (NaNs left out).

    Returns:
        str.
    """
    v = np.asarray(values, dtype=np.float64)
    names = list(names)
    if len(names) != len(v):
        raise ValueError("%d names for %d values" % (len(names), len(v)))
    ok = [i for i in np.argsort(-v, kind="stable") if np.isfinite(v[i])]
    k = max(1, min(int(k), len(ok) // 2)) if len(ok) > 1 else len(ok)
    say = lambda idx: " and ".join("%s (%.2f)" % (names[i], v[i]) for i in idx)  # noqa: E731
    if not ok:
        return "no finite values"
    if len(ok) == 1:
        return "%s only" % say(ok)
    return "highest for %s; lowest for %s" % (say(ok[:k]), say(ok[::-1][:k]))

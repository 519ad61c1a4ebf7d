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

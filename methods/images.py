"""Image-array utilities the methods share: bilinear resizing, the CAMs' [0, 1]
scaling, and the Gaussian blur of model inputs.

* :func:`resize_bilinear`: bilinear resize of the last two axes, with half-pixel
  centres (OpenCV's ``resize``) or corners aligned (PyTorch's ``UpsamplingBilinear2d``);
* :func:`scale_maps`: each map shifted to min 0 and divided by its max + 1e-7, then
  resized (pytorch-grad-cam's ``scale_cam_image``);
* :func:`blur`: a Gaussian blur over the two spatial axes (SciPy's
  ``ndimage.gaussian_filter``): the blurred baseline of preprocessed inputs and the
  blur prior of activation maximisation.
"""
import numpy as np
from scipy import ndimage

__all__ = ["SCALE_EPS", "resize_bilinear", "scale_maps", "blur"]

SCALE_EPS = 1e-7         # the final [0, 1] scaling (pytorch-grad-cam's scale_cam_image)


def _interpolation_matrix(n_in, n_out, align_corners):
    """(n_out, n_in) weights of 1-D linear interpolation."""
    i = np.arange(n_out, dtype=np.float64)
    if align_corners:
        src = i * (n_in - 1) / (n_out - 1) if n_out > 1 else np.zeros(1)
    else:
        src = np.clip((i + 0.5) * n_in / n_out - 0.5, 0, n_in - 1)
    lo = np.floor(src).astype(int)
    hi = np.minimum(lo + 1, n_in - 1)
    t = src - lo
    r = np.zeros((n_out, n_in))
    np.add.at(r, (np.arange(n_out), lo), 1 - t)
    np.add.at(r, (np.arange(n_out), hi), t)
    return r


def resize_bilinear(maps, size, align_corners=False):
    """Bilinear resize of the last two axes.

    Args:
        maps: array (..., h, w).
        size: (H, W) of the output.
        align_corners: True maps the corner pixels' centres onto each other (PyTorch's
            ``UpsamplingBilinear2d``, Score-CAM's upsampling); False uses half-pixel
            centres, clamped at the border (OpenCV's ``resize``, PyTorch's
            ``align_corners=False``).
    Returns:
        float32 array (..., H, W).
    """
    m = np.asarray(maps, dtype=np.float32)
    if m.ndim < 2:
        raise ValueError("maps must have at least 2 axes (h, w), got shape %r" % (m.shape,))
    H, W = (int(s) for s in size)
    if (H, W) == m.shape[-2:]:
        return m.copy()
    ry = _interpolation_matrix(m.shape[-2], H, align_corners).astype(np.float32)
    rx = _interpolation_matrix(m.shape[-1], W, align_corners).astype(np.float32)
    return np.matmul(np.matmul(ry, m), rx.T)


def scale_maps(maps, size=None):
    """Each map shifted to min 0 and divided by (its max + 1e-7), then resized to
    ``size`` (half-pixel bilinear): pytorch-grad-cam's ``scale_cam_image``.

    Args:
        maps: (N, h, w).
        size: (H, W) or None (no resizing).
    Returns:
        float32 (N, H, W) in [0, 1].
    """
    m = np.asarray(maps, dtype=np.float32)
    m = m - m.min(axis=(-2, -1), keepdims=True)
    m = m / (SCALE_EPS + m.max(axis=(-2, -1), keepdims=True))
    return m if size is None else resize_bilinear(m, size)


def blur(x, sigma, mode="reflect", axes=(-2, -1)):
    """Gaussian blur over two spatial axes, every other axis (images, channels) on its own.

    Args:
        x: array, e.g. model inputs (N, C, H, W) or (C, H, W).
        sigma: standard deviation of the Gaussian in pixels, finite and >= 0 (0: a copy).
        mode: how the border is extended (``scipy.ndimage`` modes: 'reflect', the
            default, or 'nearest', the blur prior of activation maximisation).
        axes: the two spatial axes (default the last two; (-3, -2) for RGB pictures
            (N, H, W, 3)).
    Returns:
        float32 array of x's shape.
    """
    a = np.asarray(x, dtype=np.float32)
    s = float(sigma)
    if not np.isfinite(s) or s < 0:
        raise ValueError("blur sigma must be a finite standard deviation >= 0 in pixels, "
                         "got %r" % (sigma,))
    if a.ndim < 2:
        raise ValueError("x must have at least the two spatial axes, got shape %r"
                         % (a.shape,))
    sigmas = [0.0] * a.ndim
    for ax in axes:
        sigmas[ax] = s
    return ndimage.gaussian_filter(a, sigma=sigmas, mode=mode).astype(np.float32)

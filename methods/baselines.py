"""Baselines in pixel space, preprocessed like the images they stand in for.

Integrated Gradients' path and the removal methods (occlusion, insertion, deletion)
replace an image x by a baseline x' that "carries no signal". The CSEP 590B homework
uses three kinds, all built from RGB uint8 pictures and then preprocessed exactly
like the images (``world.preprocess`` / :func:`models.preprocess`):

* :func:`black`: the all-zeros picture (0, 0, 0);
* :func:`white`: the all-255 picture;
* :func:`blurred`: a Gaussian blur of the image itself (SciPy's
  ``ndimage.gaussian_filter``, standard deviation ``sigma`` pixels, per colour
  channel), the "blurred baseline" of Fong & Vedaldi 2017 and Sturmfels et al. 2020.

:func:`methods.images.blur` blurs preprocessed inputs directly; because preprocessing
is a per-channel affine map (channel order and mean) and the blur is linear with weights
summing to one, it equals preprocessing the blurred picture up to uint8 rounding.
"""
import hw3_env  # noqa: F401

import numpy as np

import models
from methods.images import blur


def _preprocess_fn(preprocess, size):
    if preprocess is None:
        return lambda images: models.preprocess(images, size=size)
    if not callable(preprocess):
        raise ValueError("preprocess must be a function uint8 (N, S, S, 3) -> model input "
                         "(N, 3, S, S), e.g. world.preprocess; got %r" % (preprocess,))
    return preprocess


def _check_size(size):
    if isinstance(size, bool) or int(size) != size or int(size) < 1:
        raise ValueError("size must be a positive int (the image side in pixels), got %r"
                         % (size,))
    return int(size)


def constant(value, size, preprocess=None):
    """The preprocessed picture whose every pixel is ``value`` (0-255, or an RGB triple).

    Args:
        value: grey level or (R, G, B), 0..255.
        size: image side S.
        preprocess: images -> model inputs (default: ``models.preprocess`` at S).
    Returns:
        float32 (3, S, S), the baseline in the model's input space.
    """
    size = _check_size(size)
    v = np.asarray(value, dtype=np.float64)
    if v.shape not in ((), (3,)) or (v < 0).any() or (v > 255).any():
        raise ValueError("value must be a grey level or an (R, G, B) triple in 0..255, got %r"
                         % (value,))
    picture = np.empty((1, size, size, 3), dtype=np.uint8)
    picture[...] = np.round(v).astype(np.uint8)
    return _preprocess_fn(preprocess, size)(picture)[0].astype(np.float32)


def black(size, preprocess=None):
    """The black picture (all zeros), preprocessed: float32 (3, S, S)."""
    return constant(0, size, preprocess)


def white(size, preprocess=None):
    """The white picture (all 255), preprocessed: float32 (3, S, S)."""
    return constant(255, size, preprocess)


def _check_images(images):
    im = np.asarray(images)
    single = im.ndim == 3
    if single:
        im = im[None]
    if im.dtype != np.uint8 or im.ndim != 4 or im.shape[-1] != 3:
        raise ValueError("images must be RGB uint8 (N, S, S, 3) or one (S, S, 3) picture "
                         "(before preprocessing), got %s %r" % (im.dtype, np.shape(images)))
    return im, single


def blur_images(images, sigma):
    """Gaussian blur of RGB pictures, each colour channel on its own.

    Args:
        images: uint8 (N, S, S, 3) or (S, S, 3).
        sigma: standard deviation of the Gaussian in pixels (0: unchanged).
    Returns:
        uint8 pictures of the same shape (rounded).
    """
    im, single = _check_images(images)
    out = np.clip(np.round(blur(im, sigma, axes=(-3, -2))), 0, 255).astype(np.uint8)
    return out[0] if single else out


def blurred(images, sigma, preprocess=None):
    """Blurred copies of the pictures, preprocessed: the blurred baselines.

    Args:
        images: uint8 (N, S, S, 3) or (S, S, 3) pictures (before preprocessing).
        sigma: blur strength (Gaussian standard deviation in pixels).
        preprocess: images -> model inputs (default ``models.preprocess`` at S).
    Returns:
        float32 (N, 3, S, S) (or (3, S, S) for one picture).
    """
    im, single = _check_images(images)
    x = _preprocess_fn(preprocess, im.shape[1])(blur_images(im, sigma)).astype(np.float32)
    return x[0] if single else x


def broadcast_baseline(baseline, x):
    """The baseline for each of the inputs x (N, C, H, W), float32 (N, C, H, W).

    Args:
        baseline: a number, one (C, H, W) baseline, (1, C, H, W), or one per input
            (N, C, H, W).
        x: the inputs it stands in for.
    Raises:
        ValueError: the baseline does not broadcast to x (the message says which shapes).
    """
    x = np.asarray(x)
    b = np.asarray(baseline, dtype=np.float32)
    if b.ndim == x.ndim - 1:
        b = b[None]
    try:
        out = np.broadcast_to(b, x.shape)
    except ValueError:
        raise ValueError("baseline of shape %r does not broadcast to the inputs %r: give one "
                         "(C, H, W) baseline for all, (N, C, H, W) one per input, or a number "
                         "(e.g. baselines.black(%d))" % (np.shape(baseline), x.shape,
                                                         x.shape[-1])) from None
    if not np.isfinite(out).all():
        raise ValueError("baseline holds NaN or infinite values")
    return out

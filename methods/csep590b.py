"""CSEP 590B (Explainable AI) HW2, with the homework's function names and signatures.

Thin wrappers over the Explanation chain and the removal engine; NumPy arrays in and
out, the Keras model in place of the handout's PyTorch ResNet-18. ``imgs`` are
preprocessed model inputs (N, 3, H, W) (``world.preprocess``), ``target_labels`` one
class index per image, ``baseline`` a preprocessed baseline (one (3, H, W) image,
one per image, or a number; :mod:`methods.baselines`). Every quantity is the
target's softmax probability p_t (:class:`methods.quantities.ProbabilityQoI`).

=========================  ================================================================
homework function          composition
=========================  ================================================================
``calculate_gradients``    slice x, QoI p_t, DoI :class:`~methods.distributions.Point`
``vanilla_gradients``      |that| summed over channels
``smoothgrad``             DoI :class:`~methods.distributions.Gaussian` (absolute=True)
``integrated_gradients``   DoI ``AumannShapley`` (straight path from the baseline), attribution
``occlusion``              :meth:`RemovalEngine.occlusion <methods.removal.RemovalEngine.occlusion>`
``insertion``/``deletion`` :meth:`RemovalEngine.curve <methods.removal.RemovalEngine.curve>`
=========================  ================================================================

The gradient methods group the images by target label (one compiled gradient serves
every class: the label only sets the QoI's weight vector) and share one compiled
gradient among all DoIs of a model. The batched ablation metrics are in
:mod:`evaluation.ablation`, the notebook's written answers in
:mod:`evaluation.csep590b_answers`.
"""
import hw3_env  # noqa: F401

import numpy as np

from AumannShapley import AumannShapley
from chain.checks import check_inputs, check_targets
from Explanation import explanation_of
from methods.baselines import broadcast_baseline
from methods.distributions import Gaussian, Point
from methods.quantities import ProbabilityQoI
from methods.removal import RemovalEngine, auc, random_map, superpixel_sum  # noqa: F401

__all__ = ["calculate_gradients", "vanilla_gradients", "smoothgrad", "integrated_gradients",
           "occlusion", "insertion", "deletion", "superpixel_sum", "random_map", "auc",
           "explain_probability"]


def explain_probability(imgs, model, target_labels, method, baseline=None):
    """Pixel explanations of p_t under the DoI ``method``, one target per image.

    Args:
        imgs: model inputs (N, 3, H, W).
        model: the Keras model.
        target_labels: (N,) classes (an int: the same for all).
        method: a DoI (``Point``, ``Gaussian``, ``AumannShapley``...).
        baseline: the DoI's baseline, broadcastable to imgs (None: the method's own).
    Returns:
        float32 (N, 3, H, W): what the method returns (influence or attribution).
    """
    x = check_inputs(model, imgs)
    labels = check_targets(model, target_labels, len(x))
    base = None if baseline is None else broadcast_baseline(baseline, x)
    pixels = explanation_of(model, "csep590b", method).for_input()   # compiled once per model
    out = np.empty(x.shape, dtype=np.float32)
    for t in np.unique(labels):
        idx = np.flatnonzero(labels == t)
        data = pixels.for_quantity(ProbabilityQoI(int(t))).explain(
            x[idx], baseline=None if base is None else base[idx])
        out[idx] = data.attribution
    return out


def calculate_gradients(imgs, model, target_labels):
    """dp_t/dx for each image (the handout's helper).

    Returns:
        gradients: float32 (N, 3, H, W).
    """
    return explain_probability(imgs, model, target_labels, Point(ignore_difference_term=True))


def vanilla_gradients(imgs, model, target_labels):
    """Vanilla gradients (Simonyan et al. 2014): |dp_t/dx| summed over channels.

    saliency_{hw} = sum_c |dp_t / dx_{chw}|  (the point DoI, influence).

    Returns:
        saliency: float32 (N, H, W).
    """
    return np.abs(calculate_gradients(imgs, model, target_labels)).sum(axis=1)


def smoothgrad(imgs, model, target_labels, samples=50, sigma=0.1):
    """SmoothGrad (Smilkov et al. 2017, eq. 3), absolute value before averaging:

    saliency_{hw} = sum_c (1/n) sum_k |dp_t/dx_{chw} (x + eps_k)|,
    eps_k ~ N(0, (sigma (x_max - x_min))^2 I)

    (Captum's ``NoiseTunnel(Saliency(abs=True))`` with ``stdevs = sigma (x_max - x_min)``).

    Args:
        samples: n, noisy samples per image.
        sigma: noise level, a fraction of each image's value range x_max - x_min.
    Returns:
        saliency: float32 (N, H, W).
    """
    g = explain_probability(imgs, model, target_labels,
                            Gaussian(samples=samples, sigma=sigma, absolute=True))
    return g.sum(axis=1)


def integrated_gradients(imgs, model, target_labels, baseline, steps=50):
    """Integrated Gradients of p_t (Sundararajan et al. 2017, eq. 3, right Riemann sum),
    absolute value summed over channels:

    saliency_{hw} = sum_c | (x - x')_{chw} (1/m) sum_{k=1..m} dp_t/dx_{chw} (x' + k/m (x - x')) |

    Args:
        baseline: x', broadcastable to imgs (e.g. ``baselines.black(224)``).
        steps: m.
    Returns:
        saliency: float32 (N, H, W).
    """
    a = explain_probability(imgs, model, target_labels, AumannShapley(resolution=steps),
                            baseline=baseline)
    return np.abs(a).sum(axis=1)


def occlusion(imgs, model, target_labels, baseline, superpixel_size=8, masks_per_call=16,
              progress=False):
    """Occlusion: p_t(x) - p_t(x with the superpixel holding the pixel replaced by the
    baseline), on non-overlapping superpixel_size x superpixel_size squares.

    Args:
        masks_per_call: occluded copies per forward call (of one or several images).
    Returns:
        importance: float32 (N, H, W).
    Raises:
        ValueError: H or W is not a multiple of superpixel_size.
    """
    engine = RemovalEngine(model, superpixel_size, masks_per_call=masks_per_call)
    x = engine.check_images(imgs)
    return engine.occlusion(x, check_targets(model, target_labels, len(x)), baseline,
                            progress=progress)


def _curve(kind, img, model, importance, target_label, baseline, step, masks_per_call,
           progress):
    imp = np.asarray(importance)
    shape = tuple(model.input_shape[1:])
    if imp.ndim not in (2, 3) or (imp.ndim == 3 and len(imp) != 1):
        raise ValueError("importance must be (1, H/s, W/s) on the superpixel grid, got %r"
                         % (imp.shape,))
    gh, gw = imp.shape[-2:]
    if gh < 1 or gw < 1 or shape[1] % gh or shape[2] % gw or shape[1] // gh != shape[2] // gw:
        raise ValueError("importance %r is not a grid of square superpixels on the %dx%d "
                         "image: H/s x W/s with one s dividing both (e.g. (1, %d, %d) for "
                         "s=8); reduce a pixel map with superpixel_sum(map, s)"
                         % (imp.shape, shape[1], shape[2], shape[1] // 8, shape[2] // 8))
    engine = RemovalEngine(model, shape[1] // gh, masks_per_call=masks_per_call)
    return engine.curve(img, imp, target_label, baseline, kind, step=step, progress=progress)


def insertion(img, model, importance, target_label, baseline, step=1, masks_per_call=16,
              progress=False):
    """Insertion curve: p_t of the baseline with the k most important superpixels of
    the image inserted, k = 0, step, ..., n (order ``argsort(-importance, stable)``).

    Args:
        img: (1, 3, H, W). importance: (1, H/s, W/s). target_label: int.
        baseline: the start image (broadcastable to img).
        step: superpixels per point.
        masks_per_call: masked copies per forward call.
    Returns:
        (curve, num_feats): curve[0] = p_t(baseline), curve[-1] = p_t(img).
    """
    return _curve("insertion", img, model, importance, target_label, baseline, step,
                  masks_per_call, progress)


def deletion(img, model, importance, target_label, baseline, step=1, masks_per_call=16,
             progress=False):
    """Deletion curve: p_t of the image with the k most important superpixels replaced
    by the baseline, k = 0, step, ..., n.

    Returns:
        (curve, num_feats): curve[0] = p_t(img), curve[-1] = p_t(baseline).
    """
    return _curve("deletion", img, model, importance, target_label, baseline, step,
                  masks_per_call, progress)

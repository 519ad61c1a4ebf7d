"""LIME on images (Ribeiro et al. 2016) through the ``lime`` package, for our models.

LIME explains one prediction by a linear surrogate g(z') = w . z' fitted on
interpretable features z' in {0, 1}^d, the image's superpixels (``lime``'s default
quickshift segmentation from scikit-image; kernel 4, max distance 200, ratio 0.2, the
kernel scaled to images smaller than 224 px, see :func:`default_segmentation`):

    xi(x) = argmin_g  sum_z pi_x(z) (f(z) - g(z'))^2 + alpha ||w||^2

over ``num_samples`` perturbed images z, in which each superpixel is kept or hidden
(painted ``hide_color``) at random; f is the model's softmax probability of the
explained class and pi_x(z) = sqrt(exp(-d(x, z)^2 / sigma^2)) weighs the samples by
the cosine distance d between their feature vectors and the instance's (sigma 0.25).
The superpixels with a positive weight w_j are the explanation's *positive
superpixels* (evidence for the class), those with a negative weight its *negative
superpixels* (evidence against it: hiding them raises the class probability).

The defaults are the report's settings (seed 002, sheet 4, Task 3): ``top_labels=1,
hide_color=0, num_features=100000, num_samples=1000, batch_size=10,
distance_metric='cosine'``, with a fixed ``random_seed`` (the report left it None).
LIME is a black-box method: it never looks inside the model, so in our vocabulary it
is a distribution of interest (the random superpixel masks around the instance), the
QoI the softmax probability, and a linear model fitted instead of an expectation of
gradients.
"""
import hw3_env  # noqa: F401  (must come before keras/theano)

import contextlib
import time
from dataclasses import dataclass

import numpy as np

from methods.scores import model_scores, softmax
from notebook_tools.progress import progress as _progress

K = hw3_env.setup()

SETTINGS = {"top_labels": 1, "hide_color": 0, "num_features": 100000, "num_samples": 1000,
            "batch_size": 10, "distance_metric": "cosine"}
"""The report's ``explain_instance`` arguments (its ``random_seed`` was None)."""


@dataclass
class LimeResult:
    """One LIME explanation.

    Attributes:
        label: the explained class (the top-1 class of the model).
        segments: int (H, W) superpixel id of each pixel (quickshift).
        weights: float (n_segments,) the linear surrogate's weight of each superpixel.
        positive: bool (H, W), the pixels of the superpixels with a positive weight.
        seconds: wall time of the explanation (segmentation, samples, fit).
        explanation: the ``lime`` ``ImageExplanation`` itself.
    """
    label: int
    segments: np.ndarray
    weights: np.ndarray
    positive: np.ndarray
    seconds: float
    explanation: object

    @property
    def negative(self):
        """bool (H, W): the pixels of the superpixels with a negative weight."""
        return np.isin(self.segments, np.flatnonzero(self.weights < 0))

    @property
    def weight_map(self):
        """float (H, W): each pixel's superpixel weight."""
        return self.weights[self.segments]


def classifier_fn(model, preprocess, images_per_call=10):
    """The function LIME calls: RGB images (N, H, W, 3), 0-255 -> softmax probabilities.

    Args:
        model: the Keras model (linear class scores).
        preprocess: RGB uint8 images -> model inputs (``world.preprocess``).
        images_per_call: images per call of the model.
    Returns:
        function images -> float64 (N, classes).
    """
    def predict(images):
        images = np.clip(np.round(np.asarray(images, dtype=np.float64)), 0, 255).astype(np.uint8)
        return softmax(model_scores(model, preprocess(images), images_per_call))
    return predict


QUICKSHIFT = {"kernel_size": 4, "max_dist": 200, "ratio": 0.2}
"""``lime``'s default quickshift parameters (for ImageNet-sized images)."""
REFERENCE_SIZE = 224


def default_segmentation(image_size, random_seed=0):
    """``lime``'s default segmentation, quickshift (scikit-image), with its kernel
    scaled to the image: kernel_size = 4 * S / 224. At 224 px it is exactly
    ``lime``'s default; on the synthetic world's 64 px scenes (kernel 1.14) it cuts
    about 35-40 superpixels, as the default does on a 224 px photograph, where the
    unscaled kernel would leave 2-5.

    Returns:
        a ``lime.wrappers.scikit_image.SegmentationAlgorithm``.
    """
    from lime.wrappers.scikit_image import SegmentationAlgorithm
    args = dict(QUICKSHIFT, kernel_size=QUICKSHIFT["kernel_size"] * float(image_size)
                / REFERENCE_SIZE)
    return SegmentationAlgorithm("quickshift", random_seed=int(random_seed), **args)


@contextlib.contextmanager
def _quiet_lime_progress(desc):
    """lime 0.2.0.1 wraps its sampling loop in a bare tqdm (a stderr box in a
    notebook); route it through :mod:`notebook_tools.progress` meanwhile."""
    import lime.lime_image as li
    original = li.tqdm
    li.tqdm = lambda items: _progress(items, desc=desc, unit="sample")
    try:
        yield
    finally:
        li.tqdm = original


def _check_image(image):
    im = np.asarray(image)
    if im.ndim != 3 or im.shape[2] != 3 or im.dtype != np.uint8:
        raise ValueError("LIME explains one RGB uint8 image (H, W, 3), got %s %r; pass "
                         "ImageSet.images[i], not the preprocessed model input"
                         % (im.dtype, im.shape))
    return im


def explain(image, model, preprocess, random_seed=0, num_samples=None, images_per_call=None,
            segmentation_fn=None, desc=None, **settings):
    """LIME's explanation of the model's top class on one image.

    Args:
        image: RGB uint8 (H, W, 3) at the model's input size.
        model: the Keras model.
        preprocess: RGB uint8 images -> model inputs (``world.preprocess``).
        random_seed: seeds both the segmentation and the sampling (same seed, same
            segments and weights).
        num_samples: overrides the report's 1000 perturbed images.
        images_per_call: overrides the report's 10 perturbed images per call of the
            model (``explain_instance``'s ``batch_size``).
        segmentation_fn: None for :func:`default_segmentation` (``lime``'s default
            quickshift, kernel scaled to the image size).
        desc: progress label.
        **settings: other ``explain_instance`` arguments (see :data:`SETTINGS`).
    Returns:
        :class:`LimeResult`.
    """
    from lime.lime_image import LimeImageExplainer
    im = _check_image(image)
    args = dict(SETTINGS, **settings)
    if num_samples is not None:
        args["num_samples"] = int(num_samples)
    if images_per_call is not None:
        args["batch_size"] = int(images_per_call)
    if int(args["num_samples"]) < 2:
        raise ValueError("num_samples must be >= 2 (LIME fits a linear model), got %r"
                         % (args["num_samples"],))
    fn = classifier_fn(model, preprocess, args["batch_size"])
    if segmentation_fn is None:
        segmentation_fn = default_segmentation(max(im.shape[:2]), random_seed)
    explainer = LimeImageExplainer(random_state=int(random_seed))
    start = time.perf_counter()
    with _quiet_lime_progress(desc or "LIME samples"):
        exp = explainer.explain_instance(im, fn, segmentation_fn=segmentation_fn,
                                         random_seed=int(random_seed), **args)
    seconds = time.perf_counter() - start
    label = int(exp.top_labels[0])
    weights = np.zeros(int(exp.segments.max()) + 1)
    for segment, w in exp.local_exp[label]:
        weights[segment] = w
    positive = np.isin(exp.segments, np.flatnonzero(weights > 0))
    return LimeResult(label, exp.segments, weights, positive, seconds, exp)


def explain_images(images, model, preprocess, names=None, random_seed=0, **kwargs):
    """:func:`explain` for each image, with one progress line.

    Args:
        images: RGB uint8 (N, H, W, 3).
        names: a label per image for the progress line (default its index).
        random_seed, **kwargs: as :func:`explain` (the same seed for every image).
    Returns:
        list of :class:`LimeResult`.
    """
    images = np.asarray(images)
    if images.ndim != 4 or len(images) == 0:
        raise ValueError("images must be a non-empty batch (N, H, W, 3), got shape %r"
                         % (images.shape,))
    names = list(names) if names is not None else [str(i) for i in range(len(images))]
    out = []
    for im, name in _progress(list(zip(images, names)), desc="LIME", unit="image"):
        out.append(explain(im, model, preprocess, random_seed=random_seed,
                           desc="LIME on %s" % name, **kwargs))
    return out


def mean_seconds(results):
    """Mean wall time per image of LIME explanations (the report's ``avg_time``)."""
    return float(np.mean([r.seconds for r in results]))

"""Activation maximisation (TU Berlin ML sheet 11, exercise 1; Erhan et al. 2009,
Simonyan et al. 2014): the prototype of a quantity of interest Q is

    x* = argmax_x  Q(x) - Omega(x),      Omega(x) = lambda * ||x - x0||^2      (1)

found by gradient ascent from the mean image x0 (the zero image in the caffe space of
:func:`models.preprocess`). Q is any quantity of the Explanation chain at the input
slice: a class score (``absolute``), a comparison, or an internal neuron
(``for_neurons``). An optional blur prior smooths x every few steps (a Gaussian of
``blur_sigma`` pixels, Yosinski et al. 2015), and x is kept inside the pixel range.

Usage::

    q = Explanation(model).for_input().absolute(c)
    proto = activation_maximisation(q, steps=200, l2=1e-3)
    proto.image, proto.score
"""
import hw3_env  # noqa: F401  (must come before keras/theano)

from dataclasses import dataclass, field

import numpy as np

from methods import images
from notebook_tools.progress import progress


def gradient_ascent(gradient, x0, step, steps, normalise=False, project=None,
                    every=None, transform=None, desc=None):
    """x_{t+1} = project(x_t + step * d_t), d_t = gradient(x_t) (divided by its RMS when
    ``normalise``), for ``steps`` steps.

    Args:
        gradient: x -> the gradient of the objective at x (same shape as x).
        x0: the starting point.
        step: the step size (in units of x when ``normalise``).
        steps: number of steps.
        normalise: divide each step's direction by its root mean square, so the step
            size does not depend on the objective's scale (deep networks).
        project: x -> x, applied after every step (e.g. clipping to the pixel range).
        every, transform: apply ``transform`` (e.g. a blur) every ``every`` steps.
        desc: show progress with this label (None: silent).
    Returns:
        the last iterate (float64 when x0 is float64, else float32).
    """
    if int(steps) < 0 or not np.isfinite(step) or step <= 0:
        raise ValueError("gradient ascent needs steps >= 0 and a finite step > 0, got "
                         "steps=%r, step=%r" % (steps, step))
    x = np.array(x0, dtype=np.float64 if np.asarray(x0).dtype == np.float64 else np.float32)
    for t in progress(range(int(steps)), desc=desc or "", unit="step", disable=desc is None):
        d = np.asarray(gradient(x), dtype=x.dtype)
        if normalise:
            rms = np.sqrt(np.mean(np.square(d), dtype=np.float64))
            d = d / max(rms, 1e-12)
        x = x + x.dtype.type(step) * d
        if transform is not None and every and (t + 1) % int(every) == 0:
            x = transform(x).astype(x.dtype)
        if project is not None:
            x = project(x).astype(x.dtype)
    return x


@dataclass
class Prototype:
    """An activation-maximisation result.

    Attributes:
        image: the prototype x*, a model input (C, H, W) (preprocessed space).
        score: Q(x*).
        start_score: Q at the starting point (x0, plus the initial noise if any).
        objective: Q(x*) - lambda ||x* - x0||^2.
        quantity: the QoI's label.
        settings: the parameters of the run.
    """
    image: np.ndarray
    score: float
    start_score: float
    objective: float
    quantity: str = ""
    settings: dict = field(default_factory=dict)


def activation_maximisation(quantity, x0=None, steps=200, step=1.0, l2=1e-3, blur_every=0,
                            blur_sigma=0.5, low=None, high=None, normalise=True, init_noise=0.0,
                            seed=0, desc=None):
    """The prototype of a quantity of interest: gradient ascent on (1).

    Args:
        quantity: an ``ExplanationForQuantity`` at the input slice, e.g.
            ``Explanation(model).for_input().absolute(c)`` or
            ``.for_neurons(layer, [channel])``.
        x0: the start and centre of the L2 penalty, (C, H, W); None: the mean image
            (zeros in the caffe space).
        steps: gradient steps.
        step: step size (pixel units of the preprocessed space when ``normalise``).
        l2: lambda of the penalty lambda ||x - x0||^2 (>= 0).
        blur_every, blur_sigma: the blur prior (0: off).
        low, high: per-channel pixel range to clip to (None: no clipping), e.g.
            ``methods.lrp.CAFFE_LOW`` / ``CAFFE_HIGH``.
        normalise: RMS-normalised steps (see :func:`gradient_ascent`); False takes
            plain gradient steps (a known step for known curvature).
        init_noise, seed: start from x0 plus Gaussian noise of this standard deviation
            (seeded): an internal ReLU neuron that is 0 at the mean image has no
            gradient there.
        desc: progress label (None: the quantity's label).
    Returns:
        a :class:`Prototype`.
    """
    slice_ = quantity.slice
    if slice_.layer is not None:
        raise ValueError("activation maximisation optimises the input: use a quantity at "
                         "the input slice (Explanation(model).for_input()...), not layer %d"
                         % slice_.layer)
    if not np.isfinite(l2) or l2 < 0:
        raise ValueError("l2 must be a finite number >= 0, got %r" % (l2,))
    shape = slice_.shape
    x0 = np.zeros(shape, np.float32) if x0 is None else np.asarray(x0, np.float32)
    if x0.shape != shape:
        raise ValueError("x0 must be one model input of shape %r, got %r" % (shape, x0.shape))
    method = quantity.compiled()

    def grad(x):
        return method.gradient(x[None])[0] - 2.0 * l2 * (x - x0)

    project = None
    if low is not None or high is not None:
        lo = np.broadcast_to(np.asarray(-np.inf if low is None else low, np.float32)
                             .reshape(-1, 1, 1), shape)
        hi = np.broadcast_to(np.asarray(np.inf if high is None else high, np.float32)
                             .reshape(-1, 1, 1), shape)
        project = lambda x: np.clip(x, lo, hi)  # noqa: E731
    blur = (lambda x: images.blur(x, blur_sigma, mode="nearest")) if blur_every else None
    start = x0 + np.float32(init_noise) * np.random.RandomState(seed).randn(*shape) \
        .astype(np.float32)
    if project is not None:
        start = project(start)
    x = gradient_ascent(grad, start, step, steps, normalise=normalise, project=project,
                        every=blur_every, transform=blur,
                        desc=desc or "prototype of %s" % quantity.label)
    q = method.quantity(np.stack([x, start]).astype(np.float32))
    return Prototype(image=x.astype(np.float32), score=float(q[0]), start_score=float(q[1]),
                     objective=float(q[0] - l2 * np.sum(np.square(x - x0, dtype=np.float64))),
                     quantity=quantity.label,
                     settings=dict(steps=steps, step=step, l2=l2, blur_every=blur_every,
                                   blur_sigma=blur_sigma, normalise=normalise,
                                   init_noise=init_noise, seed=seed))


def scores(quantity, instances):
    """Q at each of ``instances`` (model inputs (N, C, H, W)), for comparing a
    prototype with real images."""
    method = quantity.compiled()
    x = np.asarray(instances, np.float32)
    return np.concatenate([method.quantity(x[i:i + 16]) for i in range(0, len(x), 16)])

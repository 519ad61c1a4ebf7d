"""Distributions of interest (DoIs) beyond the straight path: the point and the Gaussian.

Leino et al. (2018, Definition 1) define the influence of a slice element z_j on a
quantity of interest Q under a distribution of interest P as

    chi_j(Q, P) = E_{z ~ P} [ dQ/dz_j (z) ],

and the *attribution* multiplies it by the difference term (z - z'). The straight
path of Integrated Gradients is :class:`AumannShapley.AumannShapley`; this module adds

* :class:`Point`: P = delta(z), the gradient at the instance itself. With
  ``ignore_difference_term=True`` it is the vanilla gradient / saliency map
  (Simonyan et al. 2014); with False and a zero baseline it is Gradient x Input
  (Shrikumar et al. 2016): dQ/dz_j (z) * (z_j - z'_j).
* :class:`Gaussian`: P = N(z, s^2 I) with s = sigma * (z_max - z_min), SmoothGrad
  (Smilkov et al. 2017, eq. 3): (1/n) sum_k dQ/dz (z + eps_k), eps_k ~ N(0, s^2 I),
  where sigma is the paper's noise level, a fraction of the instance's value range.
  ``absolute=True`` averages |dQ/dz| instead (Captum's ``NoiseTunnel(Saliency(abs=True))``).

Both plug into the Explanation chain exactly like ``AumannShapley``::

    Explanation(model, attribution_method=Gaussian(samples=50, sigma=0.1))
        .for_input().for_quantity(ProbabilityQoI(c)).explain(x)

Both are :class:`chain.doi.DoI` s like the path, so they share its compiled gradient and
quantity functions and its baseline handling, and each takes only its own parameters.
Completeness is a property of the path: ``Point`` reports the one-step gap like
``AumannShapley(resolution=1)``, ``Gaussian`` reports NaN.
"""
import hw3_env  # noqa: F401  (must come before theano)

import numpy as np

from AumannShapley import AumannShapley
from chain.checks import check_instances
from chain.doi import DoI
from notebook_tools.progress import progress as _progress


class Point(DoI):
    """The point distribution of interest: the gradient at the instance itself.

    The right Riemann sum with one step evaluates the path's gradient exactly at
    alpha = 1, the instance, so this is ``AumannShapley(resolution=1)`` by name (and
    evaluated by it, with this DoI's compiled functions):

        influence_j   = dQ/dz_j (z)                      (vanilla gradients, saliency)
        attribution_j = dQ/dz_j (z) * (z_j - z'_j)       (Gradient x Input for z' = 0)

    Args:
        ignore_difference_term: True (default) returns the gradient; False the
            gradient times (instance - baseline), i.e. Gradient x Input.
        baseline: z' for the difference term, in the slice's space; None means zeros.
        images_per_call: instances per gradient call (the result does not depend on it).
    """

    def __init__(self, ignore_difference_term=True, baseline=None, images_per_call=10):
        super().__init__(ignore_difference_term, baseline, "images_per_call", images_per_call)
        self._path = AumannShapley(resolution=1)

    def get_attributions(self, instances, baseline=None, return_convergence_delta=False,
                         progress=False):
        """The gradient (or Gradient x Input) of Q at each instance (N, ...) of the slice.

        Returns:
            array like ``instances`` (and the (N,) one-step completeness gap if asked).
        """
        path = self.share_compiled(self._path)
        path.ignore_difference_term, path.baseline = self.ignore_difference_term, self.baseline
        path.points_per_call = self.images_per_call
        result = path.get_attributions(instances, baseline, return_convergence_delta, progress)
        self.last_delta = path.last_delta
        return result

    def __repr__(self):
        return "Point(ignore_difference_term=%r)" % self.ignore_difference_term


class Gaussian(DoI):
    """The Gaussian distribution of interest around each instance (SmoothGrad).

    Smilkov et al. 2017, eq. 3, with the noise level of their section 3:

        chi_j = (1/n) sum_{k=1..n} dQ/dz_j (z + eps_k),   eps_k ~ N(0, s^2 I),
        s = sigma * (z_max - z_min)

    (``absolute=True``: (1/n) sum_k |dQ/dz_j (z + eps_k)|). The attribution multiplies
    chi by (z - z') like every DoI of the chain.

    Every instance draws its noise from its own ``np.random.default_rng([seed, 0])``,
    sample after sample, so an instance's result depends neither on ``points_per_call``
    nor on which other instances share the call, or where it stands among them (the
    registry's contract, :mod:`methods.registry`); samples of all instances are
    streamed through the gradient function in chunks of ``points_per_call`` like the
    path points of ``AumannShapley``.

    Args:
        samples: n >= 1, noisy samples per instance.
        sigma: noise level >= 0, a fraction of the value range (0.1-0.2 in the paper);
            0 gives the point distribution.
        value_range: None (default): each instance's own z_max - z_min; or a number,
            the same range for every instance (e.g. 255 for pixel values).
        seed: seed of the noise.
        absolute: average |gradient| (Captum's Saliency(abs=True) inside NoiseTunnel)
            instead of the gradient.
        ignore_difference_term: True (default) returns chi; False chi * (z - z').
        baseline: z' of the difference term (None: zeros).
        points_per_call: noisy points per gradient call.
    """

    def __init__(self, samples=50, sigma=0.1, value_range=None, seed=0, absolute=False,
                 ignore_difference_term=True, baseline=None, points_per_call=10):
        if isinstance(samples, bool) or int(samples) != samples or int(samples) < 1:
            raise ValueError("samples must be an int >= 1 (noisy samples per instance), "
                             "got %r" % (samples,))
        sigma = float(sigma)
        if not np.isfinite(sigma) or sigma < 0:
            raise ValueError("sigma must be a finite noise level >= 0 (a fraction of the "
                             "value range, e.g. 0.1), got %r" % (sigma,))
        if value_range is not None and not (np.isfinite(value_range) and value_range >= 0):
            raise ValueError("value_range must be None (each instance's own max - min) "
                             "or a number >= 0, got %r" % (value_range,))
        super().__init__(ignore_difference_term, baseline, "points_per_call", points_per_call)
        self.samples = int(samples)
        self.sigma = sigma
        self.value_range = value_range
        self.seed = int(seed)
        self.absolute = bool(absolute)

    def __repr__(self):
        return ("Gaussian(samples=%d, sigma=%g, absolute=%r)"
                % (self.samples, self.sigma, self.absolute))

    def noise_scale(self, instances):
        """The standard deviation s of each instance's noise, (N,) float32:
        sigma * (z_max - z_min) of the instance, or sigma * value_range."""
        x = np.asarray(instances, dtype=np.float32)
        if self.value_range is not None:
            span = np.full(len(x), float(self.value_range), dtype=np.float64)
        else:
            flat = x.reshape(len(x), -1)
            span = flat.max(axis=1).astype(np.float64) - flat.min(axis=1)
        return (self.sigma * span).astype(np.float32)

    def average_gradients(self, instances, baseline=None, progress=False):
        """(1/n) sum_k dQ/dz at z + eps_k for every instance (|dQ/dz| if ``absolute``).

        Returns:
            (chi, baseline): float32 like ``instances``, and the baseline used for the
            difference term.
        """
        fgrad = self._require_compiled().gradient
        instances = check_instances(instances)
        base = self._baseline_for(instances, baseline)
        n, m = len(instances), self.samples
        scale = self.noise_scale(instances).reshape((-1,) + (1,) * (instances.ndim - 1))
        rngs = [np.random.default_rng([self.seed, 0]) for _ in range(n)]
        sums = np.zeros(instances.shape, dtype=np.float64)
        pairs = np.repeat(np.arange(n), m)           # instance of each sample, in order
        step = self.per_call
        chunks = range(0, len(pairs), step)
        for start in _progress(chunks, desc="noisy gradients", unit="chunk",
                               disable=not progress, summary=False):
            idx = pairs[start:start + step]
            noise = np.stack([rngs[i].standard_normal(instances.shape[1:], dtype=np.float32)
                              for i in idx])
            grads = fgrad((instances[idx] + scale[idx] * noise).astype(np.float32))
            if self.absolute:
                grads = np.abs(grads)
            first, starts = np.unique(idx, return_index=True)
            sums[first] += np.add.reduceat(grads, starts, axis=0, dtype=np.float64)
        return (sums / m).astype(np.float32), base

    def get_attributions(self, instances, baseline=None, return_convergence_delta=False,
                         progress=False):
        """SmoothGrad influence (or attribution) of Q at each instance.

        Completeness is a property of the path, not of this DoI, so no gap is computed
        (that would cost two forwards per call): the delta is NaN for every instance.

        Returns:
            float32 array like ``instances`` (and the (N,) NaN delta if asked).
        """
        avg, base = self.average_gradients(instances, baseline, progress)
        result = avg if self.ignore_difference_term else \
            avg * (np.asarray(instances, dtype=np.float32) - base)
        self.last_delta = np.full(len(avg), np.nan)
        if return_convergence_delta:
            return result, self.last_delta
        return result

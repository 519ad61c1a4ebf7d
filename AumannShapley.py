"""Aumann-Shapley values: the path integral behind both Integrated Gradients and
influence-directed explanations.

Integrated Gradients (Sundararajan et al. 2017, eq. 3) approximates

    IG_i(x) = (x_i - x'_i) * (1/m) * sum_{k=1..m} dF(x' + k/m (x - x')) / dx_i

and the influence of Leino et al. 2018 (Definition 1) is the expected gradient of a
quantity of interest (QoI) Q over a distribution of interest (DoI) P,

    chi_j(Q, P) = E_{z ~ P} [ dQ/dz_j (z) ].

With P uniform on the straight line from a baseline z' to an instance z, chi is the
average gradient in eq. (3) (the *influence*), and multiplying by the difference term
(z - z') gives the *attribution*, which satisfies completeness:
sum_j attribution_j = Q(z) - Q(z') up to the Riemann error. Both live here; the slice
(h, g) and the QoI are chosen by :mod:`Explanation`.
"""
import hw3_env  # noqa: F401  (must come before theano)

import numpy as np
import theano
import theano.tensor as T

from notebook_tools.progress import progress as _progress


class AumannShapley(object):
    """The linear distribution of interest, evaluated by the right Riemann sum.

    Args:
        resolution: m, the number of points k/m, k = 1..m, on the path (>= 1).
        ignore_difference_term: True returns the influence (average gradient),
            False the attribution (average gradient times (instance - baseline)).
        baseline: the path's start z' in the slice's own space, broadcastable to
            one instance; None means zeros.
        batch_size: how many path points (over all instances) go through the
            gradient function at once. The result does not depend on it.
    """

    def __init__(self, resolution=50, ignore_difference_term=False, baseline=None,
                 batch_size=10):
        if int(resolution) < 1:
            raise ValueError("resolution must be >= 1 (number of Riemann steps), got %r"
                             % (resolution,))
        if int(batch_size) < 1:
            raise ValueError("batch_size must be >= 1, got %r" % (batch_size,))
        self.resolution = int(resolution)
        self.ignore_difference_term = bool(ignore_difference_term)
        self.baseline = baseline
        self.batch_size = int(batch_size)
        self._compiled = {}
        self._fns = None
        self.last_delta = None

    # -- compilation --------------------------------------------------------
    def compile(self, Q, inpt):
        """Build the gradient of Q with respect to the slice variable, once.

        Args:
            Q: symbolic vector (batch,): the quantity of interest per instance.
            inpt: the symbolic slice variable z that Q depends on (a graph input
                such as ``model.input`` or an internal tensor such as
                ``model.layers[19].input``). It is replaced by a fresh input
                variable, so the part of the network below the slice never runs.
        Returns:
            self. Compiling the same (Q, inpt) again reuses the compiled functions.
        """
        key = (Q, inpt)
        if key not in self._compiled:
            z = inpt.type("z")
            Qz = theano.clone(Q, replace={inpt: z})
            grad = T.grad(Qz.sum(), z)
            self._compiled[key] = (theano.function([z], grad, allow_input_downcast=True),
                                   theano.function([z], Qz, allow_input_downcast=True))
        self._fns = self._compiled[key]
        return self

    def _require_compiled(self):
        if self._fns is None:
            raise RuntimeError("call compile(Q, inpt) before get_attributions()")
        return self._fns

    def gradient(self, z):
        """dQ/dz at a batch of points z (no path, no chunking)."""
        return self._require_compiled()[0](np.asarray(z, dtype=np.float32))

    def quantity(self, z):
        """Q at a batch of points z."""
        return self._require_compiled()[1](np.asarray(z, dtype=np.float32))

    # -- evaluation ---------------------------------------------------------
    def _baseline_for(self, instances, baseline):
        base = self.baseline if baseline is None else baseline
        if base is None:
            return np.zeros(instances.shape[1:], dtype=np.float32)
        base = np.asarray(base, dtype=np.float32)
        if base.shape == instances.shape:
            return base
        try:
            return np.broadcast_to(base, instances.shape[1:]).astype(np.float32)
        except ValueError:
            raise ValueError("baseline of shape %r does not broadcast to one instance of "
                             "shape %r" % (base.shape, instances.shape[1:]))

    def average_gradients(self, instances, baseline=None, progress=False):
        """(1/m) sum_k dQ/dz at z' + k/m (z - z'), for every instance.

        Points of all instances are streamed through the gradient function in chunks
        of ``batch_size``; per-instance sums are accumulated in float64.
        """
        fgrad = self._require_compiled()[0]
        instances = _check_instances(instances)
        base = self._baseline_for(instances, baseline)
        per_instance_base = base.shape == instances.shape
        n, m = len(instances), self.resolution
        sums = np.zeros(instances.shape, dtype=np.float64)
        alphas = np.arange(1, m + 1, dtype=np.float32) / m
        pairs = [(i, k) for i in range(n) for k in range(m)]
        chunks = range(0, len(pairs), self.batch_size)
        for start in _progress(chunks, desc="path gradients", unit="chunk",
                               disable=not progress, summary=False):
            chunk = pairs[start:start + self.batch_size]
            idx = np.array([i for i, _ in chunk])
            a = alphas[[k for _, k in chunk]].reshape((-1,) + (1,) * (instances.ndim - 1))
            b = base[idx] if per_instance_base else base[None]
            points = (b + a * (instances[idx] - b)).astype(np.float32)
            # idx is sorted: sum each instance's run of rows at once (np.add.at is
            # unbuffered and cost 10% of a conv4_1 explanation)
            first, starts = np.unique(idx, return_index=True)
            sums[first] += np.add.reduceat(fgrad(points), starts, axis=0, dtype=np.float64)
        return (sums / m).astype(np.float32), base

    def get_attributions(self, instances, baseline=None, return_convergence_delta=False,
                         progress=False):
        """Aumann-Shapley attributions (or influence) of Q at each instance.

        Args:
            instances: array (N, ...) of points in the slice's space.
            baseline: overrides the constructor's baseline for this call.
            return_convergence_delta: also return the completeness gap per instance,
                sum(attribution) - (Q(z) - Q(z')) (Captum's convergence delta).
                For influence (ignore_difference_term) the gap is computed for the
                attribution that influence implies.
            progress: show progress over the chunks.
        Returns:
            float32 array like ``instances`` (and the (N,) gap if asked).
        """
        avg, base = self.average_gradients(instances, baseline, progress)
        instances = np.asarray(instances, dtype=np.float32)
        attribution = avg * (instances - base)
        self.last_delta = self.completeness_gap(attribution, instances, base)
        result = avg if self.ignore_difference_term else attribution
        if return_convergence_delta:
            return result, self.last_delta
        return result

    def completeness_gap(self, attribution, instances, base):
        """sum_j attribution_j - (Q(z) - Q(z')) per instance."""
        base = base if base.shape == instances.shape else base[None]
        both = self.quantity(np.concatenate([instances, base]))   # one batched call
        q, qb = both[:len(instances)], both[len(instances):]
        total = attribution.reshape(len(attribution), -1).sum(axis=1, dtype=np.float64)
        return (total - (q.astype(np.float64) - qb.astype(np.float64))).astype(np.float64)


def _check_instances(instances):
    x = np.asarray(instances)
    if x.ndim < 2 or len(x) == 0:
        raise ValueError("instances must be a non-empty batch (N, ...), got shape %r"
                         % (x.shape,))
    if not np.issubdtype(x.dtype, np.number):
        raise ValueError("instances must be numeric, got dtype %s" % x.dtype)
    x = x.astype(np.float32, copy=False)
    if not np.isfinite(x).all():
        raise ValueError("instances hold NaN or infinite values")
    return x

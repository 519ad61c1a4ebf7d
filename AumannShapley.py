"""Aumann-Shapley values: the path integral behind both Integrated Gradients and
influence-directed explanations.

Integrated Gradients (Sundararajan et al. 2017, eq. 1) is the path integral

    IG_i(x) = (x_i - x'_i) * int_0^1 dF(x' + a (x - x')) / dx_i da,

which its eq. 3 approximates by the right Riemann sum

    IG_i(x) ~ (x_i - x'_i) * (1/m) * sum_{k=1..m} dF(x' + k/m (x - x')) / dx_i ,

and the influence of Leino et al. 2018 (Definition 1) is the expected gradient of a
quantity of interest (QoI) Q over a distribution of interest (DoI) P,

    chi_j(Q, P) = E_{z ~ P} [ dQ/dz_j (z) ].

With P uniform on the straight line from a baseline z' to an instance z, chi is the
average gradient of the integral (the *influence*), and multiplying by the difference
term (z - z') gives the *attribution*, which satisfies completeness:
sum_j attribution_j = Q(z) - Q(z') up to the quadrature error. Both live here; the
slice (h, g) and the QoI are chosen by :mod:`Explanation`.

The integral over a in [0, 1] is evaluated by a quadrature rule, points a_k with
weights w_k (:func:`quadrature`), with Captum's names: ``riemann_right`` (the
default, eq. 3), ``riemann_left``, ``riemann_middle``, ``gausslegendre`` (Captum's
default), and ``trapezoid``, the composite trapezoid rule with m intervals
(m + 1 points, weights 1/(2m), 1/m, ..., 1/m, 1/(2m), summing to 1; Captum's
``riemann_trapezoid`` is a different rule whose weights sum to (m - 1)/m, so it is
refused rather than imitated). With ``tolerance`` the resolution is raised per
instance until the relative completeness gap is below it (:meth:`get_attributions`);
rules that nest reuse the points already evaluated (:func:`refinement`).
"""
import hw3_env  # noqa: F401  (must come before theano)

import numpy as np
from chain.checks import check_instances
from chain.doi import DoI
from notebook_tools.progress import progress as _progress

#: The quadrature rules of :func:`quadrature`, Captum's names where Captum has them.
RULES = ("riemann_right", "riemann_left", "riemann_middle", "trapezoid", "gausslegendre",
         "trapezoid_cosine")


def _check_rule(method):
    if method == "riemann_trapezoid":
        raise ValueError("method 'riemann_trapezoid' is Captum's rule whose weights sum to "
                         "(m-1)/m, which breaks completeness; use method='trapezoid' (the "
                         "composite trapezoid rule, m intervals, weights summing to 1)")
    if method not in RULES:
        raise ValueError("unknown quadrature method %r: use one of %s"
                         % (method, ", ".join(RULES)))
    return method


def quadrature(method, m):
    """Points a_k in [0, 1] and weights w_k of a rule at resolution m, so that
    int_0^1 f(a) da ~ sum_k w_k f(a_k) (the weights sum to 1).

    * ``riemann_right``: a_k = k/m, k = 1..m, w_k = 1/m (IG's eq. 3);
    * ``riemann_left``: a_k = (k-1)/m, k = 1..m, w_k = 1/m;
    * ``riemann_middle``: a_k = (k - 1/2)/m, w_k = 1/m;
    * ``trapezoid``: a_k = k/m, k = 0..m (m + 1 points), w = 1/(2m) at both ends and
      1/m inside (exact for polynomials of degree 1);
    * ``gausslegendre``: the m-point Gauss-Legendre nodes and weights moved from
      [-1, 1] to [0, 1] (exact for polynomials of degree 2m - 1), as in Captum;
    * ``trapezoid_cosine`` (m >= 2): the trapezoid rule in t after the substitution
      a = (1 - cos(pi t)) / 2, which puts the points close together near both ends
      of the path, like Gauss-Legendre, but nests under doubling like the trapezoid:
      a_k = (1 - cos(pi k/m)) / 2, k = 1..m-1 (the ends have weight 0),
      w_k = sin(pi k/m) / sum_j sin(pi j/m) (normalised to sum 1, so exact for
      polynomials of degree 1).

    Args:
        method: one of :data:`RULES`.
        m: the resolution (>= 1), the number of steps (intervals for ``trapezoid``).
    Returns:
        (alphas, weights): two float64 arrays of the same length.
    """
    _check_rule(method)
    m = int(m)
    if m < 1:
        raise ValueError("resolution must be >= 1 (number of steps), got %r" % (m,))
    k = np.arange(1, m + 1, dtype=np.float64)
    if method == "riemann_right":
        return k / m, np.full(m, 1.0 / m)
    if method == "riemann_left":
        return (k - 1) / m, np.full(m, 1.0 / m)
    if method == "riemann_middle":
        return (k - 0.5) / m, np.full(m, 1.0 / m)
    if method == "trapezoid":
        w = np.full(m + 1, 1.0 / m)
        w[[0, -1]] = 0.5 / m
        return np.arange(m + 1, dtype=np.float64) / m, w
    if method == "trapezoid_cosine":
        if m < 2:
            raise ValueError("trapezoid_cosine needs resolution >= 2 (its m - 1 points "
                             "are the interior of m intervals), got %d" % m)
        t = np.arange(1, m, dtype=np.float64) / m
        w = np.sin(np.pi * t)
        return 0.5 * (1.0 - np.cos(np.pi * t)), w / w.sum()
    nodes, weights = np.polynomial.legendre.leggauss(m)
    return 0.5 * (nodes + 1.0), 0.5 * weights


def refinement(method, m):
    """The next resolution of a rule and the points it adds, for adaptive refinement.

    Nested rules keep every point of resolution m at the next resolution m' and every
    old weight shrinks by one factor (m/m', or the ratio of the normalisations for
    ``trapezoid_cosine``), so the new sum is ``scale * old_sum + sum_new w_k f(a_k)``
    with only the new points evaluated: ``riemann_right``, ``riemann_left``,
    ``trapezoid`` and ``trapezoid_cosine`` double (m' = 2m; the new points are those of
    the odd multiples of 1/(2m)), ``riemann_middle`` triples (m' = 3m, the midpoints of
    thirds). ``gausslegendre`` does not nest: it doubles and evaluates all 2m new nodes
    (scale 0).

    Returns:
        (m_next, alphas, weights, scale): the new points, their weights at m_next, and
        the factor by which the old weighted sum is kept.
    """
    _check_rule(method)
    m = int(m)
    if method == "gausslegendre":
        alphas, weights = quadrature(method, 2 * m)
        return 2 * m, alphas, weights, 0.0
    factor = 3 if method == "riemann_middle" else 2
    new_m = factor * m
    alphas, weights = quadrature(method, new_m)
    old, old_w = quadrature(method, m)
    # the points in t (a = t, or a = (1 - cos(pi t)) / 2), in units of 1/(2 new_m)
    to_t = ((lambda a: np.arccos(1.0 - 2.0 * a) / np.pi) if method == "trapezoid_cosine"
            else (lambda a: a))
    fine = np.rint(to_t(alphas) * 2 * new_m).astype(np.int64)
    coarse = np.rint(to_t(old) * 2 * new_m).astype(np.int64)
    on_coarse = np.isin(fine, coarse)
    scale = weights[on_coarse][np.argsort(fine[on_coarse])] / old_w[np.argsort(coarse)]
    return new_m, alphas[~on_coarse], weights[~on_coarse], float(scale.mean())


class AumannShapley(DoI):
    """The linear distribution of interest, evaluated by a quadrature rule.

    Args:
        resolution: m, the number of steps of the rule (>= 1); with ``tolerance``, the
            starting resolution.
        ignore_difference_term: True returns the influence (average gradient),
            False the attribution (average gradient times (instance - baseline)).
        baseline: the path's start z' in the slice's own space, broadcastable to
            one instance; None means zeros.
        points_per_call: how many path points (over all instances) go through the
            gradient function at once; None (default): as many as keep the layer
            outputs above the slice within :data:`chain.doi.FLOATS_PER_CALL` (10 pixel
            points of VGG16, 96 conv4_1 points). The result does not depend on it
            beyond float rounding.
        method: the quadrature rule (:func:`quadrature`): ``riemann_right`` (default,
            IG's eq. 3), ``riemann_left``, ``riemann_middle``, ``trapezoid``,
            ``gausslegendre`` or ``trapezoid_cosine``.
        tolerance: None (default) evaluates the rule at ``resolution``. A number t > 0
            raises each instance's resolution (:func:`refinement`) until its relative
            completeness gap |sum attribution - (Q(z) - Q(z'))| / |Q(z) - Q(z')| is
            below t, or ``max_resolution`` is reached.
        max_resolution: the cap of the adaptive resolution (default 16 x resolution).

    After each :meth:`get_attributions` call, ``last_delta`` holds the completeness
    gap per instance, ``last_relative_gap`` the relative gap, ``last_resolution`` the
    resolution used and ``last_points`` the number of path points evaluated.
    """

    def __init__(self, resolution=50, ignore_difference_term=False, baseline=None,
                 points_per_call=None, method="riemann_right", tolerance=None,
                 max_resolution=None):
        if int(resolution) < 1:
            raise ValueError("resolution must be >= 1 (number of Riemann steps), got %r"
                             % (resolution,))
        super().__init__(ignore_difference_term, baseline, "points_per_call", points_per_call)
        self.resolution = int(resolution)
        self.method = _check_rule(method)
        if tolerance is not None and not float(tolerance) > 0:
            raise ValueError("tolerance is a relative completeness gap > 0 (e.g. 0.01 for "
                             "1%%), or None for a fixed resolution; got %r" % (tolerance,))
        self.tolerance = None if tolerance is None else float(tolerance)
        if max_resolution is not None and int(max_resolution) < self.resolution:
            raise ValueError("max_resolution (%r) must be >= resolution (%d)"
                             % (max_resolution, self.resolution))
        self.max_resolution = None if max_resolution is None else int(max_resolution)
        self.last_relative_gap = None
        self.last_resolution = None
        self.last_points = None

    # -- evaluation ---------------------------------------------------------
    def _weighted_sums(self, instances, base, alphas, weights, rows=None, progress=False):
        """sum_k w_k dQ/dz(z' + a_k (z - z')) for the instances ``rows`` (all by
        default), in float64. With an affine head (:meth:`compile`) the path runs in
        the head's output space y = A(z) and the sums are pulled back by W^T once."""
        # BEGIN SOLUTION
        fns = self._require_compiled()
        rows = np.arange(len(instances)) if rows is None else np.asarray(rows)
        per_instance_base = base.shape == instances.shape
        x = instances[rows]
        b = base[rows] if per_instance_base else base
        head = fns.head
        if head is None:
            return self._path_sums(fns.gradient, x, b, alphas, weights, progress)
        y = self._batched(head.forward, x)
        yb = self._batched(head.forward, b) if per_instance_base else head.forward(b[None])[0]
        sums_y = self._path_sums(head.gradient, y, yb, alphas, weights, progress)
        return self._batched(head.adjoint, x, sums_y.astype(x.dtype)).astype(np.float64)
        # END SOLUTION

    def _batched(self, fn, *arrays):
        """fn over ``points_per_call`` rows of the arrays at a time, concatenated."""
        n, step = len(arrays[0]), self.per_call
        return np.concatenate([fn(*(a[i:i + step] for a in arrays)) for i in range(0, n, step)])

    def _path_sums(self, fgrad, instances, base, alphas, weights, progress=False):
        """sum_k w_k fgrad(z' + a_k (z - z')) per instance, in float64, streaming
        (instance, point) pairs through ``fgrad`` ``points_per_call`` at a time. Equal
        weights are applied once at the end (the plain Riemann sum, as before the
        rules existed)."""
        # BEGIN SOLUTION
        per_instance_base = base.shape == instances.shape
        sums = np.zeros(instances.shape, dtype=np.float64)
        uniform = bool(np.all(weights == weights[0]))
        a_cast = alphas.astype(instances.dtype)
        pairs = [(r, k) for r in range(len(instances)) for k in range(len(alphas))]
        step = self.per_call
        chunks = range(0, len(pairs), step)
        shape = (-1,) + (1,) * (instances.ndim - 1)
        for start in _progress(chunks, desc="path gradients", unit="chunk",
                               disable=not progress, summary=False):
            chunk = pairs[start:start + step]
            r = np.array([i for i, _ in chunk])
            ks = [k for _, k in chunk]
            a = a_cast[ks].reshape(shape)
            # r is sorted: each instance's run of rows [s, e) is built and summed at
            # once, z' + a (z - z') written in place (gathering z[r] first, or
            # np.add.reduceat over the rows, took 5 ms of a 50 ms conv4_1 point)
            first, starts = np.unique(r, return_index=True)
            runs = list(zip(first, starts, np.append(starts[1:], len(r))))
            points = np.empty((len(chunk),) + instances.shape[1:], dtype=self._dtype)
            for i, s, e in runs:
                b = base[i] if per_instance_base else base
                np.multiply(a[s:e], instances[i] - b, out=points[s:e])
                points[s:e] += b
            grads = fgrad(points)
            if not uniform:
                grads = grads * weights[ks].reshape(shape)
            for i, s, e in runs:
                sums[i] += np.add.reduce(grads[s:e], axis=0, dtype=np.float64)
        if uniform and weights[0] == 1.0 / len(weights):
            sums /= len(weights)            # the Riemann sum's 1/m, exactly as before
        elif uniform:
            sums *= weights[0]
        return sums
        # END SOLUTION

    def average_gradients(self, instances, baseline=None, progress=False):
        """sum_k w_k dQ/dz at z' + a_k (z - z') for every instance: the rule's
        approximation of int_0^1 dQ/dz(z' + a (z - z')) da at ``resolution``
        ((1/m) sum_{k=1..m} dQ/dz(z' + k/m (z - z')) for the default right Riemann sum).

        Points of all instances are streamed through the gradient function in chunks
        of ``points_per_call``; per-instance sums are accumulated in float64.

        Returns:
            (average gradient like ``instances``, the baseline used).
        """
        # BEGIN SOLUTION
        self._require_compiled()
        instances = check_instances(instances, self._dtype)
        base = self._baseline_for(instances, baseline)
        alphas, weights = quadrature(self.method, self.resolution)
        sums = self._weighted_sums(instances, base, alphas, weights, progress=progress)
        self.last_resolution = np.full(len(instances), self.resolution)
        self.last_points = np.full(len(instances), len(alphas))
        return sums.astype(instances.dtype), base
        # END SOLUTION

    def get_attributions(self, instances, baseline=None, return_convergence_delta=False,
                         progress=False):
        """Aumann-Shapley attributions (or influence) of Q at each instance:
        (z - z') * sum_k w_k dQ/dz(z' + a_k (z - z')).

        Args:
            instances: array (N, ...) of points in the slice's space.
            baseline: overrides the constructor's baseline for this call.
            return_convergence_delta: also return the completeness gap per instance,
                sum(attribution) - (Q(z) - Q(z')) (Captum's convergence delta).
                For influence (ignore_difference_term) the gap is computed for the
                attribution that influence implies.
            progress: show progress over the chunks.
        Returns:
            array like ``instances`` (and the (N,) gap if asked). ``last_resolution``
            tells each instance's resolution (with ``tolerance``: the one reached),
            ``last_relative_gap`` its relative gap |gap| / |Q(z) - Q(z')|.
        """
        # BEGIN SOLUTION
        if self.tolerance is not None:
            return self._adaptive(instances, baseline, return_convergence_delta, progress)
        avg, base = self.average_gradients(instances, baseline, progress)
        instances = np.asarray(instances, dtype=avg.dtype)
        attribution = avg * (instances - base)
        dq = self._quantity_change(instances, base)
        total = attribution.reshape(len(attribution), -1).sum(axis=1, dtype=np.float64)
        self.last_delta = total - dq
        self.last_relative_gap = _relative(self.last_delta, dq)
        result = avg if self.ignore_difference_term else attribution
        if return_convergence_delta:
            return result, self.last_delta
        return result
        # END SOLUTION

    def _adaptive(self, instances, baseline, return_convergence_delta, progress):
        """Raise each instance's resolution until its relative gap is below the
        tolerance or the resolution reaches the cap (:func:`refinement`)."""
        # BEGIN SOLUTION
        self._require_compiled()
        x = check_instances(instances, self._dtype)
        base = self._baseline_for(x, baseline)
        n = len(x)
        cap = self.max_resolution or 16 * self.resolution
        dq = self._quantity_change(x, base)
        alphas, weights = quadrature(self.method, self.resolution)
        sums = self._weighted_sums(x, base, alphas, weights, progress=progress)
        diff = x - base
        res = np.full(n, self.resolution)
        points = np.full(n, len(alphas))
        while True:
            attribution = sums.astype(x.dtype) * diff
            gap = attribution.reshape(n, -1).sum(axis=1, dtype=np.float64) - dq
            rel = _relative(gap, dq)
            m = int(res.max())   # every instance still refining shares one resolution
            nxt = refinement(self.method, m)
            todo = np.flatnonzero((rel >= self.tolerance) & (res == m) & (nxt[0] <= cap))
            if len(todo) == 0:
                break
            m_next, new_a, new_w, scale = nxt
            new = self._weighted_sums(x, base, new_a, new_w, rows=todo, progress=progress)
            sums[todo] = scale * sums[todo] + new
            res[todo] = m_next
            points[todo] += len(new_a)
        avg = sums.astype(x.dtype)
        self.last_delta, self.last_relative_gap = gap, rel
        self.last_resolution, self.last_points = res, points
        result = avg if self.ignore_difference_term else attribution
        if return_convergence_delta:
            return result, self.last_delta
        return result
        # END SOLUTION


def _relative(gap, dq):
    gap, dq = np.abs(gap), np.abs(dq)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(dq > 0, gap / np.where(dq > 0, dq, 1.0),
                        np.where(gap > 0, np.inf, 0.0))


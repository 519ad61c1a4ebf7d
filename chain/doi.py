"""The distribution of interest (DoI) that every attribution method of the chain is.

Leino et al. (2018, Definition 1): the influence of a slice element z_j on a quantity
of interest Q under a distribution of interest P is

    chi_j(Q, P) = E_{z ~ P} [ dQ/dz_j (z) ],

and the *attribution* multiplies it by the difference term (z - z'). :class:`DoI`
holds what every P shares: the compiled dQ/dz and Q at the slice (:mod:`chain.compiled`,
one table per (Q, slice, head), shared between the DoIs of one ``Explanation``), the
baseline z' and the difference term, how many rows go through one compiled call, and
the completeness gap. Each DoI adds only its own parameters: the straight path
(:class:`AumannShapley.AumannShapley`: resolution, quadrature rule, tolerance), the point
and the Gaussian (:mod:`methods.distributions`), LRP's relevance (:mod:`methods.lrp`).
"""
import hw3_env  # noqa: F401  (must come before theano)

import numpy as np
import theano

from chain.checks import check_positive
from chain.compiled import compile_quantity, compile_stacked

#: With ``per_call=None``, a compiled call takes as many rows as keep the layer outputs
#: above the slice within this many floats (1 GB in float32): 10 pixel points of
#: VGG16 (24.8 M floats each), 96 conv4_1 points (2.6 M; fewer calls re-read the dense
#: layers' 411 MB of weights fewer times) ...
FLOATS_PER_CALL = 250_000_000
#: ... but at most this many rows, ...
MAX_ROWS_PER_CALL = 100
#: ... and this many when the graph's layer sizes are unknown.
DEFAULT_ROWS_PER_CALL = 10


def rows_per_call(floats_per_row):
    """Rows per compiled call for a graph holding ``floats_per_row`` floats per row (0:
    unknown): FLOATS_PER_CALL // floats_per_row, between 1 and MAX_ROWS_PER_CALL."""
    if not floats_per_row:
        return DEFAULT_ROWS_PER_CALL
    return int(min(MAX_ROWS_PER_CALL, max(1, FLOATS_PER_CALL // floats_per_row)))


class DoI(object):
    """Base of the distributions of interest.

    Args:
        ignore_difference_term: True returns the influence chi (the expected gradient),
            False the attribution chi * (z - z').
        baseline: z' in the slice's own space, broadcastable to one instance (or one
            per instance); None means zeros.
        per_call_name: the name of the subclass's parameter that counts the rows of one
            compiled call (``points_per_call`` for the path and the Gaussian,
            ``images_per_call`` for the point DoIs); the value is kept under that name.
        per_call: its value, an int >= 1, or None for as many as
            :data:`FLOATS_PER_CALL` allows (:func:`rows_per_call`, decided at compile
            time). The result does not depend on it beyond float rounding.

    After each ``get_attributions`` call, ``last_delta`` holds the completeness gap per
    instance (NaN where the DoI has none).
    """

    #: the Theano compile mode of the DoI's functions (None: Theano's default); a DoI
    #: whose arithmetic needs it can leave out an optimization
    #: (:attr:`methods.lrp.LRPRelevance.mode` leaves out Winograd's convolutions)
    mode = None

    def __init__(self, ignore_difference_term, baseline, per_call_name, per_call):
        self.ignore_difference_term = bool(ignore_difference_term)
        self.baseline = baseline
        self._per_call_name = per_call_name
        setattr(self, per_call_name,
                None if per_call is None else check_positive(per_call_name, per_call))
        self._compiled = {}
        self._fns = None
        self._dtype = theano.config.floatX
        self.last_delta = None

    @property
    def per_call(self):
        """Rows (path points, noisy points, images) per compiled call: the set count,
        or (None) what :func:`rows_per_call` allows for the compiled graph."""
        value = getattr(self, self._per_call_name)
        if value is not None:
            return int(value)
        return rows_per_call(self._fns.floats_per_row if self._fns is not None else 0)

    # -- compilation --------------------------------------------------------
    def compile(self, Q, inpt, head=None):
        """Build the gradient of Q with respect to the slice variable, once.

        Args:
            Q: symbolic vector (batch,): the quantity of interest per instance.
            inpt: the symbolic slice variable z that Q depends on (a graph input
                such as ``model.input`` or an internal tensor such as
                ``model.layers[19].input``). It is replaced by a fresh input
                variable, so the part of the network below the slice never runs.
            head: a :class:`chain.affine_head.AffineHead` of the slice, or None. With a
                head, the path is evaluated past its affine layers (``A`` and its
                transpose once per instance, not per point); ``gradient`` and
                ``quantity`` still take and return points of the slice.
            A tuple of K quantities compiles them stacked
            (:func:`chain.compiled.compile_stacked`): instances are then (N, K, ...),
            K identical copies of each, one per quantity.
        Returns:
            self. Compiling the same (Q, inpt, head) again reuses the compiled functions.
        """
        key = (Q, inpt, head)
        if key not in self._compiled:
            if isinstance(Q, tuple):
                self._compiled[key] = compile_stacked(Q, inpt, head, mode=self.mode)
            else:
                self._compiled[key] = compile_quantity(Q, inpt, head, mode=self.mode)
        self._fns = self._compiled[key]
        self._dtype = self._fns.dtype
        return self

    def share_compiled(self, other):
        """Let the DoI ``other`` evaluate with this one's compiled functions (a DoI that
        delegates its arithmetic to another, e.g. the point to the one-step path).

        Returns:
            other.
        """
        other._compiled, other._fns, other._dtype = self._compiled, self._fns, self._dtype
        return other

    def _require_compiled(self):
        if self._fns is None:
            raise RuntimeError("call compile(Q, inpt) before get_attributions()")
        return self._fns

    def gradient(self, z):
        """dQ/dz at a batch of points z (no path, no chunking)."""
        return self._require_compiled().gradient(np.asarray(z, dtype=self._dtype))

    def quantity(self, z):
        """Q at a batch of points z."""
        return self._require_compiled().quantity(np.asarray(z, dtype=self._dtype))

    def quantities(self, z):
        """Each of K stacked quantities at a batch of stacked points z (rows, K, ...):
        (rows, K)."""
        fns = self._require_compiled()
        if fns.quantities is None:
            raise RuntimeError("quantities() needs stacked quantities: compile a tuple")
        return fns.quantities(np.asarray(z, dtype=self._dtype))

    # -- baseline and completeness -------------------------------------------
    def _baseline_for(self, instances, baseline):
        base = self.baseline if baseline is None else baseline
        if base is None:
            return np.zeros(instances.shape[1:], dtype=instances.dtype)
        base = np.asarray(base, dtype=instances.dtype)
        if base.shape == instances.shape:
            return base
        try:
            return np.broadcast_to(base, instances.shape[1:]).astype(instances.dtype)
        except ValueError:
            raise ValueError("baseline of shape %r does not broadcast to one instance of "
                             "shape %r" % (base.shape, instances.shape[1:]))

    def _quantity_change(self, instances, base):
        """Q(z) - Q(z') per instance, in float64 (one batched call)."""
        base = base if base.shape == instances.shape else base[None]
        both = self.quantity(np.concatenate([instances, base]))
        q, qb = both[:len(instances)], both[len(instances):]
        return q.astype(np.float64) - qb.astype(np.float64)

    def completeness_gap(self, attribution, instances, base):
        """sum_j attribution_j - (Q(z) - Q(z')) per instance."""
        total = attribution.reshape(len(attribution), -1).sum(axis=1, dtype=np.float64)
        return (total - self._quantity_change(instances, base)).astype(np.float64)

    def get_attributions(self, instances, baseline=None, return_convergence_delta=False,
                         progress=False):
        """Influence (or attribution) of Q at each instance (N, ...) of the slice.

        Returns:
            array like ``instances`` (and the (N,) completeness gap if asked).
        """
        raise NotImplementedError

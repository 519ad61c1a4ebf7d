"""Influence-directed explanations (Leino et al. 2018) as compositions of a slice, a
quantity of interest (QoI) and a distribution of interest (DoI).

* The **slice** s = <g, h> at layer i splits the model f = g o h with
  h = layers[:i] and g = layers[i:]; z = h(x) is ``model.layers[i].input``.
  ``for_input()`` is the trivial slice z = x (pixel attributions, as in IG).
* The **QoI** is a scalar function of the model's tensors: the class score s_c
  (``absolute``), the difference s_c1 - s_c2 (``comparative``), or the summed
  activation of chosen channels of an internal layer (``for_neurons``, to draw an
  internal neuron's influence on the pixels, handout 3.3).
* The **DoI** is the attribution method's path from a baseline to each instance
  (:class:`AumannShapley.AumannShapley`), and for class-level explanations the mean
  over the class's images (the slides' definition).

Usage::

    expl = Explanation(model).for_layer(19).comparative(817, 511)
    data = expl.explain_class(sports_car_inputs)        # ExplanationData
    neurons, scores = top_neurons(data.attribution, k=1)

h(x) runs once per image; the interpolation happens in the slice's space and only g
runs per path point. Where g opens with affine layers (conv4_2's padding and
convolution above conv4_1), they run once per image too (:class:`AffineHead`): the
path is interpolated past them and the gradient pulled back through their transpose. Linear QoIs share one compiled gradient per (slice, tensor read):
switching class or channels changes a shared weight, not the graph.
"""
import hw3_env  # noqa: F401  (must come before keras/theano)

from dataclasses import dataclass, field
from typing import Optional

import numpy as np
import theano
import theano.tensor as T
from AumannShapley import AumannShapley
from chain.affine_head import AffineHead
from chain.checks import check_class, check_inputs, check_layer, check_slice
from notebook_tools.progress import progress

K = hw3_env.setup()


@dataclass
class ExplanationData:
    """What an explanation returns.

    Attributes:
        attribution: attributions (or influence, with ``ignore_difference_term``) in
            the slice's space: (N, ...) per instance, or (...) for a class.
        instance: the model inputs that were explained (N, 3, H, W), or None for a
            class-level explanation.
        delta: completeness gap per instance, sum(attribution) - (Q(z) - Q(z')).
        quantity: a short description of the QoI.
    """
    attribution: np.ndarray
    instance: Optional[np.ndarray] = None
    delta: Optional[np.ndarray] = None
    quantity: str = field(default="")


# ---------------------------------------------------------------------------
# Quantities of interest
# ---------------------------------------------------------------------------
class LinearQoI(object):
    """Q(x) = <w, t(x)>: a fixed linear functional of one tensor t of the model.

    Subclasses name the tensor (``target``) and the weights (``weights``); the
    gradient graph depends only on the tensor, so it is compiled once per slice and
    tensor and reused for every class or channel choice.
    """

    def target(self, model):
        raise NotImplementedError

    def target_key(self):
        raise NotImplementedError

    def weights(self, model):
        raise NotImplementedError

    def layer_index(self):
        """Index of the layer whose *input* the QoI reads (None: the scores)."""
        return None

    def describe(self, class_names=None):
        """A label for readers; classes by name when ``class_names`` is given."""
        return str(self)


def _n_classes(model):
    return int(model.output_shape[-1])


def class_label(class_names, c):
    """The name of class c, or its index when there are no names."""
    if class_names is not None and 0 <= int(c) < len(class_names):
        return str(class_names[int(c)])
    return str(int(c))


class ClassQoI(LinearQoI):
    """Q = s_c, the (linear) score of class c at the last layer."""

    def __init__(self, c):
        self.c = c

    def target(self, model):
        return model.output

    def target_key(self):
        return "scores"

    def weights(self, model):
        # BEGIN SOLUTION
        w = np.zeros(_n_classes(model), dtype=np.float32)
        w[check_class(model, self.c)] = 1.0
        return w
        # END SOLUTION

    def __str__(self):
        return "s_%d" % self.c

    def describe(self, class_names=None):
        return "s_%s" % class_label(class_names, self.c)


class ComparativeQoI(ClassQoI):
    """Q = s_c1 - s_c2: what distinguishes class c1 from class c2."""

    def __init__(self, c1, c2):
        self.c1, self.c2 = c1, c2

    def weights(self, model):
        # BEGIN SOLUTION
        w = np.zeros(_n_classes(model), dtype=np.float32)
        w[check_class(model, self.c1)] += 1.0
        w[check_class(model, self.c2)] -= 1.0
        return w
        # END SOLUTION

    def __str__(self):
        return "s_%d - s_%d" % (self.c1, self.c2)

    def describe(self, class_names=None):
        return "s_%s - s_%s" % (class_label(class_names, self.c1),
                                class_label(class_names, self.c2))


class ChannelQoI(LinearQoI):
    """Q = sum of the activations of ``channels`` of ``model.layers[layer].input``
    over their whole maps: the internal neurons' total activation (handout 3.3)."""

    def __init__(self, layer, channels):
        self.layer = int(layer)
        self.channels = np.atleast_1d(np.asarray(channels, dtype=int))

    def target(self, model):
        check_layer(model, self.layer)
        return model.layers[self.layer].input

    def target_key(self):
        return "layer%d" % self.layer

    def layer_index(self):
        return self.layer

    def weights(self, model):
        shape = K.int_shape(self.target(model))[1:]
        if len(self.channels) == 0 or self.channels.min() < 0 or self.channels.max() >= shape[0]:
            raise ValueError("channels %r are outside layer %d's input, which has %d channels"
                             % (self.channels.tolist(), self.layer, shape[0]))
        w = np.zeros(shape, dtype=np.float32)
        w[self.channels] = 1.0
        return w

    def __str__(self):
        return "sum of layer %d channels %s" % (self.layer, self.channels.tolist())


# ---------------------------------------------------------------------------
# Explanation chain: model -> slice -> quantity -> explain
# ---------------------------------------------------------------------------
class Explanation(object):
    """Entry point: ``Explanation(model, method).for_layer(i)`` or ``.for_input()``.

    Args:
        model: a Keras model (the course's VGG16 layout or any Sequential).
        attribution_method: an :class:`AumannShapley` (default: resolution 50,
            attributions). Its resolution, baseline and difference term apply to
            every explanation made from this object.
        class_names: one name per output class, used in labels and progress
            (default: ``model.class_names`` when the world set it, else indices).
        fold_affine: evaluate path gradients past the affine layers that open g
            (:class:`AffineHead`; the same result up to float rounding, a third less
            arithmetic per point at conv4_1). False evaluates g itself at every point.
    """

    def __init__(self, model, attribution_method=None, class_names=None, fold_affine=True):
        self.model = model
        self.fold_affine = bool(fold_affine)
        self.attribution_method = attribution_method or AumannShapley()
        self.class_names = (list(class_names) if class_names is not None
                            else getattr(model, "class_names", None))
        self._linear = {}   # (target key, K) -> (K symbolic Qs, their shared weights)
        self._slices = {}   # layer -> ExplanationForLayer (its h and g compile once)

    def for_layer(self, layer):
        """The slice at ``layer``: z = model.layers[layer].input."""
        return self._slice(check_layer(self.model, layer))

    def for_input(self):
        """The trivial slice z = x: attributions to the input pixels (IG)."""
        return self._slice(None)

    def using(self, attribution_method):
        """Switch the distribution of interest, keeping everything compiled.

        The gradient of a quantity at a slice depends on (Q, slice), not on the DoI
        that chooses where it is evaluated, so every DoI used through this object
        shares one table of compiled functions: the point, Gaussian and path DoIs of
        one model compile each (Q, slice) once.

        Args:
            attribution_method: a DoI (:class:`chain.doi.DoI`: ``AumannShapley``,
                ``Point``, ``Gaussian``, ``LRPRelevance``).
        Returns:
            self, now explaining with ``attribution_method``.
        """
        shared = self.__dict__.setdefault("_compiled_by_doi", {})
        attribution_method._compiled = shared
        self.attribution_method = attribution_method
        return self

    def _slice(self, layer):
        if layer not in self._slices:
            self._slices[layer] = ExplanationForLayer(self, layer)
        return self._slices[layer]

    def _linear_quantity(self, qoi):
        return self._linear_quantities([qoi])[0]

    def _linear_quantities(self, qois):
        """K linear quantities of one tensor as K symbolic Qs with their own shared
        weights (one for a plain explanation; K for :func:`chain.compiled.compile_stacked`),
        built once per (tensor, K); each call sets the weights."""
        key = (qois[0].target_key(), len(qois))
        if any(q.target_key() != key[0] for q in qois):
            raise ValueError("stacked quantities must read one tensor, got %s"
                             % sorted({q.target_key() for q in qois}))
        if key not in self._linear:
            t = qois[0].target(self.model)
            shape = K.int_shape(t)[1:]
            ws = [theano.shared(np.zeros(shape, dtype=np.float32),
                                name="qoi_weights_%s_%d" % (key[0], i)) for i in range(key[1])]
            qs = tuple(T.sum(t * T.shape_padleft(w), axis=list(range(1, len(shape) + 1)))
                       for w in ws)
            self._linear[key] = (qs, ws)
        qs, ws = self._linear[key]
        for w, qoi in zip(ws, qois):
            w.set_value(qoi.weights(self.model))
        return qs


class ExplanationForLayer(object):
    """A slice <g, h> of the model; choose the quantity of interest next."""

    def __init__(self, explanation, layer):
        self.explanation = explanation
        self.model = explanation.model
        self.layer = layer
        self.variable = self.model.input if layer is None else self.model.layers[layer].input
        self._h = None
        self._g = None
        self._head = False   # not looked up yet

    @property
    def shape(self):
        """Shape of one instance in the slice's space, e.g. (512, 28, 28)."""
        return tuple(K.int_shape(self.variable)[1:])

    def affine_head(self):
        """The :class:`AffineHead` folded out of the path at this slice, or None."""
        if self._head is False:
            self._head = (AffineHead.of(self.model, self.layer)
                          if self.explanation.fold_affine else None)
        return self._head

    # -- the two halves -----------------------------------------------------
    def h(self, x, images_per_call=16):
        """z = h(x): the slice's activations for model inputs x (N, 3, H, W),
        ``images_per_call`` at a time."""
        # BEGIN SOLUTION
        x = check_inputs(self.model, x)
        if self.layer is None:
            return x
        if self._h is None:
            self._h = theano.function([self.model.input], self.variable)
        step = images_per_call
        return np.concatenate([self._h(x[i:i + step]) for i in range(0, len(x), step)])
        # END SOLUTION

    def g(self, z, images_per_call=16):
        """Class scores g(z) for slice activations z (N, ...), ``images_per_call`` at a
        time."""
        # BEGIN SOLUTION
        z = check_slice(self, z)
        if self._g is None:
            v = self.variable.type("z")
            self._g = theano.function([v], theano.clone(self.model.output,
                                                        replace={self.variable: v}))
        step = images_per_call
        return np.concatenate([self._g(z[i:i + step]) for i in range(0, len(z), step)])
        # END SOLUTION

    # -- quantities of interest ---------------------------------------------
    def for_quantity(self, qoi):
        """Explain a quantity of interest: a :class:`LinearQoI`, or a function
        ``model -> symbolic vector (batch,)`` for any other quantity."""
        return ExplanationForQuantity(self, qoi)

    def absolute(self, c):
        """Q = s_c, the score of class c (handout 5.1)."""
        # BEGIN SOLUTION
        check_class(self.model, c)
        return self.for_quantity(ClassQoI(c))
        # END SOLUTION

    def comparative(self, c1, c2):
        """Q = s_c1 - s_c2 (handout 6.1)."""
        # BEGIN SOLUTION
        check_class(self.model, c1)
        check_class(self.model, c2)
        return self.for_quantity(ComparativeQoI(c1, c2))
        # END SOLUTION

    def for_neurons(self, layer, channels):
        """Q = summed activation of ``channels`` at ``model.layers[layer].input``:
        explains internal neurons in terms of this slice (handout 3.3)."""
        check_layer(self.model, layer)
        if self.layer is not None and layer <= self.layer:
            raise ValueError("the neurons' layer (%d) must lie above the slice (layer %d)"
                             % (layer, self.layer))
        qoi = ChannelQoI(layer, channels)
        qoi.weights(self.model)  # validates the channels now
        return self.for_quantity(qoi)


class ExplanationForQuantity(object):
    """A slice and a quantity of interest; ``explain`` evaluates the DoI."""

    def __init__(self, slice_, qoi):
        self.slice = slice_
        self.qoi = qoi
        self.method = slice_.explanation.attribution_method
        self._custom_q = None   # a custom QoI's symbolic graph, built once

    @property
    def label(self):
        """The quantity for readers, classes by name (``s_sports car - s_convertible``)."""
        describe = getattr(self.qoi, "describe", None)
        return describe(self.slice.explanation.class_names) if describe else str(self.qoi)

    def _compile(self):
        model = self.slice.model
        if isinstance(self.qoi, LinearQoI):
            q = self.slice.explanation._linear_quantity(self.qoi)
        elif callable(self.qoi):
            # Built once: a new graph per call would defeat the method's compile cache.
            if self._custom_q is None:
                self._custom_q = self.qoi(model)
            q = self._custom_q
        else:
            raise ValueError("a quantity of interest is a LinearQoI or a function "
                             "model -> symbolic vector, got %r" % (self.qoi,))
        self.method.compile(q, self.slice.variable, head=self.slice.affine_head())

    def compiled(self):
        """Compile the quantity now and return the method, whose ``gradient(z)`` and
        ``quantity(z)`` evaluate dQ/dz and Q at any points z of the slice (what
        gradient ascent on the slice, e.g. activation maximisation, needs)."""
        self._compile()
        return self.method

    def explain(self, instances, baseline=None):
        """Explanations of each instance (the DoI: the path from the baseline).

        Args:
            instances: model inputs (N, 3, H, W) or one (3, H, W), float32.
            baseline: the path's start in the slice's space (default: the method's).
        Returns:
            ExplanationData with attribution (N, *slice shape), the instances and the
            completeness gaps.
        """
        # BEGIN SOLUTION
        x = check_inputs(self.slice.model, instances)
        z = self.slice.h(x)
        self._compile()
        attr, delta = self.method.get_attributions(z, baseline=baseline,
                                                   return_convergence_delta=True)
        return ExplanationData(attr, x, delta, self.label)
        # END SOLUTION

    def explain_activations(self, z, baseline=None):
        """As :meth:`explain`, from slice activations z = h(x) already computed (a
        caller that also needs z, such as a CAM's weighted sum of the activation
        maps, runs h once).

        Args:
            z: slice activations (N, *slice shape).
            baseline: the path's start in the slice's space (default: the method's).
        Returns:
            ExplanationData with attribution like z, instance None, and the gaps.
        """
        z = check_slice(self.slice, z)
        self._compile()
        attr, delta = self.method.get_attributions(z, baseline=baseline,
                                                   return_convergence_delta=True)
        return ExplanationData(attr, None, delta, self.label)

    def explain_class(self, instances, baseline=None, desc=None):
        """The class-level explanation: the mean of the per-instance explanations
        over ``instances``, accumulated a group of ``method.per_call`` images at a
        time (memory does not grow with the number of images; h and the completeness
        check run once per group).

        Returns:
            ExplanationData with attribution of the slice's shape, instance None and
            the completeness gap of every instance.
        """
        # BEGIN SOLUTION
        x = check_inputs(self.slice.model, instances)
        total = np.zeros(self.slice.shape, dtype=np.float64)
        deltas = []
        self._compile()
        group = max(1, int(getattr(self.method, "per_call", 1)))
        with progress(total=len(x), desc=desc or "explaining %s" % self.label,
                      unit="image") as bar:
            for i in range(0, len(x), group):
                z = self.slice.h(x[i:i + group])
                attr, delta = self.method.get_attributions(z, baseline=baseline,
                                                           return_convergence_delta=True)
                total += attr.sum(axis=0, dtype=np.float64)
                deltas.extend(delta)
                bar.update(len(z))
        return ExplanationData((total / len(x)).astype(np.float32), None,
                               np.asarray(deltas), self.label)
        # END SOLUTION


def explanation_of(model, key="default", method=None):
    """The :class:`Explanation` of ``model`` kept with the model, one per ``key``.

    Every caller (the homeworks' wrappers, the comparison) reuses its compiled slices
    and gradients instead of compiling them per call, and the cache goes when the
    model goes.

    Args:
        model: the Keras model.
        key: which of the model's explanations (callers that hold on to theirs use
            their own key).
        method: the DoI to explain with from now on (:meth:`Explanation.using`);
            None keeps the current one.
    Returns:
        the :class:`Explanation`.
    """
    cache = model.__dict__.setdefault("_explanations", {})
    if key not in cache:
        cache[key] = Explanation(model)
    return cache[key] if method is None else cache[key].using(method)


# ---------------------------------------------------------------------------
# Top neurons (handout 3.2)
# ---------------------------------------------------------------------------
_REDUCERS = {"max": np.max, "mean": np.mean, "sum": np.sum, "min": np.min}


def neuron_scores(attribution, by="max"):
    """One score per channel of a slice attribution (C, H, W): the max of the
    channel's map (handout 3.2), or its mean, sum or min (the most negative value,
    the mirror of max for ranking negative influence)."""
    # BEGIN SOLUTION
    a = np.asarray(attribution)
    if a.ndim == 4 and len(a) == 1:
        a = a[0]
    if a.ndim == 1:
        return a.astype(np.float64)
    if a.ndim != 3:
        raise ValueError("attribution must be (C, H, W), (C,) or (1, C, H, W), got %r"
                         % (a.shape,))
    if by not in _REDUCERS:
        raise ValueError("by must be one of %s, got %r" % (sorted(_REDUCERS), by))
    return _REDUCERS[by](a.reshape(len(a), -1).astype(np.float64), axis=1)
    # END SOLUTION


def top_neurons(attribution, k=10, by="max", largest=True):
    """The k most influential channels of a slice attribution.

    Args:
        attribution: (C, H, W) attribution of one instance or a class.
        k: how many.
        by: 'max' (default, handout 3.2), 'mean', 'sum' or 'min' of each channel's map.
        largest: False ranks the most negative first.
    Returns:
        (indices, scores), highest score first, ties broken by lower index.
    """
    # BEGIN SOLUTION
    scores = neuron_scores(attribution, by)
    if not 1 <= int(k) <= len(scores):
        raise ValueError("k must be in 1..%d, got %r" % (len(scores), k))
    key = -scores if largest else scores
    order = np.lexsort((np.arange(len(scores)), key))[:int(k)]
    return order, scores[order]
    # END SOLUTION


def explain_neurons(explanation, layer, neurons, instances):
    """Pixel attributions toward each of several internal neurons (handout 3.3).

    Each neuron is explained on its own, as ``for_input().for_neurons(layer, [n])``
    would. With a fixed-resolution :class:`AumannShapley` from the zero baseline (the
    default), the neurons share each path point's forward pass: the path runs once
    over K copies of each instance, one per neuron (:func:`chain.compiled.compile_stacked`),
    one forward and K backward passes per point instead of K of each. The maps are
    the same up to float rounding.

    Args:
        explanation: an :class:`Explanation` (its method sets the path and steps).
        layer: the layer whose input holds the neurons (e.g. 19 for conv4_1).
        neurons: channel indices; each is explained on its own.
        instances: model inputs (N, 3, H, W).
    Returns:
        list of ExplanationData, one per neuron, attribution (N, 3, H, W) each, with
        each neuron's own completeness gaps.
    """
    pixels = explanation.for_input()
    quantities = [pixels.for_neurons(layer, [int(n)]) for n in neurons]
    if len(quantities) < 2 or not _stacks(explanation.attribution_method):
        return [q.explain(instances) for q in quantities]
    x = check_inputs(explanation.model, instances)
    attr, delta = _explain_stacked(quantities, x)
    return [ExplanationData(attr[:, k], x, delta[:, k], q.label)
            for k, q in enumerate(quantities)]


def _stacks(method):
    """Whether K quantities can share ``method``'s path points: a fixed-resolution
    :class:`AumannShapley` from the zero baseline (an adaptive one refines per
    quantity)."""
    return (isinstance(method, AumannShapley) and method.tolerance is None
            and method.baseline is None)


def _compile_stacked(quantities):
    """Compile K quantities of one slice stacked; returns their method."""
    first = quantities[0]
    first.method.compile(
        first.slice.explanation._linear_quantities([q.qoi for q in quantities]),
        first.slice.variable, head=first.slice.affine_head())
    return first.method


def _explain_stacked(quantities, z):
    """The K quantities (of one slice) explained at the slice points ``z`` (N, ...) in
    one stacked path (:func:`chain.compiled.compile_stacked`): one forward and K
    backward passes per point.

    Returns:
        (attribution (N, K, ...), completeness gaps (N, K), each quantity's own).
    """
    method = _compile_stacked(quantities)
    stacked = np.repeat(z[:, None], len(quantities), axis=1)
    attr = method.get_attributions(stacked)
    implied = attr * stacked if method.ignore_difference_term else attr   # z' = 0
    dq = method.quantities(stacked) - method.quantities(np.zeros_like(stacked[:1]))
    delta = (implied.reshape(len(z), len(quantities), -1).sum(axis=2, dtype=np.float64)
             - dq.astype(np.float64))
    return attr, delta


def absolute_and_comparative(slice_, c1, c2, x1, x2):
    """The class-level explanations of handout 6.2's two queries at one slice: the
    absolute s_c1 over ``x1`` and the comparative s_c1 - s_c2 over ``x1`` and ``x2``
    together.

    Equal, up to float rounding, to ``slice_.absolute(c1).explain_class(x1)`` and
    ``slice_.comparative(c1, c2).explain_class(np.concatenate([x1, x2]))``. An
    attribution is linear in the quantity, A(s_c1 - s_c2) = A(s_c1) - A(s_c2), and so is
    its completeness gap; on ``x1`` both queries need only A(s_c1) and A(s_c2), which
    share each path point's forward (:func:`chain.compiled.compile_stacked`): one
    forward and two backward passes per point instead of two of each. Methods that
    cannot stack (:func:`_stacks`) explain the two queries one by one.

    Args:
        slice_: an :class:`ExplanationForLayer`, e.g. ``Explanation(model).for_layer(19)``.
        c1, c2: class indices.
        x1, x2: model inputs (N, 3, H, W) of class c1 and of class c2, both checked
            before any is explained.
    Returns:
        (absolute, comparative): class-level ExplanationData as ``explain_class`` gives,
        the comparative's gaps those of x1's images, then x2's.
    """
    absolute, comparative = slice_.absolute(c1), slice_.comparative(c1, c2)
    if not _stacks(slice_.explanation.attribution_method):
        return absolute.explain_class(x1), comparative.explain_class(np.concatenate([x1, x2]))
    x1, x2 = check_inputs(slice_.model, x1), check_inputs(slice_.model, x2)
    both = [absolute, slice_.absolute(c2)]
    sums = np.zeros((2,) + slice_.shape, dtype=np.float64)
    deltas = []
    group = max(1, int(_compile_stacked(both).per_call))
    with progress(total=len(x1), desc="explaining %s and %s" % (absolute.label, both[1].label),
                  unit="image") as bar:
        for i in range(0, len(x1), group):
            attr, delta = _explain_stacked(both, slice_.h(x1[i:i + group]))
            sums += attr.sum(axis=0, dtype=np.float64)
            deltas.append(delta)
            bar.update(len(delta))
    deltas = np.concatenate(deltas)
    rest = comparative.explain_class(x2)
    comp_sum = sums[0] - sums[1] + rest.attribution.astype(np.float64) * len(x2)
    return (ExplanationData((sums[0] / len(x1)).astype(np.float32), None, deltas[:, 0],
                            absolute.label),
            ExplanationData((comp_sum / (len(x1) + len(x2))).astype(np.float32), None,
                            np.concatenate([deltas[:, 0] - deltas[:, 1], rest.delta]),
                            comparative.label))


def most_influential(quantity, instances, k=1, by="max"):
    """The class-level explanation of a quantity and its k most influential neurons.

    Args:
        quantity: an :class:`ExplanationForQuantity` at a layer slice, e.g.
            ``Explanation(model).for_layer(19).comparative(c1, c2)``.
        instances: model inputs (N, 3, H, W): the distribution of interest.
        k, by: as :func:`top_neurons`.
    Returns:
        (indices, data): the top neurons (ints) and the class-level ExplanationData.
    """
    data = quantity.explain_class(instances)
    indices, _ = top_neurons(data.attribution, k=k, by=by)
    return [int(i) for i in indices], data

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
        self._linear = {}   # target key -> (symbolic Q, shared weights)
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
            attribution_method: a DoI (``AumannShapley`` or a subclass).
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
        key = qoi.target_key()
        if key not in self._linear:
            t = qoi.target(self.model)
            shape = K.int_shape(t)[1:]
            w = theano.shared(np.zeros(shape, dtype=np.float32), name="qoi_weights_" + key)
            q = T.sum(t * T.shape_padleft(w), axis=list(range(1, len(shape) + 1)))
            self._linear[key] = (q, w)
        q, w = self._linear[key]
        w.set_value(qoi.weights(self.model))
        return q


class AffineHead(object):
    """The affine layers that open g at a slice, folded out of the path (exact).

    When g = g' o A with A(z) = W z + b affine (zero padding and the linear part of the
    first convolution or dense layer above the slice: its activation belongs to g'),
    the straight path from z' to z is mapped by A onto the straight path from
    y' = A(z') to y = A(z), and the chain rule gives, for any quadrature rule,

        sum_k w_k dQ/dz (z' + a_k (z - z')) = W^T [ sum_k w_k dQ'/dy (y' + a_k (y - y')) ],

    where Q' is Q with the slice's activations replaced by g'. A runs once per
    instance and W^T once per instance and refinement, instead of both once per path
    point. At conv4_1 of VGG16 (A = conv4_2's padding and linear part, 3.7 GFLOP each
    way) that is a third of every path point's arithmetic. The path is then
    interpolated in y instead of z: the same points up to float rounding.

    Args:
        slice_variable: the slice's symbolic tensor z (``model.layers[i].input``).
        layers: the chain of layers above it: zero paddings, then one ``Conv2D`` or
            ``Dense`` layer whose pre-activation is y.
    """

    def __init__(self, slice_variable, layers):
        self.variable = slice_variable
        self.layers = list(layers)
        self.last = self.layers[-1]
        self._fns = None
        self._partial = {}   # masked_outputs: "A" and one function per output tensor

    @classmethod
    def of(cls, model, layer):
        """The head of the slice at ``layer`` (None: the input), or None when g does
        not open with zero padding and a Conv2D or Dense layer (exact Keras classes,
        so rewritten layers such as LRP rules are left alone), when the model is not
        a chain there, or when it would not pay (y larger than z, e.g. conv1_1's 64
        channels above the 3 of the pixels)."""
        from keras.layers import Conv2D, Dense, ZeroPadding2D as KerasPad
        import models as _models
        pads = (KerasPad, _models.ZeroPadding2D)
        layers = model.layers
        start = 0 if layer is None else int(layer)
        z = model.input if layer is None else layers[start].input
        chain, prev = [], z
        for L in layers[start:]:
            if len(getattr(L, "_inbound_nodes", [])) != 1 or L.input is not prev:
                return None
            chain.append(L)
            if type(L) in (Conv2D, Dense):
                break
            if type(L) not in pads:
                return None
            prev = L.output
        else:
            return None
        if np.prod(K.int_shape(chain[-1].output)[1:]) > np.prod(K.int_shape(z)[1:]):
            return None
        return cls(z, chain)

    def pre_activation(self, z):
        """Symbolic y = A(z): the paddings, then the last layer without activation."""
        t = z
        for L in self.layers[:-1]:
            t = L.call(t)
        act, self.last.activation = self.last.activation, None
        try:
            return self.last.call(t)   # Keras' Conv2D/Dense.call skip a None activation
        finally:
            self.last.activation = act

    def rewrite(self, Q):
        """(y, Q'): a fresh variable y for the pre-activation and Q as a function of y
        (None when Q reaches the slice by another route)."""
        y = self.last.output.type("y")
        Qy = theano.clone(Q, replace={self.last.output: self.last.activation(y)})
        def free(v):   # an input a caller must feed (not a weight, not a constant)
            return not isinstance(v, (theano.compile.SharedVariable, theano.gof.Constant))
        below = set(filter(free, theano.gof.graph.inputs([self.variable])))
        if any(v in below for v in theano.gof.graph.inputs([Qy])):
            return None
        return y, Qy

    def masked_outputs(self, output, z, kept, batch_size=16):
        """``output`` (a tensor above the head, e.g. ``model.output``) on the slice
        activations ``z`` with every channel but ``kept`` set to 0, for a convolution
        head: y = b + W[kept] * z[kept] costs |kept|/C of the full convolution (the
        compressed models of Part IV keep a third of conv4_1 on average). None for a
        dense head (its input channels are not the slice's).

        Args:
            output: the symbolic tensor to evaluate (compiled once per tensor).
            z: slice activations (N, C, H, W).
            kept: channel indices (may be empty).
            batch_size: images per call.
        """
        from keras.layers import Conv2D
        if type(self.last) is not Conv2D or self.last.data_format != "channels_first":
            return None
        partial, top = self._partial_functions(output)
        kept = np.asarray(kept, dtype=np.int64)
        kernel = K.get_value(self.last.kernel)[:, :, kept, :]
        if len(kept) == 0:          # y = b: one zero channel with a zero kernel
            z, kernel = z[:, :1] * 0, np.zeros(kernel.shape[:2] + (1,) + kernel.shape[3:],
                                              kernel.dtype)
        else:
            z = z[:, kept]
        return np.concatenate([top(partial(z[i:i + batch_size], kernel))
                               for i in range(0, len(z), batch_size)])

    def _partial_functions(self, output):
        cache = self._partial
        if "A" not in cache:
            zk = self.variable.type("z_kept")
            t = zk
            for L in self.layers[:-1]:
                t = L.call(t)
            L = self.last
            w = T.TensorType(K.dtype(L.kernel), (False,) * 4)("w_kept")
            kh, kw, _, k = K.int_shape(L.kernel)
            w._keras_shape = (kh, kw, None, k)   # else Keras evaluates the shape
            pre = K.conv2d(t, w, strides=L.strides, padding=L.padding,
                           data_format=L.data_format, dilation_rate=L.dilation_rate)
            if L.use_bias:
                pre = K.bias_add(pre, L.bias, data_format=L.data_format)
            cache["A"] = theano.function([zk, w], pre, allow_input_downcast=True)
        if output not in cache:
            y, top = self.rewrite(output)
            cache[output] = theano.function([y], top, allow_input_downcast=True)
        return cache["A"], cache[output]

    def functions(self):
        """Compiled A(z) and W^T dy (with z for the shapes), once per head."""
        if self._fns is None:
            z = self.variable.type("z")
            pre = self.pre_activation(z)
            dy = pre.type("dy")
            adjoint = T.grad(T.sum(pre * dy), z)
            self._fns = (theano.function([z], pre, allow_input_downcast=True),
                         theano.function([z, dy], adjoint, allow_input_downcast=True,
                                         on_unused_input="ignore"))
        return self._fns


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
    def h(self, x, batch_size=16):
        """z = h(x): the slice's activations for model inputs x (N, 3, H, W)."""
        # BEGIN SOLUTION
        x = check_inputs(self.model, x)
        if self.layer is None:
            return x
        if self._h is None:
            self._h = theano.function([self.model.input], self.variable)
        return np.concatenate([self._h(x[i:i + batch_size]) for i in range(0, len(x), batch_size)])
        # END SOLUTION

    def g(self, z, batch_size=16):
        """Class scores g(z) for slice activations z (N, ...)."""
        # BEGIN SOLUTION
        z = check_slice(self, z)
        if self._g is None:
            v = self.variable.type("z")
            self._g = theano.function([v], theano.clone(self.model.output,
                                                        replace={self.variable: v}))
        return np.concatenate([self._g(z[i:i + batch_size]) for i in range(0, len(z), batch_size)])
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
        over ``instances``, accumulated a group of ``method.batch_size`` images at a
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
        group = max(1, int(getattr(self.method, "batch_size", 1)))
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

    Args:
        explanation: an :class:`Explanation` (its method sets the path and steps).
        layer: the layer whose input holds the neurons (e.g. 19 for conv4_1).
        neurons: channel indices; each is explained on its own.
        instances: model inputs (N, 3, H, W).
    Returns:
        list of ExplanationData, one per neuron, attribution (N, 3, H, W) each.
    """
    pixels = explanation.for_input()
    return [pixels.for_neurons(layer, [int(n)]).explain(instances) for n in neurons]


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

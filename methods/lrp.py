"""Layer-wise relevance propagation (LRP) by the gradient trick, as a *model rewrite*.

TU Berlin ML sheet 11 (Montavon et al., "Layer-wise relevance propagation: an
overview", 2019, section 10.2.3): in every convolution the pre-activation z is
replaced by

    z  <-  p * [z / p]_cst                                                    (1)

where ``[.]_cst`` is ``theano.gradient.disconnected_grad``. The forward value is z
(up to the stabiliser), and the gradient that flows back through the layer is
dp/da * z/p, so Gradient x Input on the rewritten graph *is* LRP with the rule that
defines p:

* **first convolution, z^B rule** (pixels bounded by l <= x <= h):
  p_j = sum_i x_i w_ij - l_i w_ij^+ - h_i w_ij^-, written as the sheet's ``ConvPx``:
  p = conv(x; w, b) - conv(l; w^+, b^+) - conv(h; w^-, b^-) (positive and negative
  parts of the bias as well, so the bias cancels in p). The relevance of pixel i is
  R_i = x_i dx_i + l_i dl_i + h_i dh_i, where l and h are the preprocessed images of
  all-0 and all-255 pixels (per channel in our caffe space);
* **every other convolution, LRP-gamma**: p_k = sum_j a_j (w_jk + gamma w_jk^+) +
  (b_k + gamma b_k^+); gamma = 0 is LRP-0, p = z: the plain gradient, except at units
  with z = 0 exactly, which pass nothing (the rule's 0/0 := 0; Theano's relu has
  derivative 1/2 at 0 and would pass half);
* dense layers, ReLU, padding, flatten and max-pooling are left untouched: the dense
  layers pass the plain gradient (LRP-0 with the bias as a sink), ReLU passes it
  where the unit is active, and our max-pool routes it to one maximum per window;
* the stabiliser is ``p + eps * sign(p)`` (sign(0) = +1), eps = 1e-9.

In the paper's vocabulary this is a *model rewrite*: the rewritten model is an
ordinary Keras model with the original's layer indices (``layers[19].input`` is
still conv4_1's output) and the original's weights (shared, not copied), so the
Explanation chain explains it like any model. With the point distribution of
interest and the difference term, :class:`LRPRelevance`, the attribution at a slice
z = h(x) is z * dQ/dz on the rewritten graph: the LRP relevance of every unit of the
slice toward any quantity of interest Q (a class score, a comparison of two classes,
an internal neuron). At the input slice of a z^B model, :class:`LRPRelevance` adds
l * dQ/dl + h * dQ/dh.

Conservation: on a model without biases, sum_i R_i = Q(x) exactly (up to float
rounding and eps) for any gammas; with biases, the biases of the LRP-gamma layers
and of the dense layers absorb part of Q.

Usage::

    lrp_m = lrp_model(model)                       # default gamma schedule
    expl = Explanation(lrp_m, LRPRelevance())
    R = expl.for_input().absolute(483).explain(x).attribution         # (N, 3, H, W)
    Rc = expl.for_layer(19).comparative(483, 497).explain(x).attribution
"""
import hw3_env  # noqa: F401  (must come before keras/theano)

import re

import numpy as np
import theano
import theano.tensor as T
from theano.gradient import disconnected_grad

import models
from chain.checks import check_instances
from chain.compiled import Compiled
from chain.doi import DoI
from methods.distributions import Point

K = hw3_env.setup()
import keras.layers  # noqa: E402
from keras.engine.base_layer import Layer  # noqa: E402
from keras.engine.input_layer import InputLayer  # noqa: E402
from keras.models import Sequential  # noqa: E402

EPSILON = 1e-9
# LRP-gamma per VGG block of the convolution (block 1's first convolution takes z^B):
# large in the low blocks, zero (LRP-0) at the top, as on the sheet.
BLOCK_GAMMAS = {1: 0.5, 2: 0.5, 3: 0.25, 4: 0.1, 5: 0.0}
# Pixel bounds in the caffe space of models.preprocess: pixel values 0 and 255 minus the
# BGR mean, per channel.
CAFFE_LOW = (0.0 - models.CAFFE_MEAN_BGR).astype(np.float32)
CAFFE_HIGH = (255.0 - models.CAFFE_MEAN_BGR).astype(np.float32)

# A z^B model's input variable carries (l, h, low, high) in its Theano tag under this name:
# the symbolic bound images whose gradients complete the input relevance (read by
# LRPRelevance.compile), living exactly as long as the graph.
_TAG = "lrp_zb_bounds"


def conv_layers(model):
    """Indices of the model's Conv2D layers, bottom to top."""
    return [i for i, l in enumerate(model.layers) if isinstance(l, keras.layers.Conv2D)]


def default_gammas(model):
    """The default gamma of each convolution after the first.

    VGG layouts (layers named ``block<b>_conv<i>``) take :data:`BLOCK_GAMMAS` by
    block: 0.5 in blocks 1-2, 0.25 in block 3, 0.1 in block 4, 0 in block 5. Other
    models get a ramp from 0.5 down to 0 over their convolutions.

    Returns:
        list of floats, one per convolution after the first.
    """
    convs = conv_layers(model)[1:]
    blocks = [re.match(r"block(\d+)_conv", model.layers[i].name) for i in convs]
    if convs and all(b and int(b.group(1)) in BLOCK_GAMMAS for b in blocks):
        return [BLOCK_GAMMAS[int(b.group(1))] for b in blocks]
    n = len(convs)
    return [0.5 * (1.0 - k / max(n - 1, 1)) for k in range(n)]


def stabilise(p, epsilon=EPSILON):
    """p + eps * sign(p), with sign(0) = +1: keeps the denominator away from 0 without
    changing its sign."""
    return p + T.switch(T.ge(p, 0), np.float32(epsilon), np.float32(-epsilon))


def _pos(w):
    return T.maximum(w, 0)


def _neg(w):
    return T.minimum(w, 0)


class _Reuse(Layer):
    """A new node for an existing layer: runs ``inner.call`` with ``inner``'s own
    weights (shared Theano variables, nothing copied). A fresh layer, so the rewritten
    model's ``layers[i].input`` is well defined."""

    def __init__(self, inner, **kwargs):
        super().__init__(name=inner.name, **kwargs)
        object.__setattr__(self, "inner", inner)   # not tracked: no weights of its own

    def build(self, input_shape):
        self.built = True

    def call(self, inputs):
        return self.inner.call(inputs)

    def compute_output_shape(self, input_shape):
        return self.inner.compute_output_shape(input_shape)


class LRPConv2D(_Reuse):
    """A Conv2D whose pre-activation is rewritten as in (1).

    Args:
        inner: the original ``keras.layers.Conv2D`` (its kernel, bias, activation and
            geometry are used as they are).
        rule: ``'gamma'`` (LRP-gamma, p = conv(a; w + gamma w^+, b + gamma b^+)) or
            ``'zb'`` (the z^B rule of the first convolution).
        gamma: the LRP-gamma parameter (rule 'gamma').
        bounds: (low, high) per input channel (rule 'zb').
        pixel_shape: (C, H, W) of the model input (rule 'zb').
        below: the layers between the input and this convolution (padding), applied to
            the bound images as they are applied to x (rule 'zb').
        epsilon: the stabiliser.
    """

    def __init__(self, inner, rule="gamma", gamma=0.0, bounds=None, pixel_shape=None,
                 below=(), epsilon=EPSILON, **kwargs):
        super().__init__(inner, **kwargs)
        self.rule, self.gamma, self.epsilon = rule, float(gamma), float(epsilon)
        self.bounds, self.pixel_shape = bounds, pixel_shape
        object.__setattr__(self, "below", list(below))
        self.low_image = self.high_image = None

    def _linear(self, x, kernel, bias):
        c = self.inner
        out = K.conv2d(x, kernel, strides=c.strides, padding=c.padding,
                       data_format=c.data_format, dilation_rate=c.dilation_rate)
        return out if bias is None else K.bias_add(out, bias, data_format=c.data_format)

    def call(self, inputs):
        c = self.inner
        w, b = c.kernel, (c.bias if c.use_bias else None)
        z = self._linear(inputs, w, b)
        if self.rule == "gamma" and self.gamma == 0.0:
            # LRP-0: p = z. The gradient is the plain one except where z = 0 exactly,
            # where z/p = 0 stops it as the rule's 0/0 := 0 does (Theano's relu would
            # pass half of it: its derivative at 0 is 1/2).
            p = z
        elif self.rule == "gamma":
            g = np.float32(self.gamma)
            p = self._linear(inputs, w + g * _pos(w),
                             None if b is None else b + g * _pos(b))
        else:
            low, high = (np.asarray(v, dtype=np.float32).reshape(-1, 1, 1)
                         for v in self.bounds)
            n = inputs.shape[0]
            self.low_image = T.alloc(low, n, *self.pixel_shape)
            self.high_image = T.alloc(high, n, *self.pixel_shape)
            lo, hi = self.low_image, self.high_image
            for layer in self.below:
                lo, hi = layer.call(lo), layer.call(hi)
            p = (z - self._linear(lo, _pos(w), None if b is None else _pos(b))
                 - self._linear(hi, _neg(w), None if b is None else _neg(b)))
        out = p * disconnected_grad(z / stabilise(p, self.epsilon))
        return c.activation(out)


def _check_gammas(gammas, n):
    if gammas is None:
        return None
    try:
        g = [float(v) for v in gammas]
    except (TypeError, ValueError):
        raise ValueError("gammas must be a sequence of numbers, one per convolution after "
                         "the first, got %r" % (gammas,))
    if len(g) != n:
        raise ValueError("gammas needs one value per convolution after the first: the model "
                         "has %d such convolutions, got %d values; pass gammas=None for the "
                         "default schedule" % (n, len(g)))
    if not all(np.isfinite(v) and v >= 0 for v in g):
        raise ValueError("every gamma must be finite and >= 0, got %r" % (g,))
    return g


def _check_bounds(low, high, channels):
    low = np.broadcast_to(np.asarray(low, dtype=np.float32), (channels,)).copy()
    high = np.broadcast_to(np.asarray(high, dtype=np.float32), (channels,)).copy()
    if not (low < high).all():
        raise ValueError("the z^B bounds need low < high in every channel, got low=%r, "
                         "high=%r" % (low.tolist(), high.tolist()))
    return low, high


def lrp_model(model, gammas=None, zb=True, low=CAFFE_LOW, high=CAFFE_HIGH,
              first_gamma=0.0, epsilon=EPSILON):
    """The LRP-rewritten model: same layers, indices and weights; each convolution
    computes (1) with its rule.

    Args:
        model: a Keras ``Sequential`` with at least one Conv2D (the course's VGG16,
            the surrogate, any toy).
        gammas: LRP-gamma of each convolution after the first (None:
            :func:`default_gammas`).
        zb: True applies the z^B rule to the first convolution (which must see the
            pixels, through padding at most); False applies LRP-gamma with
            ``first_gamma`` (0: the plain gradient, i.e. Gradient x Input there).
        low, high: the pixel bounds of z^B, per input channel (default: pixels 0 and
            255 in the caffe space of :func:`models.preprocess`).
        first_gamma: gamma of the first convolution when ``zb`` is False.
        epsilon: the stabiliser of the denominators.
    Returns:
        a Keras ``Sequential``; ``.lrp_rules`` lists (layer index, rule) for every
        convolution, ``.source_model`` is ``model``, ``.class_names`` is copied.
    Raises:
        ValueError: no convolution, a wrong number of gammas, bad bounds, or z^B with
            a first convolution that does not see the pixels.
    """
    convs = conv_layers(model)
    if not convs:
        raise ValueError("LRP by the gradient trick rewrites convolutions, but this model "
                         "has no Conv2D layer (its layers: %s); explain a dense model with "
                         "Gradient x Input instead" % ", ".join(l.name for l in model.layers))
    g = _check_gammas(gammas, len(convs) - 1)
    if g is None:
        g = default_gammas(model)
    first = convs[0]
    below = model.layers[:first]
    pixel_shape = tuple(int(s) for s in model.input_shape[1:])
    if zb:
        bad = [l.name for l in below if not isinstance(l, keras.layers.ZeroPadding2D)]
        if bad:
            raise ValueError("the z^B rule needs the first convolution to see the pixels, "
                             "but layers %s come before it; pass zb=False" % bad)
        bounds = _check_bounds(low, high, pixel_shape[0])
    rules = {first: ("zb" if zb else "gamma", 0.0 if zb else float(first_gamma))}
    rules.update({i: ("gamma", v) for i, v in zip(convs[1:], g)})

    out = Sequential(name=model.name + "_lrp")
    out.add(InputLayer(batch_input_shape=(None,) + pixel_shape, name=model.name + "_lrp_input"))
    first_layer = None
    for i, layer in enumerate(model.layers):
        if i in rules:
            rule, gamma = rules[i]
            new = LRPConv2D(layer, rule=rule, gamma=gamma,
                            bounds=bounds if rule == "zb" else None,
                            pixel_shape=pixel_shape, below=below, epsilon=epsilon)
            if i == first:
                first_layer = new
        else:
            new = _Reuse(layer)
        out.add(new)
    out.lrp_rules = [(i, "z^B" if rules[i][0] == "zb" else "gamma=%g" % rules[i][1])
                     for i in convs]
    object.__setattr__(out, "source_model", model)   # not tracked as a sub-layer
    out.class_names = getattr(model, "class_names", None)
    if zb:
        setattr(out.input.tag, _TAG, (first_layer.low_image, first_layer.high_image,
                                      bounds[0], bounds[1]))
    return out


class LRPRelevance(DoI):
    """The point distribution of interest with the difference term, for a rewritten
    (LRP) model: the attribution of Q at slice activations z is

        R(z) = z * dQ/dz                     (a slice above the pixels)
        R(x) = x * dQ/dx + l * dQ/dl + h * dQ/dh   (the pixels of a z^B model)

    On an unmodified model the first line is Gradient x Input (the one-step right
    Riemann sum of :class:`AumannShapley`, baseline 0: :class:`methods.distributions.Point`
    with the difference term evaluates it). ``ExplanationData.delta`` is
    the conservation gap sum(R) - (Q(z) - Q(0)).

    Args:
        images_per_call: instances per call of the compiled function.
    """

    def __init__(self, images_per_call=10):
        super().__init__(False, None, "images_per_call", images_per_call)
        self._point = Point(ignore_difference_term=False)
        self._relevance = {}
        self._zb_fn = None

    @property
    def mode(self):
        """Theano's default mode without Winograd's convolutions (im2col throughout).

        The rules divide by pre-activations (z / p, stabiliser 1e-9), which magnifies
        rounding where p is near 0. Under F(4x4, 3x3) (relative error about 3e-6 per
        layer) one of four stand-in VGG16 relevance maps moved by 6e-3 (relative L2)
        from the float64 map, where Zennit's float32 map stays within 5e-7 and ours by
        im2col within 7e-7.
        """
        return theano.compile.get_default_mode().excluding("winograd")

    def compile(self, Q, inpt, head=None):
        """Build the relevance function of Q at the slice variable ``inpt`` (see
        :meth:`chain.doi.DoI.compile`; ``head`` is not used: relevance is evaluated
        at the slice itself)."""
        bounds = getattr(getattr(inpt, "tag", None), _TAG, None)
        if bounds is None:
            self._zb_fn = None
            return super().compile(Q, inpt)   # no head: relevance is z * dQ/dz at z
        key = (Q, inpt)
        if key not in self._relevance:
            z = inpt.type("z")
            Qz, lo, hi = theano.clone([Q, bounds[0], bounds[1]], replace={inpt: z})
            gz, glo, ghi = T.grad(Qz.sum(), [z, lo, hi])
            rel = z * gz + lo * glo + hi * ghi
            fq = theano.function([z], Qz, allow_input_downcast=True, mode=self.mode)
            self._relevance[key] = (theano.function([z], rel, allow_input_downcast=True,
                                                    mode=self.mode), fq)
        frel, fq = self._relevance[key]
        self._zb_fn = frel
        self._fns = Compiled(_no_plain_gradient, fq, inpt.dtype)
        self._dtype = self._fns.dtype
        return self

    def get_attributions(self, instances, baseline=None, return_convergence_delta=False,
                         progress=False):
        """Relevance of Q at each instance (N, ...) of the slice; the baseline is 0.

        Returns:
            float32 array like ``instances`` (and the (N,) conservation gap if asked).
        """
        if baseline is not None and np.any(np.asarray(baseline) != 0):
            raise ValueError("LRP relevance has no baseline (it is z * dQ/dz on the "
                             "rewritten graph); pass baseline=None")
        if self._zb_fn is None:
            point = self.share_compiled(self._point)
            point.images_per_call = self.images_per_call
            result = point.get_attributions(instances, None, return_convergence_delta,
                                            progress)
            self.last_delta = point.last_delta
            return result
        x = check_instances(instances)
        step = self.images_per_call
        rel = np.concatenate([self._zb_fn(x[i:i + step]) for i in range(0, len(x), step)])
        zero = np.zeros(x.shape[1:], dtype=np.float32)
        self.last_delta = self.completeness_gap(rel, x, zero)
        return (rel, self.last_delta) if return_convergence_delta else rel


def _no_plain_gradient(z):
    raise RuntimeError("at the pixels of a z^B model the relevance is not x * dQ/dx: use "
                       "get_attributions (it adds l * dQ/dl + h * dQ/dh)")

"""The affine layers that open g at a slice, folded out of the path (:class:`AffineHead`).

Used by :class:`Explanation.ExplanationForLayer` (``affine_head()``), by the path DoI
(:meth:`AumannShapley.AumannShapley.compile`) and by Part IV's compressed models
(:meth:`AffineHead.masked_outputs`).
"""
import hw3_env  # noqa: F401  (must come before keras/theano)

import numpy as np
import theano
import theano.tensor as T

K = hw3_env.setup()


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
        self._partial = {}   # masked_outputs: ("A", bias) and one function per output tensor

    @classmethod
    def of(cls, model, layer):
        """The head of the slice at ``layer`` (None: the input), or None when g does
        not open with zero padding and a Conv2D or Dense layer (exact Keras classes,
        so rewritten layers such as LRP rules are left alone), when the model is not
        a chain there, or when it would not pay (y larger than z, e.g. conv1_1's 64
        channels above the 3 of the pixels)."""
        from keras.layers import Conv2D, Dense, ZeroPadding2D as KerasPad
        from models import ZeroPadding2D as CoursePad
        pads = (KerasPad, CoursePad)
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
        (None when Q reaches the slice by another route). Q may be a tuple of
        quantities: Q' is then the tuple, all of one y (one graph above it)."""
        y = self.last.output.type("y")
        many = isinstance(Q, (list, tuple))
        Qy = theano.clone(list(Q) if many else Q,
                          replace={self.last.output: self.last.activation(y)})
        def free(v):   # an input a caller must feed (not a weight, not a constant)
            return not isinstance(v, (theano.compile.SharedVariable, theano.gof.Constant))
        below = set(filter(free, theano.gof.graph.inputs([self.variable])))
        if any(v in below for v in theano.gof.graph.inputs(Qy if many else [Qy])):
            return None
        return y, (tuple(Qy) if many else Qy)

    def masked_outputs(self, output, z, kept, images_per_call=16, start=None):
        """``output`` (a tensor above the head, e.g. ``model.output``) on the slice
        activations ``z`` with every channel but ``kept`` set to 0, for a convolution
        head: y = b + W[kept] * z[kept] costs |kept|/C of the full convolution (the
        compressed models of Part IV keep a third of conv4_1 on average). None for a
        dense head (its input channels are not the slice's).

        Kept sets that grow (Part IV's grid: the top t and bottom b channels, b rising)
        need only their new channels: given the ``start`` a call on a subset returned,
        y = y_start + W[new] * z[new] (the same y up to float rounding).

        Args:
            output: the symbolic tensor to evaluate (compiled once per tensor).
            z: slice activations (N, C, H, W).
            kept: channel indices (may be empty).
            images_per_call: images per call.
            start: None, or the ``start`` of an earlier call on the same ``z``; it is
                used when its channels are a subset of ``kept``.
        Returns:
            (outputs, start) with start = (kept channels, y) for a next call; None for
            a dense head.
        """
        from keras.layers import Conv2D
        if type(self.last) is not Conv2D or self.last.data_format != "channels_first":
            return None
        kept = np.unique(np.asarray(kept, dtype=np.int64))
        if start is not None and np.isin(start[0], kept).all() \
                and len(start[1]) == len(z):
            add = np.setdiff1d(kept, start[0])
            y = start[1] + self._masked_pre(z, add, images_per_call, bias=False) \
                if len(add) else start[1]
        else:
            y = self._masked_pre(z, kept, images_per_call, bias=True)
        top = self._top_function(output)
        step = images_per_call
        out = np.concatenate([top(y[i:i + step]) for i in range(0, len(y), step)])
        return out, (kept, y)

    def _masked_pre(self, z, kept, images_per_call, bias):
        """[b +] W[kept] * z[kept]: the head's pre-activation from the kept channels."""
        partial = self._partial_function(bias)
        kernel = K.get_value(self.last.kernel)[:, :, kept, :]
        if len(kept) == 0:          # one zero channel with a zero kernel
            z, kernel = z[:, :1] * 0, np.zeros(kernel.shape[:2] + (1,) + kernel.shape[3:],
                                              kernel.dtype)
        else:
            z = z[:, kept]
        step = images_per_call
        return np.concatenate([partial(z[i:i + step], kernel)
                               for i in range(0, len(z), step)])

    def _partial_function(self, bias):
        cache, key = self._partial, ("A", bias)
        if key not in cache:
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
            if bias and L.use_bias:
                pre = K.bias_add(pre, L.bias, data_format=L.data_format)
            cache[key] = theano.function([zk, w], pre, allow_input_downcast=True)
        return cache[key]

    def _top_function(self, output):
        if output not in self._partial:
            y, top = self.rewrite(output)
            self._partial[output] = theano.function([y], top, allow_input_downcast=True)
        return self._partial[output]

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

"""A 2x2/2 max-pool Theano op in C whose gradient is the function's own.

Theano's ``pool_2d`` has the right forward value, but its gradient (``MaxPoolGrad``)
passes the incoming gradient to *every* element equal to the window's maximum. Where a
window holds ties (flat colour, saturated pixels, ReLU zeros) that gradient is a
multiple of the function's derivative, and Integrated Gradients stops satisfying
completeness: the gap converges to a non-zero value as the resolution grows.

:class:`MaxPool2x2` selects *one* maximum per window, the first in row-major order
(top-left, top-right, bottom-left, bottom-right), and :class:`MaxPool2x2Grad` routes
the gradient to that element only. Both are single passes over memory in C (the
same selection written as reshape/argmax/sum graph nodes cost 16% of a VGG16
gradient); each has a NumPy ``perform`` that makes exactly the same comparisons, so
the Python and C linkers agree bit for bit.

Input: a ``(N, C, H, W)`` float tensor (channels first) with even ``H`` and ``W``.
"""
import hw3_env  # noqa: F401  (must come before theano)

import numpy as np
import theano
import theano.tensor as T
from theano.gof import Apply, OpenMPOp

__all__ = ["MaxPool2x2", "MaxPool2x2Grad", "max_pool_2x2"]


def _check_input(x):
    x = T.as_tensor_variable(x)
    if x.ndim != 4 or x.dtype not in ("float32", "float64"):
        raise TypeError("max_pool_2x2 needs a 4-d float32/float64 tensor (N, C, H, W), "
                        "got %d-d %s" % (x.ndim, x.dtype))
    return x


def _windows(x):
    """The four elements of each 2x2 window of ``x`` in row-major order, each
    ``(N, C, H/2, W/2)``; raises ValueError on odd or non-4-d input."""
    if x.ndim != 4 or x.shape[2] % 2 or x.shape[3] % 2:
        raise ValueError("max_pool_2x2 needs (N, C, H, W) with even H and W, got shape %r"
                         % (x.shape,))
    return x[:, :, 0::2, 0::2], x[:, :, 0::2, 1::2], x[:, :, 1::2, 0::2], x[:, :, 1::2, 1::2]


def _first_argmax(x):
    """Max and index (0-3) of the first maximum of each window: the C code's rule
    (a later element wins only if strictly greater)."""
    quads = _windows(x)
    best, idx = quads[0].copy(), np.zeros(quads[0].shape, np.int8)
    for k in (1, 2, 3):
        better = quads[k] > best
        best[better], idx[better] = quads[k][better], k
    return best, idx


# C helpers shared by both ops: check the input, and walk the windows.
_SUPPORT = r"""
static int hw3_pool_check(PyArrayObject* x) {
    if (PyArray_NDIM(x) != 4) {
        PyErr_Format(PyExc_ValueError,
                     "max_pool_2x2 needs a 4-d input (N, C, H, W), got %d-d",
                     PyArray_NDIM(x));
        return -1;
    }
    if (PyArray_DIMS(x)[2] % 2 || PyArray_DIMS(x)[3] % 2) {
        PyErr_Format(PyExc_ValueError,
                     "max_pool_2x2 needs even H and W, got H=%ld W=%ld",
                     (long)PyArray_DIMS(x)[2], (long)PyArray_DIMS(x)[3]);
        return -1;
    }
    return 0;
}

/* Make *out a C-contiguous array of the given shape and type (reused when it fits). */
static int hw3_pool_output(PyArrayObject** out, int nd, npy_intp* dims, int typenum) {
    int ok = *out && PyArray_NDIM(*out) == nd && PyArray_TYPE(*out) == typenum
             && PyArray_IS_C_CONTIGUOUS(*out);
    for (int i = 0; ok && i < nd; ++i) ok = PyArray_DIMS(*out)[i] == dims[i];
    if (ok) return 0;
    Py_XDECREF(*out);
    *out = (PyArrayObject*)PyArray_EMPTY(nd, dims, typenum, 0);
    return *out ? 0 : -1;
}
"""


class _PoolOp(OpenMPOp):
    __props__ = ()

    def c_support_code(self):
        return _SUPPORT

    def c_code_cache_version(self):
        return (1, self.openmp)

    def infer_shape(self, node, shapes):
        return [self._out_shape(shapes)]

    def _c_body(self, dtype, pick):
        """C loop over the (N*C) planes of x; ``pick`` is the statement run per window
        with ``m`` (the max) and ``k`` (its index 0-3) and pointers r0, r1 to the rows."""
        omp = "#pragma omp parallel for schedule(static)" if self.openmp else ""
        return r"""
        {
        const npy_intp P = PyArray_DIMS(xc)[0] * PyArray_DIMS(xc)[1];
        const npy_intp H = PyArray_DIMS(xc)[2], W = PyArray_DIMS(xc)[3];
        const npy_intp h2 = H / 2, w2 = W / 2;
        const %(dtype)s* xd = (const %(dtype)s*)PyArray_DATA(xc);
        %(omp)s
        for (npy_intp p = 0; p < P; ++p) {
            for (npy_intp i = 0; i < h2; ++i) {
                const %(dtype)s* r0 = xd + (p * H + 2 * i) * W;
                const %(dtype)s* r1 = r0 + W;
                const npy_intp o = (p * h2 + i) * w2;
                for (npy_intp j = 0; j < w2; ++j) {
                    %(dtype)s m = r0[2 * j]; int k = 0;
                    if (r0[2 * j + 1] > m) { m = r0[2 * j + 1]; k = 1; }
                    if (r1[2 * j] > m)     { m = r1[2 * j];     k = 2; }
                    if (r1[2 * j + 1] > m) { m = r1[2 * j + 1]; k = 3; }
                    %(pick)s
                }
            }
        }
        }
        """ % dict(dtype=dtype, omp=omp, pick=pick)


class MaxPool2x2(_PoolOp):
    """``y[n, c, i, j] = max of x[n, c, 2i:2i+2, 2j:2j+2]`` (stride 2, no padding).

    Its gradient (:class:`MaxPool2x2Grad`) is the function's derivative wherever it
    has one, and at ties the derivative of the branch that selects the first maximum:

    .. math:: \\frac{\\partial y_{ij}}{\\partial x_{kl}} = [\\,(k, l) =
              \\operatorname{first\\,argmax}_{window(i,j)} x\\,]
    """

    def make_node(self, x):
        x = _check_input(x)
        return Apply(self, [x], [x.type()])

    def _out_shape(self, shapes):
        n, c, h, w = shapes[0]
        return (n, c, h // 2, w // 2)

    def perform(self, node, inputs, outputs):
        outputs[0][0] = np.ascontiguousarray(_first_argmax(inputs[0])[0])

    def grad(self, inputs, output_grads):
        return [MaxPool2x2Grad()(inputs[0], output_grads[0])]

    def c_code(self, node, name, inp, out, sub):
        x, = inp
        z, = out
        fail = sub["fail"]
        dtype = "dtype_%s" % x
        body = self._c_body(dtype, "zd[o + j] = m; (void)k;")
        return r"""
        {
        if (hw3_pool_check(%(x)s)) { %(fail)s; }
        npy_intp zdims[4] = {PyArray_DIMS(%(x)s)[0], PyArray_DIMS(%(x)s)[1],
                             PyArray_DIMS(%(x)s)[2] / 2, PyArray_DIMS(%(x)s)[3] / 2};
        if (hw3_pool_output(&%(z)s, 4, zdims, PyArray_TYPE(%(x)s))) { %(fail)s; }
        {
        PyArrayObject* xc = PyArray_GETCONTIGUOUS(%(x)s);
        if (!xc) { %(fail)s; }
        %(dtype)s* zd = (%(dtype)s*)PyArray_DATA(%(z)s);
        %(body)s
        Py_DECREF(xc);
        }
        }
        """ % locals()


class MaxPool2x2Grad(_PoolOp):
    """Gradient of :class:`MaxPool2x2`: ``gx`` is zero except at the first maximum of
    each window, which receives that window's ``gz``.

    Args (of the node):
        x: the pool's input ``(N, C, H, W)``.
        gz: the gradient with respect to the pool's output ``(N, C, H/2, W/2)``.
    Returns:
        gx, shaped like ``x``.
    """

    def make_node(self, x, gz):
        x = _check_input(x)
        gz = T.as_tensor_variable(gz).astype(x.dtype)
        if gz.ndim != 4:
            raise TypeError("MaxPool2x2Grad needs a 4-d gz, got %d-d" % gz.ndim)
        return Apply(self, [x, gz], [x.type()])

    def _out_shape(self, shapes):
        return shapes[0]

    def perform(self, node, inputs, outputs):
        x, gz = inputs
        _, idx = _first_argmax(x)
        if gz.shape != idx.shape:
            raise ValueError("MaxPool2x2Grad: gz has shape %r, the pool's output has %r"
                             % (gz.shape, idx.shape))
        gx = np.zeros_like(x)
        for k, (a, b) in enumerate(((0, 0), (0, 1), (1, 0), (1, 1))):
            gx[:, :, a::2, b::2] = np.where(idx == k, gz, 0)
        outputs[0][0] = gx

    def grad(self, inputs, output_grads):
        return [theano.gradient.grad_not_implemented(self, i, inputs[i],
                "second derivatives of max_pool_2x2 are not implemented")
                for i in range(2)]

    def c_code(self, node, name, inp, out, sub):
        x, gz = inp
        gx, = out
        fail = sub["fail"]
        dtype = "dtype_%s" % x
        body = self._c_body(dtype, r"""(void)m;
                    const %(dtype)s g = gd[o + j];
                    %(dtype)s* row = (k < 2 ? gxd + (r0 - xd) : gxd + (r1 - xd)) + 2 * j + (k & 1);
                    *row = g;""" % dict(dtype=dtype))
        return r"""
        {
        if (hw3_pool_check(%(x)s)) { %(fail)s; }
        if (PyArray_NDIM(%(gz)s) != 4
            || PyArray_DIMS(%(gz)s)[0] != PyArray_DIMS(%(x)s)[0]
            || PyArray_DIMS(%(gz)s)[1] != PyArray_DIMS(%(x)s)[1]
            || PyArray_DIMS(%(gz)s)[2] != PyArray_DIMS(%(x)s)[2] / 2
            || PyArray_DIMS(%(gz)s)[3] != PyArray_DIMS(%(x)s)[3] / 2) {
            PyErr_SetString(PyExc_ValueError,
                            "MaxPool2x2Grad: gz does not have the pool's output shape");
            %(fail)s;
        }
        if (hw3_pool_output(&%(gx)s, 4, PyArray_DIMS(%(x)s), PyArray_TYPE(%(x)s))) { %(fail)s; }
        {
        PyArrayObject* xc = PyArray_GETCONTIGUOUS(%(x)s);
        if (!xc) { %(fail)s; }
        PyArrayObject* gc = PyArray_GETCONTIGUOUS(%(gz)s);
        if (!gc) { Py_DECREF(xc); %(fail)s; }
        const %(dtype)s* gd = (const %(dtype)s*)PyArray_DATA(gc);
        %(dtype)s* gxd = (%(dtype)s*)PyArray_DATA(%(gx)s);
        memset(gxd, 0, PyArray_NBYTES(%(gx)s));
        %(body)s
        Py_DECREF(gc);
        Py_DECREF(xc);
        }
        }
        """ % locals()


def max_pool_2x2(x):
    """2x2/2 max-pool of a channels-first ``(N, C, H, W)`` tensor (even H, W) whose
    gradient reaches exactly one maximum of each window (see :class:`MaxPool2x2`).

    Args:
        x: symbolic float32/float64 tensor, 4-d.
    Returns:
        symbolic ``(N, C, H/2, W/2)`` tensor.
    """
    return MaxPool2x2()(x)

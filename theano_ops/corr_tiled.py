"""Cache-sized im2col convolution for Theano on the CPU (stride 1, 'valid').

Theano's ``CorrMM`` unrolls a whole image into one im2col matrix before its single
GEMM. At VGG16's first blocks that matrix is huge (conv1_2: 576 x 50176 floats, 115 MB
per image), so both the unrolling and the GEMM stream it from memory, and the layer
runs at a third of the machine's GEMM rate. :class:`TiledCorr` and
:class:`TiledCorrGradInputs` compute the same correlation and input gradient a few
output rows at a time, so each im2col tile stays in cache, and run the images of a
batch on all cores at once (OpenMP, one BLAS thread each), like ``CorrMM`` with
``openmp=True``.

The ops are not built by hand: :func:`register` installs a graph optimizer that
lowers Theano's abstract 2-d convolutions (and their input gradients) to them whenever
they fit (float32/float64, stride 1, no dilation, one group, 'valid' borders, which is
every convolution of the course's VGG16, whose padding is its own ``ZeroPadding2D``
layer) and Theano links a real OpenBLAS. Everything else, weight gradients included,
still goes to ``CorrMM``. The correlation computed, for image ``n``, output channel
``k`` and position ``(i, j)``, with ``x`` read as zero outside the image when the op
has a padding (top, bottom, left, right)::

    y[n, k, i, j] = sum_{c, a, b} x[n, c, i + a - top, j + b - left] * w[k, c, a, b]

:class:`ZeroPad2D` (what ``models.ZeroPadding2D`` computes) is absorbed by a
following tiled convolution, and its gradient :class:`Crop2D` by the input gradient,
so VGG16 never materialises its padded maps (they cost 8% of a gradient).
"""
import hw3_env  # noqa: F401  (must come before theano)

import numpy as np
import theano
import theano.scalar as scal
import theano.tensor as T
from theano.gof import Apply, OpenMPOp, local_optimizer
from theano.tensor import blas_headers
from theano.tensor.blas import ldflags
from theano.tensor.elemwise import DimShuffle
from theano.tensor.nnet.abstract_conv import AbstractConv2d, AbstractConv2d_gradInputs

from theano_ops import winograd

__all__ = ["TiledCorr", "TiledCorrGradInputs", "tiled_corr", "tiled_corr_grad_inputs",
           "ZeroPad2D", "Crop2D", "zero_pad_2d", "register", "usable"]

#: Floats in one im2col tile (per thread): 256 Ki floats = 1 MiB in float32 ...
TILE_FLOATS = 1 << 18
#: When the ops take Winograd's path (:mod:`theano_ops.winograd`): 'auto' for float32
#: 3x3 kernels where ``winograd.tile_size`` of the channels and map is 2 or 4 (F(2x2,
#: 3x3) or F(4x4, 3x3)), None as 'never' until the optimization tagged ``winograd``
#: makes it 'auto' (the lowering's choice; so ``THEANO_FLAGS=optimizer_excluding=
#: winograd`` turns the path off), 'never', or, for every float32 3x3 kernel (tests),
#: 'always' (F(2x2, 3x3)) or 'always4' (F(4x4, 3x3)).
WINOGRAD = ("auto", "never", "always", "always4", None)
#: Kernel layouts: Theano's (out, in, rows, cols) and Keras' own (rows, cols, in, out),
#: which the lowering passes as it is stored (no per-call transposed copy).
LAYOUTS = ("oihw", "hwio")
#: ... but at least this many output positions (GEMM columns) per tile: single-thread
#: SGEMM ran 60-86 GFLOP/s on whole VGG16 images and 100-125 on 224-896 columns.
MIN_COLUMNS = 448


def _pads(pad):
    """(top, bottom, left, right) as non-negative ints."""
    pad = tuple(int(p) for p in pad)
    if len(pad) != 4 or min(pad) < 0:
        raise ValueError("pad must be (top, bottom, left, right) >= 0, got %r" % (pad,))
    return pad


def usable():
    """True when Theano links a real OpenBLAS (the tiled ops need its thread control)."""
    return "openblas" in theano.config.blas.ldflags and theano.config.cxx != ""


_SUPPORT = r"""
static int hw3_out(PyArrayObject** out, npy_intp* dims, int typenum) {
    int ok = *out && PyArray_NDIM(*out) == 4 && PyArray_TYPE(*out) == typenum
             && PyArray_IS_C_CONTIGUOUS(*out);
    for (int i = 0; ok && i < 4; ++i) ok = PyArray_DIMS(*out)[i] == dims[i];
    if (ok) return 0;
    Py_XDECREF(*out);
    *out = (PyArrayObject*)PyArray_EMPTY(4, dims, typenum, 0);
    return *out ? 0 : -1;
}

/* Output rows per tile: as many as keep the im2col tile within `floats`, but at
   least `min_cols` columns (narrower GEMMs run slower), then evened out so the last
   tile is not a sliver. */
static int hw3_tile_rows(npy_intp ckk, npy_intp wo, npy_intp ho, npy_intp floats,
                         npy_intp min_cols) {
    npy_intp r = floats / (ckk * wo);
    npy_intp r_min = (min_cols + wo - 1) / wo;
    if (r < r_min) r = r_min;
    if (r < 1) r = 1;
    if (r > ho) r = ho;
    npy_intp tiles = (ho + r - 1) / r;
    return (int)((ho + tiles - 1) / tiles);
}
"""


class _TiledOp(OpenMPOp):
    """Shared compile settings: BLAS from ``blas.ldflags``, OpenMP always on."""
    __props__ = ("tile_floats", "min_columns", "pad", "layout", "flip", "winograd")

    def __init__(self, tile_floats=TILE_FLOATS, min_columns=MIN_COLUMNS, pad=(0, 0, 0, 0),
                 layout="oihw", flip=False, winograd="auto"):
        super().__init__(openmp=True)
        self.tile_floats = int(tile_floats)
        self.min_columns = int(min_columns)
        self.pad = _pads(pad)
        if layout not in LAYOUTS:
            raise ValueError("layout must be one of %s, got %r" % (LAYOUTS, layout))
        self.layout = layout
        self.flip = bool(flip)
        if winograd not in WINOGRAD:
            raise ValueError("winograd must be one of %s, got %r" % (WINOGRAD, winograd))
        self.winograd = winograd

    def kernel_dims(self, shape):
        """(K, C, kh, kw) of a kernel of this op's layout."""
        if self.layout == "hwio":
            kh, kw, c, k = shape
        else:
            k, c, kh, kw = shape
        return k, c, kh, kw

    def _kernel_c(self):
        """C: K, Cw, kh, kw from the kernel ``wc``; ROW(c, a, b), the kernel matrix's
        row of channel c at tap (a, b); and the image offset (A, B) of that tap."""
        d = ["(int)PyArray_DIMS(wc)[%d]" % i for i in range(4)]
        order = (d[3], d[2], d[0], d[1]) if self.layout == "hwio" else tuple(d)
        return ("const int K = %s, Cw = %s, kh = %s, kw = %s;" % order)

    @staticmethod
    def _add_bias_c(ctype):
        """C: add bias[k] to the tile just written (still in cache)."""
        return r"""
                for (int k = 0; k < K; ++k) {
                  %(ctype)s* o = yd + ((size_t)n * K + k) * Ho * Wo + (size_t)i0 * Wo;
                  const %(ctype)s v = bd[k];
                  for (int t = 0; t < tn; ++t) o[t] += v;
                }""" % dict(ctype=ctype)

    def _row(self):
        return "(a * kw + b) * C + c" if self.layout == "hwio" else "(c * kh + a) * kw + b"

    def _taps(self):
        """C expressions of the image offsets of tap (a, b): flipped for convolution."""
        return ("(kh - 1 - a)", "(kw - 1 - b)") if self.flip else ("a", "b")

    def c_support_code(self):
        return (blas_headers.blas_header_text() + blas_headers.openblas_threads_text()
                + _SUPPORT + winograd.C_SUPPORT)

    def c_headers(self):
        return ["<string.h>", "<stdlib.h>"] + super().c_headers()

    def c_libraries(self):
        return ldflags()

    def c_lib_dirs(self):
        return ldflags(libs=False, libs_dir=True)

    def c_compile_args(self):
        return ldflags(libs=False, flags=True) + super().c_compile_args()

    def c_code_cache_version(self):
        # the Winograd constants are compiled in: a change to them is a new version
        return (9, winograd.TILES, winograd.TILES_4, winograd.MIN_CHANNELS, winograd.MIN_SIZE,
                winograd.MIN_CHANNELS_4, winograd.MIN_SIZE_4,
                blas_headers.blas_header_version())

    def c_support_code_struct(self, node, name):
        # the last kernel seen and its Winograd transform U, reused while the kernel's
        # bytes are the same (a model's weights: transformed once, not per call)
        return ("float* wino_U_%(name)s; float* wino_w_%(name)s; size_t wino_n_%(name)s; "
                "int wino_kc_%(name)s[3];" % dict(name=name))

    def c_init_code_struct(self, node, name, sub):
        return ("wino_U_%(name)s = NULL; wino_w_%(name)s = NULL; wino_n_%(name)s = 0;"
                % dict(name=name))

    def c_cleanup_code_struct(self, node, name):
        return "free(wino_U_%(name)s); free(wino_w_%(name)s);" % dict(name=name)

    def _winograd_c(self, node, name, x, ci, h, w, ko, bias, pt, pl, y, ho, wo, grad,
                    release, fail):
        """C: run :data:`winograd.C_SUPPORT`'s F(m x m, 3x3) on this call and set
        ``done`` where this op's ``winograd`` setting and the shapes select it (m from
        :func:`winograd.tile_size` under 'auto'). The kernel's transform is kept in the
        op's struct and redone only when the kernel's bytes or m change."""
        if node.inputs[0].dtype != "float32" or self.winograd in ("never", None):
            return "int done = 0;"
        if self.winograd == "auto":
            pick = ("(%(ci)s >= %(l4)d && %(ko)s >= %(l4)d && %(ho)s >= %(s4)d && %(wo)s >= %(s4)d)"
                    " ? 4 : (%(ci)s >= %(l2)d && %(ko)s >= %(l2)d && %(ho)s >= %(s2)d"
                    " && %(wo)s >= %(s2)d) ? 2 : 0"
                    % dict(ci=ci, ko=ko, ho=ho, wo=wo, l4=winograd.MIN_CHANNELS_4,
                           s4=winograd.MIN_SIZE_4, l2=winograd.MIN_CHANNELS,
                           s2=winograd.MIN_SIZE))
        else:
            pick = "4" if self.winograd == "always4" else "2"
        return r"""
        int done = 0;
        const int wino_m = (kh == 3 && kw == 3) ? (%(pick)s) : 0;
        if (wino_m) {
            const size_t nw = (size_t)K * C * 9;
            if (!(wino_U_%(name)s && wino_n_%(name)s == nw && wino_kc_%(name)s[0] == K
                  && wino_kc_%(name)s[1] == C && wino_kc_%(name)s[2] == wino_m
                  && memcmp(wino_w_%(name)s, wd, nw * sizeof(float)) == 0)) {
                free(wino_U_%(name)s); free(wino_w_%(name)s);
                wino_U_%(name)s = (float*)malloc(sizeof(float) * (wino_m + 2) * (wino_m + 2)
                                                 * (size_t)K * C);
                wino_w_%(name)s = (float*)malloc(sizeof(float) * nw);
                wino_n_%(name)s = 0;
                if (!wino_U_%(name)s || !wino_w_%(name)s) {
                    free(wino_U_%(name)s); free(wino_w_%(name)s);
                    wino_U_%(name)s = NULL; wino_w_%(name)s = NULL;
                    PyErr_NoMemory(); %(release)s %(fail)s;
                }
                hw3_wino_weights(wd, %(hwio)d, K, C, %(grad)d, %(flip)d, wino_m,
                                 wino_U_%(name)s);
                memcpy(wino_w_%(name)s, wd, nw * sizeof(float));
                wino_n_%(name)s = nw; wino_kc_%(name)s[0] = K; wino_kc_%(name)s[1] = C;
                wino_kc_%(name)s[2] = wino_m;
            }
            if (hw3_wino_corr(%(x)s, N, %(ci)s, %(h)s, %(w)s, wino_U_%(name)s, %(ko)s, %(bias)s,
                              %(pt)s, %(pl)s, %(y)s, %(ho)s, %(wo)s,
                              wino_m == 4 ? %(tiles4)d : %(tiles)d, wino_m)) {
                PyErr_NoMemory(); %(release)s %(fail)s;
            }
            done = 1;
        }
        """ % dict(name=name, pick=pick, ci=ci, ko=ko, hwio=self.layout == "hwio",
                   grad=grad, flip=self.flip, x=x, h=h, w=w, bias=bias, pt=pt, pl=pl, y=y,
                   ho=ho, wo=wo, tiles=winograd.TILES, tiles4=winograd.TILES_4, release=release,
                   fail=fail)

    def _pads_c(self):
        return "const int PT = %d, PB = %d, PL = %d, PR = %d;" % self.pad

    @staticmethod
    def _blas(dtype):
        return ("sgemm_", "float") if dtype == "float32" else ("dgemm_", "double")

    def _parallel_loop(self, dtype, per_tile, fail):
        """C: allocate one tile per thread, then for each image (in parallel) and each
        tile of output rows, run ``per_tile`` (which sees n, i0, r, tn, col)."""
        return r"""
        const int nthreads = omp_get_max_threads();
        const int rows = hw3_tile_rows(CKK, Wo, Ho, %(tile)d, %(min_cols)d);
        %(ctype)s* buf = (%(ctype)s*)malloc(sizeof(%(ctype)s) * (size_t)nthreads
                                           * (size_t)CKK * rows * Wo);
        if (!buf) { PyErr_NoMemory(); %(fail)s; }
        /* Images in parallel, one BLAS thread each; with fewer images than threads
           (a single image, say), images in turn and BLAS's own threads instead. */
        const int by_image = N >= nthreads;
        const int saved_threads = openblas_get_num_threads();
        if (by_image) openblas_set_num_threads(1);
        #pragma omp parallel for schedule(static) if (by_image)
        for (npy_intp n = 0; n < N; ++n) {
            %(ctype)s* col = buf + (size_t)omp_get_thread_num() * CKK * rows * Wo;
            for (int i0 = 0; i0 < Ho; i0 += rows) {
                const int r = (Ho - i0 < rows) ? (int)(Ho - i0) : rows;
                const int tn = r * (int)Wo;
                %(per_tile)s
            }
        }
        if (by_image) openblas_set_num_threads(saved_threads);
        free(buf);
        """ % dict(ctype=dtype, tile=self.tile_floats, min_cols=self.min_columns,
                   per_tile=per_tile, fail=fail)


class TiledCorr(_TiledOp):
    """``y = corr(x, w) (+ b)``: x ``(N, C, H, W)``, w ``(K, C, kh, kw)`` (or its
    'hwio' layout), optional bias b ``(K,)`` -> y ``(N, K, Ho, Wo)`` (the formula in
    the module docstring; with a padding, Ho = H + top + bottom - kh + 1)."""

    def make_node(self, img, kern, bias=None):
        img, kern = T.as_tensor_variable(img), T.as_tensor_variable(kern)
        if img.ndim != 4 or kern.ndim != 4:
            raise TypeError("TiledCorr needs 4-d img and kern")
        if img.dtype not in ("float32", "float64") or kern.dtype != img.dtype:
            raise TypeError("TiledCorr needs float32 or float64 img and kern of one dtype")
        inputs = [img, kern]
        if bias is not None:
            bias = T.as_tensor_variable(bias)
            if bias.ndim != 1 or bias.dtype != img.dtype:
                raise TypeError("TiledCorr's bias must be a %s vector" % img.dtype)
            inputs.append(bias)
        bc = (img.broadcastable[0], self.kernel_dims(kern.broadcastable)[0], False, False)
        return Apply(self, inputs, [T.TensorType(img.dtype, bc)()])

    def infer_shape(self, node, shapes):
        (n, _, h, w) = shapes[0]
        k, _, kh, kw = self.kernel_dims(shapes[1])
        pt, pb, pl, pr = self.pad
        return [(n, k, h + pt + pb - kh + 1, w + pl + pr - kw + 1)]

    def c_code(self, node, name, inp, out, sub):
        img, kern = inp[:2]
        bias = inp[2] if len(inp) > 2 else None
        y, = out
        fail = sub["fail"]
        pads = self._pads_c()
        gemm, ctype = self._blas(node.inputs[0].dtype)
        kernel, (ta, tb) = self._kernel_c(), self._taps()
        row = self._row()
        # out tile (K x tn, row stride Ho*Wo) = Wmat (K x CKK) . col (CKK x tn); in
        # column-major terms out' = col' . Wmat', Wmat' being the kernel as stored
        # ('oihw': CKK x K with leading dimension CKK) or its transpose ('hwio').
        wt, ldw = ("'T'", "K") if self.layout == "hwio" else ("'N'", "CKK")
        per_tile = r"""
                const %(ctype)s* xn = xd + (size_t)n * C * H * W;
                for (int c = 0; c < C; ++c)
                  for (int a = 0; a < kh; ++a)
                    for (int b = 0; b < kw; ++b) {
                      %(ctype)s* dst = col + (size_t)(%(row)s) * tn;
                      const int A = %(ta)s, B = %(tb)s;
                      /* output column j reads input column j + B - PL: inside for [jlo, jhi) */
                      int jlo = PL - B, jhi = W + PL - B;
                      if (jlo < 0) jlo = 0;
                      if (jhi > Wo) jhi = Wo;
                      if (jhi < jlo) jhi = jlo;
                      for (int i = 0; i < r; ++i) {
                        %(ctype)s* d = dst + (size_t)i * Wo;
                        const int ii = i0 + i + A - PT;
                        if (ii < 0 || ii >= H) { memset(d, 0, sizeof(%(ctype)s) * Wo); continue; }
                        memset(d, 0, sizeof(%(ctype)s) * jlo);
                        memcpy(d + jlo, xn + ((size_t)c * H + ii) * W + jlo + B - PL,
                               sizeof(%(ctype)s) * (jhi - jlo));
                        memset(d + jhi, 0, sizeof(%(ctype)s) * (Wo - jhi));
                      }
                    }
                {
                  const %(ctype)s one = 1, zero = 0;
                  char nn = 'N', wt = %(wt)s;
                  int m_ = tn, n_ = K, k_ = CKK, ldw = %(ldw)s, ldc = (int)(Ho * Wo);
                  %(gemm)s(&nn, &wt, &m_, &n_, &k_, &one, col, &m_, wd, &ldw, &zero,
                           yd + (size_t)n * K * Ho * Wo + (size_t)i0 * Wo, &ldc);
                }
                %(add_bias)s
        """ % dict(ctype=ctype, gemm=gemm, row=row, ta=ta, tb=tb, wt=wt, ldw=ldw,
                   add_bias=self._add_bias_c(ctype) if bias else "")
        release = "Py_DECREF(xc); Py_DECREF(wc); Py_XDECREF(bsc);"
        loop = self._parallel_loop(ctype, per_tile, "{%s %s}" % (release, fail))
        wino = self._winograd_c(node, name, "xd", "C", "H", "W", "K", "bd", "PT",
                                "PL", "yd", "Ho", "Wo", 0, release, fail)
        bias_setup = (r"""
        bsc = PyArray_GETCONTIGUOUS(%(bias)s);
        if (!bsc) { %(release)s %(fail)s; }
        if (PyArray_NDIM(bsc) != 1 || PyArray_DIMS(bsc)[0] != K) {
            PyErr_Format(PyExc_ValueError, "TiledCorr: the bias has %%d values for %%d "
                         "output channels", (int)PyArray_SIZE(bsc), K);
            %(release)s %(fail)s;
        }
        bd = (const %(ctype)s*)PyArray_DATA(bsc);
        """ % dict(bias=bias, release=release, fail=fail, ctype=ctype)) if bias else ""
        return r"""
        {
        PyArrayObject* bsc = NULL;
        const %(ctype)s* bd = NULL;
        PyArrayObject* xc = PyArray_GETCONTIGUOUS(%(img)s);
        if (!xc) { %(fail)s; }
        PyArrayObject* wc = PyArray_GETCONTIGUOUS(%(kern)s);
        if (!wc) { Py_DECREF(xc); %(fail)s; }
        const int N = (int)PyArray_DIMS(xc)[0], C = (int)PyArray_DIMS(xc)[1];
        const int H = (int)PyArray_DIMS(xc)[2], W = (int)PyArray_DIMS(xc)[3];
        %(kernel)s
        %(pads)s
        if (Cw != C || kh > H + PT + PB || kw > W + PL + PR) {
            PyErr_Format(PyExc_ValueError,
                         "TiledCorr: image (N, C, H, W) = (%%d, %%d, %%d, %%d) and kernel "
                         "(K, C, kh, kw) = (%%d, %%d, %%d, %%d) do not fit",
                         N, C, H, W, K, Cw, kh, kw);
            Py_DECREF(xc); Py_DECREF(wc); %(fail)s;
        }
        %(bias_setup)s
        const int Ho = H + PT + PB - kh + 1, Wo = W + PL + PR - kw + 1, CKK = C * kh * kw;
        npy_intp dims[4] = {N, K, Ho, Wo};
        if (hw3_out(&%(y)s, dims, PyArray_TYPE(xc))) { %(release)s %(fail)s; }
        const %(ctype)s* xd = (const %(ctype)s*)PyArray_DATA(xc);
        const %(ctype)s* wd = (const %(ctype)s*)PyArray_DATA(wc);
        %(ctype)s* yd = (%(ctype)s*)PyArray_DATA(%(y)s);
        if (N > 0 && K > 0 && Ho > 0 && Wo > 0) {
        %(wino)s
        if (!done) {
        %(loop)s
        }
        }
        (void)bd;
        %(release)s
        }
        """ % locals()


class TiledCorrGradInputs(_TiledOp):
    """Gradient of :class:`TiledCorr` with respect to its image: from w
    ``(K, C, kh, kw)`` and the output gradient gy ``(N, K, Ho, Wo)``, gx
    ``(N, C, Ho + kh - 1, Wo + kw - 1)`` with
    ``gx[n, c, i + a, j + b] += gy[n, k, i, j] * w[k, c, a, b]``."""

    def make_node(self, kern, topgrad):
        kern, topgrad = T.as_tensor_variable(kern), T.as_tensor_variable(topgrad)
        if kern.ndim != 4 or topgrad.ndim != 4:
            raise TypeError("TiledCorrGradInputs needs 4-d kern and topgrad")
        if kern.dtype not in ("float32", "float64") or topgrad.dtype != kern.dtype:
            raise TypeError("TiledCorrGradInputs needs float32 or float64 kern and "
                            "topgrad of one dtype")
        bc = (topgrad.broadcastable[0], self.kernel_dims(kern.broadcastable)[1], False, False)
        return Apply(self, [kern, topgrad], [T.TensorType(kern.dtype, bc)()])

    def infer_shape(self, node, shapes):
        _, c, kh, kw = self.kernel_dims(shapes[0])
        (n, _, ho, wo) = shapes[1]
        pt, pb, pl, pr = self.pad
        return [(n, c, ho + kh - 1 - pt - pb, wo + kw - 1 - pl - pr)]

    def c_code(self, node, name, inp, out, sub):
        kern, topgrad = inp
        gx, = out
        fail = sub["fail"]
        pads = self._pads_c()
        gemm, ctype = self._blas(node.inputs[0].dtype)
        kernel, (ta, tb) = self._kernel_c(), self._taps()
        row = self._row()
        # col (CKK x tn) = Wmat' (CKK x K) . gy tile (K x tn); column-major:
        # col' = gy' . Wmat, Wmat being the stored kernel transposed ('oihw') or as is.
        wt, ldw = ("'N'", "K") if self.layout == "hwio" else ("'T'", "CKK")
        per_tile = r"""
                {
                  const %(ctype)s one = 1, zero = 0;
                  char nn = 'N', wt = %(wt)s;
                  int m_ = tn, n_ = CKK, k_ = K, lda = (int)(Ho * Wo), ldw = %(ldw)s;
                  %(gemm)s(&nn, &wt, &m_, &n_, &k_, &one,
                           gd + (size_t)n * K * Ho * Wo + (size_t)i0 * Wo, &lda,
                           wd, &ldw, &zero, col, &m_);
                }
                %(ctype)s* gxn = gxd + (size_t)n * C * H * W;
                for (int c = 0; c < C; ++c)
                  for (int a = 0; a < kh; ++a)
                    for (int b = 0; b < kw; ++b) {
                      const %(ctype)s* src = col + (size_t)(%(row)s) * tn;
                      const int A = %(ta)s, B = %(tb)s;
                      int jlo = PL - B, jhi = W + PL - B;
                      if (jlo < 0) jlo = 0;
                      if (jhi > Wo) jhi = Wo;
                      for (int i = 0; i < r; ++i) {
                        const int ii = i0 + i + A - PT;
                        if (ii < 0 || ii >= H) continue;
                        %(ctype)s* dst = gxn + ((size_t)c * H + ii) * W + B - PL;
                        const %(ctype)s* s = src + (size_t)i * Wo;
                        for (int j = jlo; j < jhi; ++j) dst[j] += s[j];
                      }
                    }
        """ % dict(ctype=ctype, gemm=gemm, row=row, ta=ta, tb=tb, wt=wt, ldw=ldw)
        loop = self._parallel_loop(ctype, per_tile, "{Py_DECREF(gc); Py_DECREF(wc); %s}"
                                   % fail)
        # the input gradient is the correlation of gy, padded by (kh-1-PT, kw-1-PL) at
        # the top left, with the kernel's taps reversed and its channels swapped
        wino = self._winograd_c(node, name, "gd", "K", "Ho", "Wo", "C", "NULL",
                                "(kh - 1 - PT)", "(kw - 1 - PL)", "gxd", "H", "W", 1,
                                "Py_DECREF(gc); Py_DECREF(wc);", fail)
        return r"""
        {
        PyArrayObject* wc = PyArray_GETCONTIGUOUS(%(kern)s);
        if (!wc) { %(fail)s; }
        PyArrayObject* gc = PyArray_GETCONTIGUOUS(%(topgrad)s);
        if (!gc) { Py_DECREF(wc); %(fail)s; }
        const int N = (int)PyArray_DIMS(gc)[0];
        const int Ho = (int)PyArray_DIMS(gc)[2], Wo = (int)PyArray_DIMS(gc)[3];
        %(kernel)s
        const int C = Cw;
        %(pads)s
        if (Ho + kh - 1 - PT - PB < 1 || Wo + kw - 1 - PL - PR < 1) {
            PyErr_SetString(PyExc_ValueError,
                            "TiledCorrGradInputs: the padding is larger than the image");
            Py_DECREF(gc); Py_DECREF(wc); %(fail)s;
        }
        if (K != (int)PyArray_DIMS(gc)[1]) {
            PyErr_Format(PyExc_ValueError,
                         "TiledCorrGradInputs: kernel has %%d output channels, the "
                         "gradient %%d", K, (int)PyArray_DIMS(gc)[1]);
            Py_DECREF(gc); Py_DECREF(wc); %(fail)s;
        }
        const int H = Ho + kh - 1 - PT - PB, W = Wo + kw - 1 - PL - PR, CKK = C * kh * kw;
        npy_intp dims[4] = {N, C, H, W};
        if (hw3_out(&%(gx)s, dims, PyArray_TYPE(gc))) { Py_DECREF(gc); Py_DECREF(wc); %(fail)s; }
        const %(ctype)s* gd = (const %(ctype)s*)PyArray_DATA(gc);
        const %(ctype)s* wd = (const %(ctype)s*)PyArray_DATA(wc);
        %(ctype)s* gxd = (%(ctype)s*)PyArray_DATA(%(gx)s);
        if (N > 0 && C > 0 && Ho > 0 && Wo > 0 && K > 0) {
        %(wino)s
        if (!done) {
        memset(gxd, 0, PyArray_NBYTES(%(gx)s));
        %(loop)s
        }
        } else {
        memset(gxd, 0, PyArray_NBYTES(%(gx)s));
        }
        Py_DECREF(gc); Py_DECREF(wc);
        }
        """ % locals()


def tiled_corr(img, kern, tile_floats=TILE_FLOATS, min_columns=MIN_COLUMNS, pad=(0, 0, 0, 0),
               layout="oihw", flip=False, winograd="auto"):
    """Symbolic ``TiledCorr(...)(img, kern)`` (see the class).

    Args:
        img: (N, C, H, W) tensor.
        kern: the kernel, (K, C, kh, kw) for ``layout='oihw'`` or (kh, kw, C, K) for
            'hwio' (how Keras stores it).
        tile_floats, min_columns: the tile size; they change speed only (tests use
            tiny tiles to exercise the tiling).
        pad: (top, bottom, left, right): the image is read as if zero-padded.
        flip: True for a convolution (the kernel's taps reversed), False for a
            correlation.
        winograd: one of :data:`WINOGRAD`.
    Returns:
        (N, K, Ho, Wo) tensor.
    """
    return TiledCorr(tile_floats, min_columns, pad, layout, flip, winograd)(img, kern)


def tiled_corr_grad_inputs(kern, topgrad, tile_floats=TILE_FLOATS, min_columns=MIN_COLUMNS,
                           pad=(0, 0, 0, 0), layout="oihw", flip=False, winograd="auto"):
    """Symbolic ``TiledCorrGradInputs(...)(kern, topgrad)``: the gradient with respect
    to the (unpadded) image of :func:`tiled_corr` with the same arguments."""
    return TiledCorrGradInputs(tile_floats, min_columns, pad, layout, flip,
                               winograd)(kern, topgrad)


# ---------------------------------------------------------------------------
# Zero padding, as an op the convolution can absorb
# ---------------------------------------------------------------------------
class _PadOp(theano.Op):
    """Shared by :class:`ZeroPad2D` (``sign`` +1) and :class:`Crop2D` (-1): the last
    two axes of a 4-d tensor grow or shrink by (top, bottom, left, right), and each
    op's gradient is the other."""
    __props__ = ("pad",)
    sign = 0

    def __init__(self, pad):
        self.pad = _pads(pad)

    def make_node(self, x):
        x = T.as_tensor_variable(x)
        if x.ndim != 4:
            raise TypeError("%s needs a 4-d tensor, got %d-d" % (type(self).__name__, x.ndim))
        bc = x.broadcastable[:2] + (False, False)
        return Apply(self, [x], [T.TensorType(x.dtype, bc)()])

    def infer_shape(self, node, shapes):
        n, c, h, w = shapes[0]
        pt, pb, pl, pr = self.pad
        return [(n, c, h + self.sign * (pt + pb), w + self.sign * (pl + pr))]

    def grad(self, inputs, output_grads):
        inverse = Crop2D if self.sign > 0 else ZeroPad2D
        return [inverse(self.pad)(output_grads[0])]


class ZeroPad2D(_PadOp):
    """Zero-pad the two last axes of a 4-d tensor by (top, bottom, left, right).

    What Keras' ``ZeroPadding2D`` computes (Keras builds it from ``zeros`` and
    ``set_subtensor``); as one op, a following :class:`TiledCorr` absorbs it, so the
    padded copy is never made, and its gradient (:class:`Crop2D`) is absorbed by
    :class:`TiledCorrGradInputs`. Where nothing absorbs it, NumPy computes it.
    """
    sign = 1

    def perform(self, node, inputs, outputs):
        pt, pb, pl, pr = self.pad
        outputs[0][0] = np.pad(inputs[0], ((0, 0), (0, 0), (pt, pb), (pl, pr)))


class Crop2D(_PadOp):
    """Remove (top, bottom, left, right) rows and columns: the gradient of
    :class:`ZeroPad2D`."""
    sign = -1

    def perform(self, node, inputs, outputs):
        pt, pb, pl, pr = self.pad
        x = inputs[0]
        h, w = x.shape[2], x.shape[3]
        if pt + pb >= h or pl + pr >= w:
            raise ValueError("Crop2D: cannot remove %r from a %dx%d map" % (self.pad, h, w))
        outputs[0][0] = np.ascontiguousarray(x[:, :, pt:h - pb, pl:w - pr])


def zero_pad_2d(x, pad):
    """Symbolic zero padding of a (N, C, H, W) tensor by (top, bottom, left, right)."""
    return ZeroPad2D(pad)(x)


def _fits(op, dtype):
    return (usable() and dtype in ("float32", "float64")
            and op.border_mode in ("valid", (0, 0)) and tuple(op.subsample) == (1, 1)
            and tuple(op.filter_dilation) == (1, 1) and op.num_groups == 1
            and not op.unshared)


def _kernel(op, kern):
    """The kernel as stored, its layout and the flip: Keras hands Theano its
    (kh, kw, C, K) kernel through ``dimshuffle(3, 2, 0, 1)``; the tiled ops read the
    stored array directly instead of copying a transposed (and flipped) view of it
    on every call (17 ms for a 512x512 VGG16 kernel)."""
    owner = kern.owner
    if owner is not None and isinstance(owner.op, DimShuffle) \
            and tuple(owner.op.new_order) == (3, 2, 0, 1):
        return owner.inputs[0], "hwio", bool(op.filter_flip)
    return kern, "oihw", bool(op.filter_flip)


@local_optimizer([AbstractConv2d])
def local_tiled_corr(node):
    """AbstractConv2d -> TiledCorr where it fits (else leave it to CorrMM)."""
    if not isinstance(node.op, AbstractConv2d):
        return None
    img, kern = node.inputs
    if not (isinstance(img.type, T.TensorType) and isinstance(kern.type, T.TensorType)
            and img.dtype == kern.dtype and _fits(node.op, img.dtype)):
        return None
    w, layout, flip = _kernel(node.op, kern)
    out = tiled_corr(img, w, layout=layout, flip=flip, winograd=None)
    return [T.patternbroadcast(out, node.outputs[0].broadcastable)]


@local_optimizer([AbstractConv2d_gradInputs])
def local_tiled_corr_grad_inputs(node):
    """AbstractConv2d_gradInputs -> TiledCorrGradInputs where it fits."""
    if not isinstance(node.op, AbstractConv2d_gradInputs):
        return None
    kern, topgrad, _ = node.inputs
    if not (isinstance(kern.type, T.TensorType) and isinstance(topgrad.type, T.TensorType)
            and kern.dtype == topgrad.dtype and _fits(node.op, kern.dtype)):
        return None
    w, layout, flip = _kernel(node.op, kern)
    out = tiled_corr_grad_inputs(w, topgrad, layout=layout, flip=flip, winograd=None)
    return [T.patternbroadcast(out, node.outputs[0].broadcastable)]


def _with(op, pad=None, winograd="same"):
    """A copy of a tiled op with another padding or Winograd setting."""
    return type(op)(op.tile_floats, op.min_columns, op.pad if pad is None else pad, op.layout,
                    op.flip, op.winograd if winograd == "same" else winograd)


def _take_winograd(node, kind):
    """``node``'s op with ``winograd='auto'`` if it is a ``kind`` op the lowering left
    undecided (else None)."""
    if not isinstance(node.op, kind) or node.op.winograd is not None:
        return None
    out = _with(node.op, winograd="auto")(*node.inputs)
    return [T.patternbroadcast(out, node.outputs[0].broadcastable)]


@local_optimizer([TiledCorrGradInputs])
def local_winograd(node):
    """Lowered input gradients take Winograd's path where it pays (``winograd='auto'``);
    excluded by ``optimizer_excluding=winograd``."""
    return _take_winograd(node, TiledCorrGradInputs)


@local_optimizer([TiledCorr])
def local_winograd_forward(node):
    """Lowered forwards take Winograd's path where it pays (``winograd='auto'``);
    excluded by ``optimizer_excluding=winograd_forward`` (forwards by im2col, input
    gradients still by Winograd) or ``optimizer_excluding=winograd``."""
    return _take_winograd(node, TiledCorr)


@local_optimizer([TiledCorr])
def local_absorb_pad(node):
    """TiledCorr(ZeroPad2D(x)) -> TiledCorr{pad}(x): the padded copy is never made."""
    if not isinstance(node.op, TiledCorr) or any(node.op.pad):
        return None
    img = node.inputs[0]
    if img.owner is None or not isinstance(img.owner.op, ZeroPad2D):
        return None
    return [_with(node.op, img.owner.op.pad)(img.owner.inputs[0], *node.inputs[1:])]


def _channel_vector(b4):
    """The (K,) vector behind a (1, K, 1, 1)-broadcastable tensor (a bias), or None."""
    if b4.ndim != 4 or tuple(b4.broadcastable) != (True, False, True, True):
        return None
    owner = b4.owner
    if owner is not None and isinstance(owner.op, DimShuffle) \
            and tuple(owner.op.new_order) == ("x", 0, "x", "x"):
        return owner.inputs[0]
    return b4.flatten()


@local_optimizer([T.Elemwise])
def local_absorb_bias(node):
    """TiledCorr(x, w) + b[None, :, None, None] -> TiledCorr(x, w, b): the bias is added
    to each tile while it is in cache, not in a pass over the whole output."""
    if not (isinstance(node.op, T.Elemwise) and isinstance(node.op.scalar_op, scal.Add)
            and len(node.inputs) == 2):
        return None
    for conv, other in (node.inputs, node.inputs[::-1]):
        if conv.owner is not None and isinstance(conv.owner.op, TiledCorr) \
                and len(conv.owner.inputs) == 2 and len(conv.clients) == 1 \
                and other.dtype == conv.dtype:
            bias = _channel_vector(other)
            if bias is not None:
                out = conv.owner.op(*conv.owner.inputs, bias)
                return [T.patternbroadcast(out, node.outputs[0].broadcastable)]
    return None


@local_optimizer([Crop2D])
def local_absorb_crop(node):
    """Crop2D(TiledCorrGradInputs(w, gy)) -> TiledCorrGradInputs{pad}(w, gy)."""
    if not isinstance(node.op, Crop2D):
        return None
    src = node.inputs[0]
    if src.owner is None or not isinstance(src.owner.op, TiledCorrGradInputs) \
            or any(src.owner.op.pad):
        return None
    out = _with(src.owner.op, node.op.pad)(*src.owner.inputs)
    return [T.patternbroadcast(out, node.outputs[0].broadcastable)]


_REGISTERED = []


def register():
    """Install the lowering (idempotent), ahead of Theano's own ``CorrMM`` lowering in
    its group of convolution optimizers. Like any Theano optimization it can be
    turned off by its tag: ``THEANO_FLAGS=optimizer_excluding=tiled_corr`` (Theano's
    CorrMM everywhere), ``optimizer_excluding=winograd`` (im2col tiles only),
    ``optimizer_excluding=winograd_forward`` (Winograd for input gradients only)."""
    if _REGISTERED:
        return
    from theano.tensor.nnet.opt import conv_groupopt
    from theano.tensor.opt import register_specialize_device
    for opt in (local_tiled_corr, local_tiled_corr_grad_inputs):
        conv_groupopt.register(opt.__name__, opt, "fast_compile", "fast_run",
                               "tiled_corr", position=-1)
    for opt in (local_absorb_pad, local_absorb_crop, local_absorb_bias):
        register_specialize_device(opt, "fast_compile", "fast_run", "tiled_corr")
    register_specialize_device(local_winograd, "fast_compile", "fast_run", "tiled_corr",
                               "winograd")
    register_specialize_device(local_winograd_forward, "fast_compile", "fast_run",
                               "tiled_corr", "winograd", "winograd_forward")
    _REGISTERED.append(True)

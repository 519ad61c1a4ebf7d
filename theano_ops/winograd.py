"""Winograd's minimal filtering F(m x m, 3x3), m = 2 or 4, for the tiled convolution ops
(Lavin & Gray 2016).

A 3x3 correlation computes each m x m block of outputs from the (m + 2) x (m + 2) block
of inputs under it (a = m + 2). Winograd's algorithm does it with a^2 multiplications
instead of 9 m^2: 16 instead of 36 for F(2x2, 3x3), 36 instead of 144 for F(4x4, 3x3).
It runs in three steps (``B``, ``G``, ``A`` are the algorithm's fixed matrices,
:data:`VARIANTS`):

* **weights**, once per kernel: ``U[e][k][c] = (G g_kc G^T)[e]``, g_kc the 3x3 kernel of
  output channel k and input channel c, e one of the a^2 positions of the a x a result;
* **inputs**, per a x a input tile d of channel c (tiles overlap by 2): ``V[e][c][t] =
  (B^T d B)[e]``;
* **products**, a^2 matrix products over the channels, ``M[e] = U[e] . V[e]`` (K x T,
  a GEMM each: this is where the time goes);
* **outputs**: ``y = A^T m A`` for the a x a block m of each tile and output channel.

The input gradient of a 3x3 correlation is again a 3x3 correlation, of the output
gradient with the kernel's taps reversed and its channels swapped, so one C function
serves :class:`theano_ops.corr_tiled.TiledCorr` and
:class:`theano_ops.corr_tiled.TiledCorrGradInputs`; they call it where it pays
(:func:`tile_size`: F(4x4, 3x3) from :data:`MIN_CHANNELS_4` channels and
:data:`MIN_SIZE_4` rows, F(2x2, 3x3) from :data:`MIN_CHANNELS` and :data:`MIN_SIZE`),
else run their im2col tiles. The lowering of Keras' convolutions gives it to every
forward and input gradient (``THEANO_FLAGS=optimizer_excluding=winograd_forward``
keeps forwards on im2col, ``optimizer_excluding=winograd`` both). The kernel's
transform is kept by the op and redone only when the kernel's bytes change.

Accuracy, as relative L2 to a float64 correlation on 512-channel layers with random
ReLU inputs: im2col in float32 about 3e-7, F(2x2, 3x3) 6e-7, F(4x4, 3x3) 3.4e-6 to
3.7e-6 (its transforms carry factors up to 8 and 1/24). Every path stays within 1e-5
of the im2col op, the bar ``tests/test_winograd.py`` holds them to.

Tiles are processed :data:`TILES` at a time per thread (the GEMMs' column count), the
images' tiles in one stream, so a batch of small maps still fills the GEMMs. Under
F(4x4, 3x3) an image's result can then depend on the batch it is computed in, at
float32 rounding (OpenBLAS takes another code path for some of the smaller GEMMs, and
a tile's place in them moves with the batch): on the stand-in VGG16, a gradient
computed alone and beside a second image differed by 6e-5 of its largest value.
F(2x2, 3x3) gave bit-identical results in both cases.
"""
import numpy as np

__all__ = ["C_SUPPORT", "MIN_CHANNELS", "MIN_CHANNELS_4", "TILES", "TILES_4", "VARIANTS",
           "tile_size", "winograd_corr"]

#: Tiles per GEMM under F(2x2, 3x3): the products' column count (a single-thread SGEMM
#: runs near its peak from a few hundred columns) ...
TILES = 384
#: ... and under F(4x4, 3x3), whose tiles carry 36 transformed values, not 16: at 384
#: a thread's V and M outgrow the cache and a 512-channel layer at 28x28 ran no faster
#: than F(2x2, 3x3); at 192 it took 0.70 s for 96 images, F(2x2, 3x3) 1.17 s.
TILES_4 = 192
#: The Winograd path runs where both channel counts reach this (at fewer channels the
#: transforms, not the GEMMs, dominate and im2col is as fast) ...
MIN_CHANNELS = 64
#: ... and the map it writes has at least this many rows and columns (on 4x4 maps a
#: third of the tiles' outputs would be padding and im2col was faster).
MIN_SIZE = 8
#: F(4x4, 3x3) instead of F(2x2, 3x3) where both channel counts reach this ...
MIN_CHANNELS_4 = 64
#: ... and the map has at least this many rows and columns (an 8x8 map would be a
#: quarter padding in 4x4 tiles; the synthetic world's surrogate, whose 64-channel
#: maps are 8x8, keeps F(2x2, 3x3)).
MIN_SIZE_4 = 12

# Winograd's matrices (Lavin & Gray, sections 4.1 and 4.2): m x m outputs from an
# (m + 2) x (m + 2) input tile; F(4x4, 3x3) interpolates at 0, 1, -1, 2, -2 and infinity.
VARIANTS = {
    2: (np.array([[1, 0, -1, 0], [0, 1, 1, 0], [0, -1, 1, 0], [0, 1, 0, -1]], np.float64),
        np.array([[1, 0, 0], [.5, .5, .5], [.5, -.5, .5], [0, 0, 1]], np.float64),
        np.array([[1, 1, 1, 0], [0, 1, -1, -1]], np.float64)),
    4: (np.array([[4, 0, -5, 0, 1, 0], [0, -4, -4, 1, 1, 0], [0, 4, -4, -1, 1, 0],
                  [0, -2, -1, 2, 1, 0], [0, 2, -1, -2, 1, 0], [0, 4, 0, -5, 0, 1]], np.float64),
        np.array([[1 / 4, 0, 0], [-1 / 6, -1 / 6, -1 / 6], [-1 / 6, 1 / 6, -1 / 6],
                  [1 / 24, 1 / 12, 1 / 6], [1 / 24, -1 / 12, 1 / 6], [0, 0, 1]], np.float64),
        np.array([[1, 1, 1, 1, 1, 0], [0, 1, -1, 2, -2, 0], [0, 1, 1, 4, 4, 0],
                  [0, 1, -1, 8, -8, 1]], np.float64)),
}


def tile_size(ci, ko, ho, wo):
    """The m of F(m x m, 3x3) the C code takes for these channel counts and output map
    (0: im2col)."""
    if min(ci, ko) >= MIN_CHANNELS_4 and min(ho, wo) >= MIN_SIZE_4:
        return 4
    if min(ci, ko) >= MIN_CHANNELS and min(ho, wo) >= MIN_SIZE:
        return 2
    return 0


def winograd_corr(x, w, pad=(0, 0, 0, 0), m=2):
    """NumPy reference of the C code: the 3x3 correlation of ``x`` (N, C, H, W) with
    ``w`` (K, C, 3, 3), zero padding (top, bottom, left, right), by F(m x m, 3x3).

    Args:
        m: 2 or 4, the output tile's side.

    Returns:
        (N, K, H + top + bottom - 2, W + left + right - 2), in x's dtype.
    """
    x, w = np.asarray(x), np.asarray(w)
    if x.ndim != 4 or w.shape[1:] != (x.shape[1], 3, 3):
        raise ValueError("x must be (N, C, H, W) and w (K, C, 3, 3), got %r and %r"
                         % (x.shape, w.shape))
    if m not in VARIANTS:
        raise ValueError("m must be one of %s, got %r" % (sorted(VARIANTS), m))
    bt, g, at = VARIANTS[m]
    a = m + 2
    pt, pb, pl, pr = pad
    xp = np.pad(x, ((0, 0), (0, 0), (pt, pb), (pl, pr)))
    n, c, h, wd = xp.shape
    ho, wo = h - 2, wd - 2
    th, tw = -(-ho // m), -(-wo // m)
    full = np.zeros((n, c, m * th + 2, m * tw + 2), x.dtype)
    full[:, :, :h, :wd] = xp
    u = np.einsum("ea,kcab,fb->efkc", g, w, g)
    d = np.stack([np.stack([full[:, :, m * i:m * i + a, m * j:m * j + a] for j in range(tw)], 2)
                  for i in range(th)], 2)                      # n c th tw a a
    v = np.einsum("ea,ncijab,fb->efcnij", bt, d, bt)
    mm = np.einsum("efkc,efcnij->efknij", u, v)
    y = np.einsum("ge,efknij,hf->nkigjh", at, mm, at).reshape(n, -1, m * th, m * tw)
    return y[:, :, :ho, :wo].astype(x.dtype)


def _combination(coefs, term):
    """C: sum_k coefs[k] * term(k), zero terms left out, unit ones without a product."""
    parts = []
    for k, c in enumerate(coefs):
        if c == 0:
            continue
        sign = "-" if c < 0 else "+"
        mag = abs(c)
        parts.append("%s %s" % (sign, term(k) if mag == 1 else "%.1ff * %s" % (mag, term(k))))
    text = " ".join(parts)
    return text[2:] if text.startswith("+ ") else "-" + text[2:]


def _variant_c(m):
    """C: hw3_wino<m>_corr, the F(m x m, 3x3) correlation, its transforms written out
    from :data:`VARIANTS` (no products with 0 or 1)."""
    bt, g, at = VARIANTS[m]
    a = m + 2
    rows_in = "\n".join("                s[%d][j] = %s;" % (i, _combination(
        bt[i], lambda k: "d[%d][j]" % k)) for i in range(a))
    cols_in = "\n".join("                v[(i * %d + %d) * step] = %s;" % (a, j, _combination(
        bt[j], lambda k: "s[i][%d]" % k)) for j in range(a))
    rows_out = "\n".join("                s[%d][j] = %s;" % (i, _combination(
        at[i], lambda k: "mv[%d]" % k)) for i in range(m))
    cols_out = "\n".join("                o[%d] = %s;" % (j, _combination(
        at[j], lambda k: "s[i][%d]" % k)) for j in range(m))
    return r"""
/* Returns 0, or -1 when out of memory (nothing written then). */
static int hw3_wino%(m)d_corr(const float* x, int N, int Ci, int H, int W, const float* U, int Ko,
                          const float* bias, int PT, int PL, float* y, int Ho, int Wo,
                          int tiles_per_gemm) {
    const int th = (Ho + %(m1)d) / %(m)d, tw = (Wo + %(m1)d) / %(m)d;
    const long long T = (long long)N * th * tw;
    const int nthreads = omp_get_max_threads();
    int TC = tiles_per_gemm;
    long long chunks = (T + TC - 1) / TC;
    if (T >= nthreads)                      /* every core busy, the same count each */
        chunks = (chunks + nthreads - 1) / nthreads * nthreads;
    TC = (int)((T + chunks - 1) / chunks);
    chunks = (T + TC - 1) / TC;
    const size_t per_thread = (size_t)%(aa)d * TC * ((size_t)Ci + Ko);
    float* buf = (float*)malloc(sizeof(float) * per_thread * nthreads);
    if (!buf) return -1;
    const int by_chunk = chunks >= nthreads;
    const int saved_threads = openblas_get_num_threads();
    if (by_chunk) openblas_set_num_threads(1);
    #pragma omp parallel for schedule(dynamic) if (by_chunk)
    for (long long ch = 0; ch < chunks; ++ch) {
        float* V = buf + per_thread * omp_get_thread_num();
        float* M = V + (size_t)%(aa)d * Ci * TC;
        const long long t0 = ch * TC;
        const int tn = (int)((T - t0 < TC) ? T - t0 : TC);
        /* inputs: V[e][c][t] = (B^T d B)[e] */
        for (int c = 0; c < Ci; ++c)
          for (int t = 0; t < tn; ++t) {
            const long long g = t0 + t;
            const int n = (int)(g / ((long long)th * tw));
            const int rem = (int)(g %% ((long long)th * tw));
            const int r0 = %(m)d * (rem / tw) - PT, c0 = %(m)d * (rem %% tw) - PL;
            const float* xc = x + ((size_t)n * Ci + c) * H * W;
            float d[%(a)d][%(a)d], s[%(a)d][%(a)d];
            for (int i = 0; i < %(a)d; ++i) {
                const int r = r0 + i;
                for (int j = 0; j < %(a)d; ++j) {
                    const int q = c0 + j;
                    d[i][j] = (r >= 0 && r < H && q >= 0 && q < W) ? xc[(size_t)r * W + q] : 0.f;
                }
            }
            for (int j = 0; j < %(a)d; ++j) {      /* s = B^T d */
%(rows_in)s
            }
            float* v = V + (size_t)c * TC + t;
            const size_t step = (size_t)Ci * TC;
            for (int i = 0; i < %(a)d; ++i) {      /* V = s B */
%(cols_in)s
            }
          }
        /* products: M[e] (Ko x tn) = U[e] (Ko x Ci) . V[e] (Ci x tn); column-major:
           M[e]' = V[e]' . U[e]' */
        for (int e = 0; e < %(aa)d; ++e) {
            const float one = 1.f, zero = 0.f;
            char nn = 'N';
            int m_ = tn, n_ = Ko, k_ = Ci, lda = TC, ldb = Ci, ldc = TC;
            sgemm_(&nn, &nn, &m_, &n_, &k_, &one, V + (size_t)e * Ci * TC, &lda,
                   U + (size_t)e * Ko * Ci, &ldb, &zero, M + (size_t)e * Ko * TC, &ldc);
        }
        /* outputs: y = A^T m A (+ bias), the %(m)dx%(m)d block of each tile */
        const size_t step = (size_t)Ko * TC;
        for (int k = 0; k < Ko; ++k) {
          const float b = bias ? bias[k] : 0.f;
          for (int t = 0; t < tn; ++t) {
            const long long g = t0 + t;
            const int n = (int)(g / ((long long)th * tw));
            const int rem = (int)(g %% ((long long)th * tw));
            const int i0 = %(m)d * (rem / tw), j0 = %(m)d * (rem %% tw);
            const float* mk = M + (size_t)k * TC + t;
            float s[%(m)d][%(a)d], o[%(m)d];
            for (int j = 0; j < %(a)d; ++j) {      /* s = A^T m */
                float mv[%(a)d];
                for (int i = 0; i < %(a)d; ++i) mv[i] = mk[(i * %(a)d + j) * step];
%(rows_out)s
            }
            float* yk = y + ((size_t)n * Ko + k) * Ho * Wo;
            for (int i = 0; i < %(m)d && i0 + i < Ho; ++i) {   /* y = s A */
%(cols_out)s
                float* row = yk + (size_t)(i0 + i) * Wo + j0;
                for (int j = 0; j < %(m)d && j0 + j < Wo; ++j) row[j] = o[j] + b;
            }
          }
        }
    }
    if (by_chunk) openblas_set_num_threads(saved_threads);
    free(buf);
    return 0;
}
""" % dict(m=m, m1=m - 1, a=a, aa=a * a, rows_in=rows_in, cols_in=cols_in,
           rows_out=rows_out, cols_out=cols_out)


def _matrix_c(name, mat):
    rows = ", ".join("{%s}" % ", ".join(repr(float(v)) for v in r) for r in mat)
    return "static const double %s[%d][3] = {%s};" % (name, len(mat), rows)


# The C side. hw3_wino_weights writes U ((m+2)^2 x Ko x Ci) from a kernel stored as
# 'oihw' (K, C, 3, 3) or 'hwio' (3, 3, C, K), in double before rounding to float;
# `grad` selects the input gradient's kernel (channels swapped, taps reversed), `flip`
# reverses the taps (a convolution). hw3_wino_corr computes y (N, Ko, Ho, Wo) =
# corr(x (N, Ci, H, W) zero-padded, U) (+ bias) by F(m x m, 3x3).
C_SUPPORT = "\n".join([_matrix_c("hw3_wino_G2", VARIANTS[2][1]),
                       _matrix_c("hw3_wino_G4", VARIANTS[4][1])]) + r"""
/* U's (A x A) block of one 3x3 kernel g: G g G^T in `real` arithmetic (float for
   F(2x2, 3x3), whose G holds 0 and +-1/2 only, double for F(4x4, 3x3)). */
#define HW3_WINO_TRANSFORM(real, Gm, A, g, u) do {                                   \
        real t_[6][3];                                                              \
        for (int i_ = 0; i_ < (A); ++i_)                                            \
          for (int b_ = 0; b_ < 3; ++b_)                                            \
            t_[i_][b_] = (real)Gm[i_][0] * g[0][b_] + (real)Gm[i_][1] * g[1][b_]     \
                         + (real)Gm[i_][2] * g[2][b_];                              \
        for (int i_ = 0; i_ < (A); ++i_)                                            \
          for (int j_ = 0; j_ < (A); ++j_)                                          \
            u[i_ * (A) + j_] = (float)(t_[i_][0] * (real)Gm[j_][0]                  \
                                      + t_[i_][1] * (real)Gm[j_][1]                 \
                                      + t_[i_][2] * (real)Gm[j_][2]);               \
    } while (0)

static void hw3_wino_weights(const float* w, int hwio, int K, int C, int grad, int flip,
                             int m, float* U) {
    const int Ko = grad ? C : K, Ci = grad ? K : C, A = m + 2;
    const int rev = (grad != 0) ^ (flip != 0);
    for (int ko = 0; ko < Ko; ++ko)
      for (int ci = 0; ci < Ci; ++ci) {
        const int k = grad ? ci : ko, c = grad ? ko : ci;
        float gf[3][3], u[36];
        double gd[3][3];
        for (int a = 0; a < 3; ++a)
          for (int b = 0; b < 3; ++b) {
            const int aa = rev ? 2 - a : a, bb = rev ? 2 - b : b;
            gf[a][b] = hwio ? w[((size_t)(aa * 3 + bb) * C + c) * K + k]
                            : w[(((size_t)k * C + c) * 3 + aa) * 3 + bb];
            gd[a][b] = gf[a][b];
          }
        if (m == 4) HW3_WINO_TRANSFORM(double, hw3_wino_G4, 6, gd, u);
        else HW3_WINO_TRANSFORM(float, hw3_wino_G2, 4, gf, u);
        for (int e = 0; e < A * A; ++e) U[((size_t)e * Ko + ko) * Ci + ci] = u[e];
      }
}
""" + _variant_c(2) + _variant_c(4) + r"""
static int hw3_wino_corr(const float* x, int N, int Ci, int H, int W, const float* U, int Ko,
                         const float* bias, int PT, int PL, float* y, int Ho, int Wo,
                         int tiles_per_gemm, int m) {
    return (m == 4 ? hw3_wino4_corr : hw3_wino2_corr)(x, N, Ci, H, W, U, Ko, bias, PT, PL,
                                                     y, Ho, Wo, tiles_per_gemm);
}
"""

"""Winograd's minimal filtering F(2x2, 3x3) for the tiled convolution ops (Lavin & Gray 2016).

A 3x3 correlation computes each 2x2 block of outputs from the 4x4 block of inputs
under it. Winograd's algorithm F(2x2, 3x3) does it with 16 multiplications instead of
36, in three steps (``B``, ``G``, ``A`` below are the algorithm's fixed matrices):

* **weights**, once per call: ``U[e][k][c] = (G g_kc G^T)[e]``, g_kc the 3x3 kernel of
  output channel k and input channel c, e one of the 16 positions of the 4x4 result;
* **inputs**, per 4x4 input tile d of channel c (tiles overlap by 2): ``V[e][c][t] =
  (B^T d B)[e]``;
* **products**, 16 matrix products over the channels, ``M[e] = U[e] . V[e]`` (K x T,
  a GEMM each: this is where the time goes, at 16/36 of the direct convolution's
  multiplications);
* **outputs**: ``y = A^T m A`` for the 4x4 block m of each tile and output channel.

The input gradient of a 3x3 correlation is again a 3x3 correlation, of the output
gradient with the kernel's taps reversed and its channels swapped, so one C function
serves :class:`theano_ops.corr_tiled.TiledCorr` and
:class:`theano_ops.corr_tiled.TiledCorrGradInputs`; they call it where it pays
(:data:`MIN_CHANNELS`, :data:`MIN_SIZE`), else run their im2col tiles. The lowering of
Keras' convolutions gives it to every forward and input gradient
(``THEANO_FLAGS=optimizer_excluding=winograd_forward`` keeps forwards on im2col,
``optimizer_excluding=winograd`` both). The kernel's
transform is kept by the op and redone only when the kernel's bytes change. F(2x2, 3x3) keeps float32's
accuracy (relative L2 to a float64 convolution about 6e-7 on a 512-channel layer;
F(4x4, 3x3) would save more multiplications at a larger error).

Tiles are processed :data:`TILES` at a time per thread (the GEMMs' column count), the
images' tiles in one stream, so a batch of small maps still fills the GEMMs.
"""
import numpy as np

__all__ = ["C_SUPPORT", "MIN_CHANNELS", "TILES", "winograd_corr"]

#: Tiles per GEMM: the products' column count (a single-thread SGEMM runs near its
#: peak from a few hundred columns).
TILES = 384
#: The Winograd path runs where both channel counts reach this (at fewer channels the
#: transforms, not the GEMMs, dominate and im2col is as fast) ...
MIN_CHANNELS = 64
#: ... and the map it writes has at least this many rows and columns (on 4x4 maps a
#: third of the tiles' outputs would be padding and im2col was faster).
MIN_SIZE = 8

# Winograd's matrices for F(2x2, 3x3) (Lavin & Gray, section 4.1).
BT = np.array([[1, 0, -1, 0], [0, 1, 1, 0], [0, -1, 1, 0], [0, 1, 0, -1]], np.float64)
G = np.array([[1, 0, 0], [.5, .5, .5], [.5, -.5, .5], [0, 0, 1]], np.float64)
AT = np.array([[1, 1, 1, 0], [0, 1, -1, -1]], np.float64)


def winograd_corr(x, w, pad=(0, 0, 0, 0)):
    """NumPy reference of the C code: the 3x3 correlation of ``x`` (N, C, H, W) with
    ``w`` (K, C, 3, 3), zero padding (top, bottom, left, right), by F(2x2, 3x3).

    Returns:
        (N, K, H + top + bottom - 2, W + left + right - 2), in x's dtype.
    """
    x, w = np.asarray(x), np.asarray(w)
    if x.ndim != 4 or w.shape[1:] != (x.shape[1], 3, 3):
        raise ValueError("x must be (N, C, H, W) and w (K, C, 3, 3), got %r and %r"
                         % (x.shape, w.shape))
    pt, pb, pl, pr = pad
    xp = np.pad(x, ((0, 0), (0, 0), (pt, pb), (pl, pr)))
    n, c, h, wd = xp.shape
    ho, wo = h - 2, wd - 2
    th, tw = (ho + 1) // 2, (wo + 1) // 2
    full = np.zeros((n, c, 2 * th + 2, 2 * tw + 2), x.dtype)
    full[:, :, :h, :wd] = xp
    u = np.einsum("ea,kcab,fb->efkc", G, w, G)
    d = np.stack([np.stack([full[:, :, 2 * i:2 * i + 4, 2 * j:2 * j + 4] for j in range(tw)], 2)
                  for i in range(th)], 2)                      # n c th tw 4 4
    v = np.einsum("ea,ncijab,fb->efcnij", BT, d, BT)
    m = np.einsum("efkc,efcnij->efknij", u, v)
    y = np.einsum("ge,efknij,hf->nkigjh", AT, m, AT).reshape(n, -1, 2 * th, 2 * tw)
    return y[:, :, :ho, :wo].astype(x.dtype)


# The C side. hw3_wino_weights writes U (16 x Ko x Ci) from a kernel stored as 'oihw'
# (K, C, 3, 3) or 'hwio' (3, 3, C, K); `grad` selects the input gradient's kernel
# (channels swapped, taps reversed), `flip` reverses the taps (a convolution).
# hw3_wino_corr computes y (N, Ko, Ho, Wo) = corr(x (N, Ci, H, W) zero-padded, U) (+ bias).
C_SUPPORT = r"""
static void hw3_wino_weights(const float* w, int hwio, int K, int C, int grad, int flip,
                             float* U) {
    const int Ko = grad ? C : K, Ci = grad ? K : C;
    const int rev = (grad != 0) ^ (flip != 0);
    for (int ko = 0; ko < Ko; ++ko)
      for (int ci = 0; ci < Ci; ++ci) {
        const int k = grad ? ci : ko, c = grad ? ko : ci;
        float g[3][3], t[4][3];
        for (int a = 0; a < 3; ++a)
          for (int b = 0; b < 3; ++b) {
            const int aa = rev ? 2 - a : a, bb = rev ? 2 - b : b;
            g[a][b] = hwio ? w[((size_t)(aa * 3 + bb) * C + c) * K + k]
                           : w[(((size_t)k * C + c) * 3 + aa) * 3 + bb];
          }
        for (int b = 0; b < 3; ++b) {          /* t = G g */
            t[0][b] = g[0][b];
            t[1][b] = 0.5f * (g[0][b] + g[1][b] + g[2][b]);
            t[2][b] = 0.5f * (g[0][b] - g[1][b] + g[2][b]);
            t[3][b] = g[2][b];
        }
        for (int i = 0; i < 4; ++i) {          /* U = t G^T */
            float u[4];
            u[0] = t[i][0];
            u[1] = 0.5f * (t[i][0] + t[i][1] + t[i][2]);
            u[2] = 0.5f * (t[i][0] - t[i][1] + t[i][2]);
            u[3] = t[i][2];
            for (int j = 0; j < 4; ++j)
                U[((size_t)(i * 4 + j) * Ko + ko) * Ci + ci] = u[j];
        }
      }
}

/* Returns 0, or -1 when out of memory (nothing written then). */
static int hw3_wino_corr(const float* x, int N, int Ci, int H, int W, const float* U, int Ko,
                         const float* bias, int PT, int PL, float* y, int Ho, int Wo,
                         int tiles_per_gemm) {
    const int th = (Ho + 1) / 2, tw = (Wo + 1) / 2;
    const long long T = (long long)N * th * tw;
    const int nthreads = omp_get_max_threads();
    int TC = tiles_per_gemm;
    long long chunks = (T + TC - 1) / TC;
    if (chunks < nthreads && T >= nthreads) chunks = nthreads;   /* every core busy */
    TC = (int)((T + chunks - 1) / chunks);
    chunks = (T + TC - 1) / TC;
    const size_t per_thread = (size_t)16 * TC * ((size_t)Ci + Ko);
    float* buf = (float*)malloc(sizeof(float) * per_thread * nthreads);
    if (!buf) return -1;
    const int by_chunk = chunks >= nthreads;
    const int saved_threads = openblas_get_num_threads();
    if (by_chunk) openblas_set_num_threads(1);
    #pragma omp parallel for schedule(dynamic) if (by_chunk)
    for (long long ch = 0; ch < chunks; ++ch) {
        float* V = buf + per_thread * omp_get_thread_num();
        float* M = V + (size_t)16 * Ci * TC;
        const long long t0 = ch * TC;
        const int tn = (int)((T - t0 < TC) ? T - t0 : TC);
        /* inputs: V[e][c][t] = (B^T d B)[e] */
        for (int c = 0; c < Ci; ++c)
          for (int t = 0; t < tn; ++t) {
            const long long g = t0 + t;
            const int n = (int)(g / ((long long)th * tw));
            const int rem = (int)(g % ((long long)th * tw));
            const int r0 = 2 * (rem / tw) - PT, c0 = 2 * (rem % tw) - PL;
            const float* xc = x + ((size_t)n * Ci + c) * H * W;
            float d[4][4], s[4][4];
            for (int i = 0; i < 4; ++i) {
                const int r = r0 + i;
                for (int j = 0; j < 4; ++j) {
                    const int q = c0 + j;
                    d[i][j] = (r >= 0 && r < H && q >= 0 && q < W) ? xc[(size_t)r * W + q] : 0.f;
                }
            }
            for (int j = 0; j < 4; ++j) {      /* s = B^T d */
                s[0][j] = d[0][j] - d[2][j];
                s[1][j] = d[1][j] + d[2][j];
                s[2][j] = d[2][j] - d[1][j];
                s[3][j] = d[1][j] - d[3][j];
            }
            float* v = V + (size_t)c * TC + t;
            const size_t step = (size_t)Ci * TC;
            for (int i = 0; i < 4; ++i) {      /* V = s B */
                v[(i * 4 + 0) * step] = s[i][0] - s[i][2];
                v[(i * 4 + 1) * step] = s[i][1] + s[i][2];
                v[(i * 4 + 2) * step] = s[i][2] - s[i][1];
                v[(i * 4 + 3) * step] = s[i][1] - s[i][3];
            }
          }
        /* products: M[e] (Ko x tn) = U[e] (Ko x Ci) . V[e] (Ci x tn); column-major:
           M[e]' = V[e]' . U[e]' */
        for (int e = 0; e < 16; ++e) {
            const float one = 1.f, zero = 0.f;
            char nn = 'N';
            int m_ = tn, n_ = Ko, k_ = Ci, lda = TC, ldb = Ci, ldc = TC;
            sgemm_(&nn, &nn, &m_, &n_, &k_, &one, V + (size_t)e * Ci * TC, &lda,
                   U + (size_t)e * Ko * Ci, &ldb, &zero, M + (size_t)e * Ko * TC, &ldc);
        }
        /* outputs: y = A^T m A (+ bias), the 2x2 block of each tile */
        const size_t step = (size_t)Ko * TC;
        for (int k = 0; k < Ko; ++k) {
          const float b = bias ? bias[k] : 0.f;
          for (int t = 0; t < tn; ++t) {
            const long long g = t0 + t;
            const int n = (int)(g / ((long long)th * tw));
            const int rem = (int)(g % ((long long)th * tw));
            const int i0 = 2 * (rem / tw), j0 = 2 * (rem % tw);
            const float* m = M + (size_t)k * TC + t;
            float s[2][4];
            for (int j = 0; j < 4; ++j) {      /* s = A^T m */
                const float m0 = m[(0 * 4 + j) * step], m1 = m[(1 * 4 + j) * step];
                const float m2 = m[(2 * 4 + j) * step], m3 = m[(3 * 4 + j) * step];
                s[0][j] = m0 + m1 + m2;
                s[1][j] = m1 - m2 - m3;
            }
            float* yk = y + ((size_t)n * Ko + k) * Ho * Wo;
            for (int i = 0; i < 2 && i0 + i < Ho; ++i) {   /* y = s A */
                float* row = yk + (size_t)(i0 + i) * Wo + j0;
                row[0] = s[i][0] + s[i][1] + s[i][2] + b;
                if (j0 + 1 < Wo) row[1] = s[i][1] - s[i][2] - s[i][3] + b;
            }
          }
        }
    }
    if (by_chunk) openblas_set_num_threads(saved_threads);
    free(buf);
    return 0;
}
"""

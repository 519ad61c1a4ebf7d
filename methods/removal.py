"""Removal methods on one batched forward engine: occlusion, insertion and deletion.

A removal method probes the model with *masked copies* of an image x: on a grid of
non-overlapping s x s superpixels, a binary keep-mask m (one entry per superpixel,
repeated over its s x s pixels) gives

    x_m = m * x + (1 - m) * x'

where x' is a baseline (black, white, a blurred copy: :mod:`methods.baselines`). The
quantity read from each copy is the target class's probability p_t
(:func:`methods.scores.probabilities`) or its score. :class:`RemovalEngine`
evaluates any list of (image, mask) jobs, many copies per forward batch, and the
three methods are masks for it:

* **Occlusion** (Zeiler & Fergus 2014): for superpixel S_j,
  occ_j = p_t(x) - p_t(x with S_j replaced by x'); every pixel of S_j gets occ_j.
* **Insertion** / **deletion** (Petsiuk et al. 2018, RISE): rank the superpixels by
  importance (``np.argsort(-importance.ravel(), kind="stable")``); the insertion
  curve is p_t of the baseline with the k most important superpixels of x put in,
  the deletion curve p_t of x with them replaced by the baseline, k = 0..n. The
  area under each curve is the trapezoid rule over the fraction k/n of superpixels
  (:func:`auc`): high is good for insertion, low for deletion.

``compression.py`` masks *slice channels* and runs g on cached h; here the masks are
in pixel space, so every copy runs the whole model.
"""
import hw3_env  # noqa: F401

import numpy as np

from methods.baselines import broadcast_baseline
from chain.checks import check_targets
from methods.scores import softmax
from notebook_tools.progress import progress as _progress

OUTPUTS = ("probability", "score")


def check_superpixel_size(size, hw):
    """The superpixel side s as an int; H and W must be multiples of it.

    Args:
        size: s, pixels per superpixel side.
        hw: (H, W) of the images.
    Raises:
        ValueError: s is not a positive int, or does not divide H and W.
    """
    h, w = (int(v) for v in hw)
    if isinstance(size, bool) or int(size) != size or int(size) < 1:
        raise ValueError("superpixel_size must be a positive int, got %r" % (size,))
    s = int(size)
    if h % s or w % s:
        raise ValueError("the image's height and width (%d x %d) must be multiples of "
                         "superpixel_size=%d; pick a size that divides both (e.g. %s)"
                         % (h, w, s, ", ".join(str(d) for d in (4, 8, 16, 32)
                                               if h % d == 0 and w % d == 0) or "1"))
    return s


def superpixel_sum(maps, superpixel_size):
    """Sum an importance map over each non-overlapping s x s superpixel.

    Args:
        maps: (N, H, W) pixel maps; H and W multiples of s.
        superpixel_size: s.
    Returns:
        float32 (N, H/s, W/s): entry (i, a, b) = sum of maps[i, a*s:(a+1)*s, b*s:(b+1)*s].
    """
    m = np.asarray(maps, dtype=np.float64)
    if m.ndim != 3:
        raise ValueError("maps must be (N, H, W) pixel maps, got shape %r; for one map use "
                         "maps[None]" % (m.shape,))
    s = check_superpixel_size(superpixel_size, m.shape[1:])
    n, h, w = m.shape
    return m.reshape(n, h // s, s, w // s, s).sum(axis=(2, 4)).astype(np.float32)


def upsample(grid_maps, superpixel_size):
    """Repeat each superpixel value over its s x s pixels: (N, h, w) -> (N, h*s, w*s)."""
    g = np.asarray(grid_maps)
    s = int(superpixel_size)
    return g.repeat(s, axis=-2).repeat(s, axis=-1)


def random_map(shape, seed=0):
    """A random importance map: i.i.d. standard Gaussian noise (the Random baseline of
    the ablation metrics), float32 of ``shape``, reproducible from ``seed``."""
    return np.random.default_rng(seed).standard_normal(tuple(shape)).astype(np.float32)


class RemovalEngine(object):
    """Evaluate masked copies x_m = m * x + (1 - m) * x' of images, batched.

    Args:
        model: the Keras model (input (N, C, H, W)).
        superpixel_size: s; the keep-masks live on the (H/s, W/s) grid.
        masks_per_call: masked copies per forward call (copies of several images share
            a call). The results do not depend on it.
        output: 'probability' (p_t = softmax(scores)_t, default) or 'score' (s_t).
    """

    def __init__(self, model, superpixel_size=8, masks_per_call=16, output="probability"):
        self.model = model
        shape = tuple(model.input_shape[1:])
        if len(shape) != 3:
            raise ValueError("the removal methods need image inputs (C, H, W), the model "
                             "takes %r" % (shape,))
        self.input_shape = shape
        self.superpixel_size = check_superpixel_size(superpixel_size, shape[1:])
        self.grid = (shape[1] // self.superpixel_size, shape[2] // self.superpixel_size)
        if isinstance(masks_per_call, bool) or int(masks_per_call) < 1:
            raise ValueError("masks_per_call must be an int >= 1 (masked copies per forward "
                             "call), got %r" % (masks_per_call,))
        self.masks_per_call = int(masks_per_call)
        if output not in OUTPUTS:
            raise ValueError("output must be one of %s, got %r" % (OUTPUTS, output))
        self.output = output

    @property
    def n_superpixels(self):
        return self.grid[0] * self.grid[1]

    def check_images(self, x):
        """Model inputs as float32 (N, C, H, W) (one (C, H, W) image is accepted)."""
        x = np.asarray(x, dtype=np.float32)
        if x.shape == self.input_shape:
            x = x[None]
        if x.ndim != 4 or x.shape[1:] != self.input_shape:
            raise ValueError("images must be preprocessed model inputs (N,) + %r, got %r"
                             % (self.input_shape, x.shape))
        return x

    def _read(self, batch, targets):
        scores = self.model.predict(batch, batch_size=len(batch))
        out = softmax(scores) if self.output == "probability" else scores.astype(np.float64)
        return out[np.arange(len(batch)), targets]

    def evaluate(self, x, baseline, owners, keep, targets, progress=False, desc="masked copies"):
        """The output of the target class on each masked copy.

        Args:
            x: images (N, C, H, W).
            baseline: what removed superpixels are replaced with: broadcastable to x
                (see :func:`methods.baselines.broadcast_baseline`).
            owners: (J,) index into x of each job's image.
            keep: bool (J, H/s, W/s): True where the job keeps the image's superpixel.
            targets: (N,) target class of each image.
            progress: show progress over the batches.
        Returns:
            float64 (J,): p_t (or s_t) of each masked copy.
        """
        x = self.check_images(x)
        base = broadcast_baseline(baseline, x)
        targets = check_targets(self.model, targets, len(x))
        owners = np.asarray(owners, dtype=np.int64).reshape(-1)
        keep = np.asarray(keep, dtype=bool)
        if keep.shape != (len(owners),) + self.grid:
            raise ValueError("keep must be (J,) + %r masks on the superpixel grid, one per "
                             "owner, got %r for %d owners" % (self.grid, keep.shape, len(owners)))
        if len(owners) and (owners.min() < 0 or owners.max() >= len(x)):
            raise ValueError("owners must index the %d images" % len(x))
        out = np.empty(len(owners), dtype=np.float64)
        s = self.superpixel_size
        for start in _progress(range(0, len(owners), self.masks_per_call), desc=desc,
                               unit="batch", disable=not progress):
            j = slice(start, start + self.masks_per_call)
            o = owners[j]
            m = upsample(keep[j], s)[:, None]                  # (B, 1, H, W)
            batch = np.where(m, x[o], base[o]).astype(np.float32)
            out[j] = self._read(batch, targets[o])
        return out

    # -- the three methods ----------------------------------------------------------
    def occlusion(self, x, targets, baseline, progress=False):
        """Occlusion scores: p_t(x) - p_t(x with superpixel j replaced by the baseline),
        on the pixels of superpixel j.

        Args:
            x: images (N, C, H, W); targets: (N,) classes; baseline: see :meth:`evaluate`.
        Returns:
            float32 (N, H, W).
        """
        x = self.check_images(x)
        n, g = len(x), self.n_superpixels
        # per image: the full image first, then each superpixel removed in turn
        one = np.concatenate([np.ones((1, g), bool), ~np.eye(g, dtype=bool)])
        keep = np.tile(one, (n, 1)).reshape((n * (g + 1),) + self.grid)
        owners = np.repeat(np.arange(n), g + 1)
        p = self.evaluate(x, baseline, owners, keep, targets, progress=progress,
                          desc="occlusion").reshape(n, g + 1)
        scores = (p[:, :1] - p[:, 1:]).reshape((n,) + self.grid)
        return upsample(scores, self.superpixel_size).astype(np.float32)

    def check_importance(self, importance):
        """An importance map on the superpixel grid: (1, h, w) or (h, w) -> (h, w)."""
        imp = np.asarray(importance, dtype=np.float64)
        if imp.ndim == 3 and len(imp) == 1:
            imp = imp[0]
        if imp.shape != self.grid:
            raise ValueError("importance must be (1,) + %r, one value per %dx%d superpixel "
                             "(reduce a pixel map with superpixel_sum(map, %d)), got %r"
                             % (self.grid, self.superpixel_size, self.superpixel_size,
                                self.superpixel_size, np.shape(importance)))
        if not np.isfinite(imp).all():
            raise ValueError("importance holds NaN or infinite values")
        return imp

    def curve(self, x, importance, target, baseline, kind, step=1, progress=False):
        """The insertion or deletion curve of one image.

        Args:
            x: one image (1, C, H, W) or (C, H, W).
            importance: (1, H/s, W/s) or (H/s, W/s), higher = more important.
            target: the class whose output is read.
            baseline: the baseline image (broadcastable to x).
            kind: 'insertion' (start at the baseline, put superpixels of x in) or
                'deletion' (start at x, replace superpixels by the baseline).
            step: superpixels added/removed per point (>= 1); the curve then has the
                points k = 0, step, 2 step, ..., n (n always included).
        Returns:
            (curve, num_feats): float64 outputs and the int numbers k of superpixels
            inserted/deleted at each point.
        """
        if kind not in ("insertion", "deletion"):
            raise ValueError("kind must be 'insertion' or 'deletion', got %r" % (kind,))
        x = self.check_images(x)
        if len(x) != 1:
            raise ValueError("insertion/deletion explain one image (1, C, H, W), got %d"
                             % len(x))
        imp = self.check_importance(importance)
        if isinstance(step, bool) or int(step) != step or int(step) < 1:
            raise ValueError("step must be an int >= 1 (superpixels per point), got %r"
                             % (step,))
        n = imp.size
        order = np.argsort(-imp.ravel(), kind="stable")
        rank = np.empty(n, dtype=np.int64)
        rank[order] = np.arange(n)
        ks = np.arange(0, n + 1, int(step))
        if ks[-1] != n:
            ks = np.append(ks, n)
        first_k = rank[None, :] < ks[:, None]                  # the k most important
        keep = first_k if kind == "insertion" else ~first_k
        curve = self.evaluate(x, baseline, np.zeros(len(ks), np.int64),
                              keep.reshape((len(ks),) + self.grid), [int(target)],
                              progress=progress, desc=kind)
        return curve, ks


def auc(curve, num_feats):
    """Area under an insertion/deletion curve: the trapezoid rule over the fraction of
    superpixels, num_feats / num_feats[-1] (0..1)."""
    y = np.asarray(curve, dtype=np.float64)
    k = np.asarray(num_feats, dtype=np.float64)
    if y.shape != k.shape or y.ndim != 1 or len(y) < 2 or k[-1] <= 0:
        raise ValueError("curve and num_feats must be 1-D of the same length >= 2, "
                         "num_feats ending at n > 0; got %r and %r" % (y.shape, k.shape))
    t = k / k[-1]
    return float(np.sum((t[1:] - t[:-1]) * (y[1:] + y[:-1]) / 2.0))

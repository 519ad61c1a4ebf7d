"""Measures that grade any explanation map: one number per image.

Every measure takes maps of any method, (N, H, W) or pixel attributions (N, 3, H, W),
reduced the same way for all (:func:`reduce_maps`: the sum over colour channels), and
returns a float64 array (N,), so the comparison can put a mean and a bootstrap interval
(:func:`bootstrap_interval`) on each.

* **Localisation ratio** (:func:`localisation`, from :mod:`evaluation.ground_truth`):
  (positive mass inside the mask / all positive mass) / (mask area / image area). 1 is
  chance, ``1 / share`` is a map that lies entirely in the mask.
* **Pointing game** (:func:`pointing_game`, Zhang et al. 2016): is the map's maximum inside
  the mask? Tied maxima count by the share of them inside (the expected hit of a random
  tie-break), so a uniform map scores the mask's share of the image.
* **Part truth** (:func:`part_truth`): the localisation ratio on a part region, for a
  comparative quantity whose true answer is that region (the roof for
  s_sports car - s_convertible, the cargo bed for s_pickup - s_van).
* **Model randomisation** (:func:`randomisation_correlation`, Adebayo et al. 2018): the
  Spearman rank correlation of each map with the same method's map on the model with
  its top layers re-initialised; lower is better (the map depends on what the model
  learned).
"""
import numpy as np

from evaluation import ground_truth

__all__ = ["reduce_maps", "localisation", "pointing_game", "part_truth",
           "randomisation_correlation", "bootstrap_interval", "summarise"]


def reduce_maps(maps):
    """(N, H, W) float64 maps from (N, H, W) maps or (N, 3, H, W) pixel attributions
    (the sum over colour channels, as :func:`ground_truth.pixel_mass` does)."""
    m = np.asarray(maps, dtype=np.float64)
    if m.ndim == 4 and m.shape[1] in (1, 3):
        m = m.sum(axis=1)
    if m.ndim != 3:
        raise ValueError("maps must be (N, H, W) or (N, 3, H, W), got shape %r" % (m.shape,))
    return m


def _masks_for(maps, masks, name="masks"):
    k = np.asarray(masks)
    if k.dtype != bool:
        raise ValueError("%s must be boolean (N, H, W), got dtype %s" % (name, k.dtype))
    if k.shape != maps.shape:
        raise ValueError("%s %r and maps %r differ in shape: one (H, W) mask per map"
                         % (name, k.shape, maps.shape))
    return k


def localisation(maps, masks):
    """Localisation ratio of each map to its mask.

    Args:
        maps: (N, H, W) or (N, 3, H, W).
        masks: bool (N, H, W).
    Returns:
        float64 (N,): (positive mass in mask / positive mass) / (mask share); nan for a
        map with no positive mass or an empty mask.
    """
    m = reduce_maps(maps)
    k = _masks_for(m, masks)
    return np.array([ground_truth.localisation_ratio(a, b) for a, b in zip(m, k)])


def pointing_game(maps, masks):
    """Hit (1) when the map's maximum lies in the mask, else 0.

    With several pixels at the maximum the score is the share of them inside the mask,
    the expected hit of a random tie-break: a uniform map scores the mask's share.

    Returns:
        float64 (N,) in [0, 1]; nan for an empty mask.
    """
    m = reduce_maps(maps)
    k = _masks_for(m, masks)
    out = np.full(len(m), np.nan)
    for i, (a, b) in enumerate(zip(m, k)):
        if b.any():
            top = a == a.max()
            out[i] = top[b].sum() / top.sum()
    return out


def part_truth(maps, regions):
    """Localisation ratio of comparative maps on the region that truly tells the two
    classes apart (the twins differ only there).

    Args:
        maps: maps of a comparative quantity, e.g. s_sports car - s_convertible.
        regions: bool (N, H, W): the 'roof' or 'bed' region of each scene.
    Returns:
        float64 (N,), as :func:`localisation`.
    """
    return localisation(maps, regions)


def randomisation_correlation(maps, maps_randomised, absolute=False):
    """Spearman rank correlation of each map with the same method's map on the
    randomised model (:func:`ground_truth.randomized_copy`); lower is better.

    Args:
        absolute: compare magnitudes instead of signed values.
    Returns:
        float64 (N,) in [-1, 1]; nan where a map is constant.
    """
    a, b = reduce_maps(maps), reduce_maps(maps_randomised)
    if a.shape != b.shape:
        raise ValueError("maps %r and maps_randomised %r differ in shape" % (a.shape, b.shape))
    out = np.full(len(a), np.nan)
    for i, (x, y) in enumerate(zip(a, b)):
        if np.ptp(x) > 0 and np.ptp(y) > 0:
            out[i] = ground_truth.rank_correlation(x, y, absolute=absolute)
    return out


def bootstrap_interval(values, level=0.95, n_boot=2000, seed=0):
    """Mean and percentile-bootstrap interval of per-image values (nan dropped).

    Args:
        values: (N,) numbers, one per image.
        level: the interval's coverage (0.95: the 2.5 and 97.5 percentiles of the
            means of ``n_boot`` resamples of the N images with replacement).
        seed: the resampling's seed (the table is reproducible).
    Returns:
        (mean, low, high); all nan when no value is finite.
    """
    v = np.asarray(values, dtype=np.float64).ravel()
    v = v[np.isfinite(v)]
    if not 0 < level < 1:
        raise ValueError("level must be in (0, 1), got %r" % (level,))
    if len(v) == 0:
        return float("nan"), float("nan"), float("nan")
    rng = np.random.default_rng(seed)
    means = v[rng.integers(0, len(v), size=(int(n_boot), len(v)))].mean(axis=1)
    lo, hi = np.percentile(means, [50 * (1 - level), 50 * (1 + level)])
    return float(v.mean()), float(lo), float(hi)


def summarise(values, digits=2, **kw):
    """``mean [low, high]`` text of :func:`bootstrap_interval`, or ``n/a``."""
    mean, lo, hi = bootstrap_interval(values, **kw)
    if not np.isfinite(mean):
        return "n/a"
    return "%.*f [%.*f, %.*f]" % (digits, mean, digits, lo, digits, hi)

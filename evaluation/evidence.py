"""Evidence for written answers: what a map, a ranked list or a curve shows, as numbers.

A written answer about a figure is rendered from these numbers (or asserted on them in a
cell nbval runs), so that a re-run in either world prints true text or fails. One module
serves every notebook.

With masks (the synthetic world):

* :func:`part_profile`: where a map's positive (or negative) mass falls, region by region
  (the object, each named part, the distractor shapes, the background), as a ratio to
  chance: (share of the mass inside the region) / (the region's share of the image),
  averaged over images. 1 is chance; ``1 / area`` is a map that lies entirely inside.
* :func:`parts_under_peaks`: the regions under the strongest cells of a map (an occlusion
  map's windows, a CAM's cells).

Without masks (any world):

* :func:`focus`: the share of positive mass held by the strongest pixels.
* :func:`list_overlap`, :func:`recurring`: shared members of ranked lists (top neurons).
* :func:`crossing`: where two curves cross.

Sentences: :func:`ranking_sentence` and :func:`profile_table` turn the numbers into the
words and tables shown beside the figures.
"""
import numpy as np

from evaluation.measures import reduce_maps
from synthetic_world.scenes import BACKGROUND_KINDS

__all__ = ["BACKGROUND", "regions_of", "PartProfile", "part_profile", "profile_table",
           "ranking_sentence", "parts_under_peaks", "focus", "negative_share", "list_overlap",
           "recurring", "crossing", "ordinal", "times"]

BACKGROUND = "background"
"""The region outside the object (and outside the distractor shapes, where they are known)."""


def regions_of(masks, parts=None):
    """The regions a profile is measured on, from a world's masks.

    Args:
        masks: dict name -> bool (N, H, W), as an ImageSet's ``masks`` (must hold
            ``'object'``; ``'distractors'`` is used where present).
        parts: names to keep, in order (default: every mask but the background
            textures' (:data:`synthetic_world.scenes.BACKGROUND_KINDS`), which are
            concepts of the scene, not regions of an answer); ``'background'`` is
            always added: pixels in neither the object nor the distractors.
    Returns:
        dict name -> bool (N, H, W), in the order given, background last.
    """
    if not masks or "object" not in masks:
        raise ValueError("masks must be a dict holding an 'object' mask (the synthetic "
                         "world's ImageSet.masks); got %r" % (sorted(masks or {}),))
    names = ([p for p in masks if p not in BACKGROUND_KINDS] if parts is None
             else list(parts))
    missing = [p for p in names if p not in masks and p != BACKGROUND]
    if missing:
        raise ValueError("no mask named %s; available: %s" % (missing, sorted(masks)))
    outside = ~np.asarray(masks["object"], bool)
    if "distractors" in masks:
        outside &= ~np.asarray(masks["distractors"], bool)
    out = {p: np.asarray(masks[p], bool) for p in names if p != BACKGROUND}
    out[BACKGROUND] = outside
    return out


class PartProfile:
    """Where a batch of maps puts its mass, region by region.

    Attributes:
        ratio: dict region -> mean ratio to chance over the images (nan where no image
            has both mass and a non-empty region).
        share: dict region -> mean share of the mass inside the region.
        area: dict region -> mean share of the image the region covers.
        sign: ``'positive'`` or ``'negative'`` mass.
        n: number of images.
    """

    def __init__(self, ratio, share, area, sign, n):
        self.ratio, self.share, self.area, self.sign, self.n = ratio, share, area, sign, n

    def ranked(self, exclude=("object",)):
        """Regions by ratio to chance, highest first (nan last), without ``exclude``."""
        items = [(p, r) for p, r in self.ratio.items() if p not in exclude]
        return sorted(items, key=lambda pr: (not np.isfinite(pr[1]), -np.nan_to_num(pr[1])))

    def rank_of(self, region, exclude=("object",)):
        """1-based place of ``region`` in :meth:`ranked`."""
        return [p for p, _ in self.ranked(exclude)].index(region) + 1

    def top(self, exclude=("object",)):
        """The region with the highest ratio to chance."""
        return self.ranked(exclude)[0][0]

    def __repr__(self):
        return "PartProfile(%s mass, %d images: %s)" % (
            self.sign, self.n, ", ".join("%s %s" % (p, times(r)) for p, r in self.ranked(())))


def part_profile(maps, masks, parts=None, sign="positive"):
    """Where the maps' positive (or negative) mass falls, region by region.

    For image i and region R with pixel mass :math:`m_i` (the map's positive part, or
    the negative part's magnitude), the ratio to chance is

    .. math:: r_i(R) = \\frac{\\sum_{p \\in R} m_i(p) / \\sum_p m_i(p)}{|R| / |\\text{image}|}

    and the profile holds its mean over the images (images with no such mass, or an
    empty R, are left out). For the positive sign and R the object this is
    :func:`evaluation.ground_truth.localisation_ratio`.

    Args:
        maps: (N, H, W) maps or (N, 3, H, W) pixel attributions (summed over colour).
        masks: dict name -> bool (N, H, W) (see :func:`regions_of`).
        parts: region names to measure (default: every mask, and the background).
        sign: ``'positive'`` or ``'negative'``.
    Returns:
        :class:`PartProfile`.
    """
    if sign not in ("positive", "negative"):
        raise ValueError("sign must be 'positive' or 'negative', got %r" % (sign,))
    m = reduce_maps(maps)
    mass = np.maximum(m if sign == "positive" else -m, 0)
    regions = regions_of(masks, parts)
    ratio, share, area = {}, {}, {}
    total = mass.sum(axis=(1, 2))
    for name, region in regions.items():
        if region.shape != m.shape:
            raise ValueError("mask %r has shape %r, the maps %r: one (H, W) mask per map"
                             % (name, region.shape, m.shape))
        a = region.mean(axis=(1, 2))
        s = np.where(total > 0, (mass * region).sum(axis=(1, 2)) / np.where(total > 0, total, 1),
                     np.nan)
        ok = np.isfinite(s) & (a > 0)
        ratio[name] = float(np.mean(s[ok] / a[ok])) if ok.any() else float("nan")
        share[name] = float(np.nanmean(s)) if np.isfinite(s).any() else float("nan")
        area[name] = float(a.mean())
    return PartProfile(ratio, share, area, sign, len(m))


def times(r, digits=1):
    """``'2.1x'`` (ratio to chance), ``'n/a'`` for nan."""
    return "n/a" if not np.isfinite(r) else "%.*fx" % (digits, r)


def ordinal(k):
    """1 -> 'first', 2 -> 'second', ... ('11th' past ten)."""
    words = ["first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth",
             "ninth", "tenth"]
    return words[k - 1] if 1 <= k <= 10 else "%dth" % k


def ranking_sentence(subject, profile, focus_region=None, exclude=("object",), label=None):
    """One sentence saying where ``profile`` puts its mass, chosen by the numbers.

    Example: "the comparative neuron's positive mass is highest on the wheels (5.8x
    chance); the roof comes third (2.1x)".

    Args:
        subject: who owns the map ("the comparative neuron").
        profile: a :class:`PartProfile`.
        focus_region: a region the answer is about; its place is named when it is not
            first.
        label: dict region -> words (default: the region's name with '_' as a space).
    Returns:
        str, without a final full stop.
    """
    label = label or {}
    word = lambda p: label.get(p, p.replace("_", " "))
    ranked = [(p, r) for p, r in profile.ranked(exclude) if np.isfinite(r)]
    if not ranked:
        return "%s has no %s mass to place" % (subject, profile.sign)
    top, r = ranked[0]
    text = "%s's %s mass is highest on the %s (%s chance)" % (subject, profile.sign, word(top),
                                                             times(r))
    if focus_region is not None and focus_region != top:
        k = profile.rank_of(focus_region, exclude)
        text += "; the %s comes %s of %d (%s)" % (word(focus_region), ordinal(k), len(ranked),
                                                 times(profile.ratio[focus_region]))
    return text


def profile_table(profiles, regions=None, caption=None):
    """A Markdown table: one row per map (``profiles``: dict row label -> PartProfile),
    one column per region, each cell the ratio to chance.

    Args:
        regions: the columns, in order (default: the first profile's regions).
        caption: a line above the table (default: says what the numbers are).
    Returns:
        Markdown text.
    """
    if not profiles:
        raise ValueError("profiles is empty: pass a dict row label -> PartProfile")
    first = next(iter(profiles.values()))
    regions = list(regions or first.ratio)
    caption = caption or ("Ratio of each map's %s mass on a region to the region's share of "
                          "the image (1x is chance), mean over %d images."
                          % (first.sign, first.n))
    head = "| | " + " | ".join(r.replace("_", " ") for r in regions) + " |"
    rule = "|---" * (len(regions) + 1) + "|"
    rows = ["| %s | %s |" % (name, " | ".join(times(p.ratio.get(r, np.nan)) for r in regions))
            for name, p in profiles.items()]
    return "\n".join([caption, "", head, rule] + rows)


def parts_under_peaks(a_map, masks, k=2, cell=1):
    """The regions under the ``k`` strongest cells of one map.

    The map is averaged over ``cell`` x ``cell`` blocks (an occlusion window, a CAM's
    cell); each of the ``k`` highest blocks is named by the region (other than the whole
    object) that covers most of its pixels.

    Args:
        a_map: (H, W) map, or (3, H, W) summed over colour.
        masks: dict name -> bool (H, W) for this one image (see :func:`regions_of`).
        k: how many peaks.
        cell: block size in pixels (H and W must be multiples of it).
    Returns:
        list of ``k`` dicts: ``value``, ``region``, ``coverage`` (share of the block's
        pixels in that region), ``row``, ``col`` (block indices), highest first.
    """
    m = reduce_maps(np.asarray(a_map)[None])[0]
    h, w = m.shape
    if h % cell or w % cell:
        raise ValueError("cell=%d must divide the map's size %dx%d" % (cell, h, w))
    regions = {p: r for p, r in regions_of({n: np.asarray(v)[None] for n, v in masks.items()})
               .items() if p != "object"}
    blocks = m.reshape(h // cell, cell, w // cell, cell).mean(axis=(1, 3))
    order = np.argsort(-blocks, axis=None, kind="stable")[:k]
    out = []
    for flat in order:
        i, j = np.unravel_index(flat, blocks.shape)
        cover = {p: float(r[0, i * cell:(i + 1) * cell, j * cell:(j + 1) * cell].mean())
                 for p, r in regions.items()}
        best = max(cover, key=cover.get)
        out.append({"value": float(blocks[i, j]), "region": best, "coverage": cover[best],
                    "row": int(i), "col": int(j)})
    return out


def focus(maps, top=0.1):
    """Share of each map's positive mass held by its ``top`` fraction of pixels.

    ``top`` for a map spread evenly over the image, 1 for one that lies entirely within
    that many pixels. Needs no masks.

    Returns:
        float64 (N,); nan for a map with no positive mass.
    """
    if not 0 < top <= 1:
        raise ValueError("top must be a fraction in (0, 1], got %r" % (top,))
    m = np.maximum(reduce_maps(maps), 0).reshape(len(maps), -1)
    k = max(1, int(round(top * m.shape[1])))
    total = m.sum(axis=1)
    head = -np.sort(-m, axis=1)[:, :k].sum(axis=1)
    return np.where(total > 0, head / np.where(total > 0, total, 1), np.nan)


def negative_share(values):
    """Share of the absolute mass of ``values`` (a map, or a stack of maps pooled) that
    is negative: sum(max(-v, 0)) / sum(|v|); 0 for an all-zero input."""
    v = np.asarray(values, dtype=np.float64)
    total = np.abs(v).sum()
    return float(np.maximum(-v, 0).sum() / total) if total > 0 else 0.0


def list_overlap(a, b):
    """Members two ranked lists share.

    Returns:
        dict ``shared`` (sorted list), ``n_shared``, ``jaccard`` (|a & b| / |a | b|).
    """
    sa, sb = {int(v) for v in a}, {int(v) for v in b}
    union = sa | sb
    return {"shared": sorted(sa & sb), "n_shared": len(sa & sb),
            "jaccard": len(sa & sb) / len(union) if union else float("nan")}


def recurring(lists):
    """Members that appear in more than one list.

    Args:
        lists: dict name -> iterable (e.g. class -> its top neurons).
    Returns:
        dict member -> sorted names of the lists it is in, only for members in two or
        more lists, most frequent first.
    """
    seen = {}
    for name, members in lists.items():
        for v in dict.fromkeys(int(m) for m in members):
            seen.setdefault(v, []).append(name)
    common = {v: sorted(names) for v, names in seen.items() if len(names) > 1}
    return dict(sorted(common.items(), key=lambda kv: (-len(kv[1]), kv[0])))


def crossing(x, y1, y2):
    """Where curve ``y1`` first crosses curve ``y2`` (linear between the samples).

    Args:
        x: (K,) increasing abscissae; y1, y2: (K,) values.
    Returns:
        dict ``x`` (the first crossing, nan when the curves never cross), ``before``
        (+1 when y1 > y2 before it, -1 when below, 0 where they start equal).
    """
    x, y1, y2 = (np.asarray(v, dtype=np.float64) for v in (x, y1, y2))
    if not x.shape == y1.shape == y2.shape or x.ndim != 1:
        raise ValueError("x, y1 and y2 must be 1-d of one length, got %r %r %r"
                         % (x.shape, y1.shape, y2.shape))
    d = y1 - y2
    before = int(np.sign(d[0])) if len(d) else 0
    for i in range(1, len(d)):
        if d[i - 1] != 0 and (d[i] == 0 or np.sign(d[i]) != np.sign(d[i - 1])):
            t = d[i - 1] / (d[i - 1] - d[i])
            return {"x": float(x[i - 1] + t * (x[i] - x[i - 1])), "before": before}
    return {"x": float("nan"), "before": before}


# ---------------------------------------------------------------------------
# notebooks/tub_sheet11: how rough a picture is (activation maximisation's prototypes
# against real images)
# ---------------------------------------------------------------------------
def roughness(images):
    """Mean absolute difference between neighbouring pixels, per image:
    (mean |x[:, i, j+1] - x[:, i, j]| + mean |x[:, i+1, j] - x[:, i, j]|) / 2, over
    colour channels too. 0 for a flat picture; a checkerboard of 0 and v gives v.

    Args:
        images: (N, H, W, 3) pictures (uint8 or float) or (N, H, W) maps.
    Returns:
        float64 (N,), in the pictures' units (grey levels for uint8).
    """
    x = np.asarray(images, dtype=np.float64)
    if x.ndim == 3:
        x = x[..., None]
    if x.ndim != 4 or x.shape[1] < 2 or x.shape[2] < 2:
        raise ValueError("images must be (N, H, W, 3) or (N, H, W) with H, W >= 2, got %r"
                         % (np.shape(images),))
    dx = np.abs(np.diff(x, axis=2)).mean(axis=(1, 2, 3))
    dy = np.abs(np.diff(x, axis=1)).mean(axis=(1, 2, 3))
    return (dx + dy) / 2


def pct(v):
    """A share as a whole percentage: ``0.825`` -> ``'83%'``; ``'n/a'`` for nan."""
    return "n/a" if not np.isfinite(v) else "%.0f%%" % (100 * v)

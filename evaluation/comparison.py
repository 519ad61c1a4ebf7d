"""Every explanation method graded on the same images: the table of the comparison.

A :class:`Method` is anything with the contract of :mod:`methods.registry`,
``explain(imgs, model, target_labels) -> maps`` ((N, H, W) or (N, 3, H, W)); where the
method can explain a comparative quantity it also has
``comparative(imgs, model, c1, c2) -> maps`` (maps of s_c1 - s_c2). :func:`grade` runs
one method on a :class:`Scenes` set, times it and applies every measure of
:mod:`evaluation.measures` that the set allows: the mask measures need the synthetic
world's masks, the model-randomisation check a randomised copy of the model, the
ablation metrics (insertion / deletion AUC) a function that computes them. What is
missing gives NaN columns with the reason, so the ImageNet world's table has its
mask-free columns filled and says why the others are empty.
"""
import time
from dataclasses import dataclass, field
from typing import Callable, Dict, Optional

import numpy as np

from evaluation import evidence, measures as M
from notebook_tools.progress import progress

__all__ = ["Method", "Scenes", "grade", "compare", "table_markdown", "synthetic_scenes",
           "photo_scenes", "difference_term_correlation", "reading",
           "localisation_paragraph", "comparative_paragraph", "randomisation_paragraph",
           "ablation_paragraph", "parameters_paragraph", "time_paragraph", "signed_methods",
           "pointing_split"]


@dataclass
class Method:
    """An explanation method as the comparison calls it.

    Attributes:
        name: the row label.
        explain: ``(imgs, model, target_labels) -> maps`` for the class score or
            probability the method's own homework explains.
        comparative: ``(imgs, model, c1, c2) -> maps`` of s_c1 - s_c2, or None when
            the method cannot explain a comparative quantity.
        settings: the defaults used and which homework they come from.
        images_per_call: images per call of ``explain``.
    """
    name: str
    explain: Callable
    comparative: Optional[Callable] = None
    settings: str = ""
    images_per_call: int = 10


@dataclass
class Scenes:
    """The images a comparison runs on.

    Attributes:
        x: model inputs (N, 3, H, W).
        labels: (N,) the class each map explains (the true class).
        masks: bool (N, H, W) object masks, or None (ImageNet world).
        pairs: comparative tests: list of (indices, c1, c2, regions) where the twins
            c1 and c2 differ only inside ``regions`` (bool (len(indices), H, W)).
    """
    x: np.ndarray
    labels: np.ndarray
    masks: Optional[np.ndarray] = None
    pairs: list = field(default_factory=list)


def _run(fn, x, images_per_call, desc, *args):
    maps, start = [], time.perf_counter()
    for i in progress(range(0, len(x), images_per_call), desc=desc, unit="batch"):
        sl = slice(i, i + images_per_call)
        maps.append(np.asarray(fn(x[sl], *[a[sl] if isinstance(a, np.ndarray) else a
                                           for a in args])))
    return np.concatenate(maps), (time.perf_counter() - start) / len(x)


def grade(method, model, scenes, randomised_model=None, ablation=None,
          randomisation_images=None):
    """Run ``method`` on ``scenes`` and measure it.

    Args:
        method: a :class:`Method`.
        model: the Keras model.
        scenes: a :class:`Scenes`.
        randomised_model: the model with its top layers re-initialised
            (:func:`evaluation.ground_truth.randomized_copy`), or None.
        ablation: ``(x, labels, maps) -> (insertion_auc (N,), deletion_auc (N,))``,
            or None.
        randomisation_images: indices of the images the randomisation check runs on
            (None: all); the others get NaN there.
    Returns:
        dict measure -> float64 (N,) per-image values (absent measures are all NaN),
        plus 'seconds' (per image) and 'maps' (the reduced (N, H, W) maps).
    """
    n = len(scenes.x)
    nan = np.full(n, np.nan)
    maps, seconds = _run(lambda x, y: method.explain(x, model, y), scenes.x,
                         method.images_per_call, "explaining with %s" % method.name, scenes.labels)
    maps = M.reduce_maps(maps)
    row = {"maps": maps, "seconds": seconds}
    if scenes.masks is not None:
        row["localisation"] = M.localisation(maps, scenes.masks)
        row["pointing"] = M.pointing_game(maps, scenes.masks)
    else:
        row["localisation"] = row["pointing"] = nan
    part = []
    if method.comparative is not None:
        for idx, c1, c2, regions in scenes.pairs:
            cmaps, _ = _run(lambda x: method.comparative(x, model, c1, c2), scenes.x[idx],
                            method.images_per_call, "%s on s_%s - s_%s" % (method.name, c1, c2))
            part.append(M.part_truth(cmaps, regions))
    row["part"] = np.concatenate(part) if part else nan
    if ablation is not None:
        row["insertion"], row["deletion"] = (np.asarray(v, dtype=np.float64)
                                             for v in ablation(scenes.x, scenes.labels, maps))
    else:
        row["insertion"] = row["deletion"] = nan
    row["randomisation"] = nan.copy()
    idx = (np.arange(n) if randomisation_images is None
           else np.asarray(randomisation_images, dtype=int))
    if randomised_model is not None and len(idx):
        rmaps, _ = _run(lambda x, y: method.explain(x, randomised_model, y), scenes.x[idx],
                        method.images_per_call, "%s on the randomised model" % method.name,
                        scenes.labels[idx])
        row["randomisation"][idx] = M.randomisation_correlation(maps[idx], rmaps)
    return row


MEASURES = ("localisation", "pointing", "part", "insertion", "deletion", "randomisation")
"""The table's columns, in order."""

HEADERS = {"localisation": "object localisation (1 = chance)",
           "pointing": "pointing game",
           "part": "part truth (the twins' part)",
           "insertion": "insertion AUC",
           "deletion": "deletion AUC (lower better)",
           "randomisation": "randomisation rank corr. (lower better)"}


def compare(methods, model, scenes, randomised_model=None, ablation=None,
            randomisation_images=None):
    """:func:`grade` for every method: dict name -> row (empty for no images)."""
    if len(scenes.x) == 0:
        return {}
    return {m.name: grade(m, model, scenes, randomised_model, ablation, randomisation_images)
            for m in progress(methods, desc="grading %d methods" % len(methods), unit="method")}


def table_markdown(results, why_empty=None, digits=2, measures=MEASURES):
    """The comparison table: methods x measures, ``mean [95% bootstrap interval]``,
    and the time per image.

    Args:
        results: dict name -> row of :func:`grade`.
        why_empty: dict measure -> reason, written under the table for every
            measure that has no values.
        measures: the columns (default all of :data:`MEASURES`).
    Returns:
        Markdown text.
    """
    cols = list(measures)
    n = max((len(row["maps"]) for row in results.values()), default=0)
    counts = {c: max(int(np.isfinite(row[c]).sum()) for row in results.values())
              for c in cols} if results else {}
    fewer = ["%s on %d" % (HEADERS[c].split(" (")[0], k) for c, k in counts.items()
             if 0 < k < n]
    lines = ["Each cell: the mean over %d images [95%% bootstrap interval]%s; the last "
             "column is the time per image." % (n, " (%s)" % "; ".join(fewer) if fewer else ""),
             "",
             "| method | " + " | ".join(HEADERS[c] for c in cols) + " | s / image |",
             "| --- |" + " --- |" * (len(cols) + 1)]
    for name, row in results.items():
        cells = [M.summarise(row[c], digits=digits) for c in cols]
        lines.append("| %s | %s | %.3f |" % (name, " | ".join(cells), row["seconds"]))
    empty = [c for c in cols if all(not np.isfinite(row[c]).any() for row in results.values())]
    notes = ["*%s*: %s" % (HEADERS[c], (why_empty or {}).get(c, "not measured"))
             for c in empty]
    return "\n".join(lines + ([""] + notes if notes else []))


# ---------------------------------------------------------------------------
# The image sets and the figure
# ---------------------------------------------------------------------------
TWIN_TESTS = ((1, 2, "roof"), (3, 4, "bed"))
"""(c1, c2, part): explain s_c1 - s_c2 on images of c1; the twins differ only in the
part (sports car vs convertible: the roof; pickup vs van: the cargo bed)."""


def synthetic_scenes(world, per_class=10, seed=None):
    """Held-out scenes of every class of the synthetic world, with object masks and
    the two twin tests.

    Args:
        world: the synthetic :class:`test_data.World`.
        per_class: scenes per class (interleaved: scene 0 of every class first).
        seed: the world's seed (default ``test_data.SYNTHETIC_SEED``).
    Returns:
        (:class:`Scenes`, pictures uint8 (N, H, W, 3)).
    """
    import test_data
    from synthetic_world import scenes
    if world.name != "synthetic":
        raise ValueError("synthetic_scenes needs the synthetic world (it has part masks), "
                         "got %r; use photo_scenes for the ImageNet world" % world.name)
    if int(per_class) < 1:
        raise ValueError("per_class must be >= 1, got %r" % (per_class,))
    seed = test_data.SYNTHETIC_SEED if seed is None else seed
    pictures, labels, masks = scenes.heldout_scenes(int(per_class), seed=seed, interleave=True)
    pairs = []
    for c1, c2, part in TWIN_TESTS:
        idx = np.flatnonzero(labels == c1)
        pairs.append((idx, c1, c2, masks[part][idx]))
    return Scenes(world.preprocess(pictures), labels, masks["object"], pairs), pictures


def photo_scenes(world, image_set):
    """The ImageNet world's set: photos with their true classes, no masks.

    Returns:
        (:class:`Scenes`, pictures uint8 (N, H, W, 3)).
    """
    return Scenes(world.preprocess(image_set.images), np.asarray(image_set.labels)), \
        np.asarray(image_set.images)


def difference_term_correlation(maps, x, baseline):
    """Mean Spearman rank correlation of each map with the difference term alone,
    |x - x'| summed over colour channels, which no model enters.

    Args:
        maps: (N, H, W) maps (or (N, 3, H, W)).
        x: the inputs (N, 3, H, W); baseline: x' of the same shape.
    Returns:
        float (nan when no map varies).
    """
    diff = np.abs(np.asarray(x, np.float64) - np.asarray(baseline, np.float64)).sum(axis=1)
    r = M.randomisation_correlation(maps, diff)
    return float(np.nanmean(r)) if np.isfinite(r).any() else float("nan")


# ---------------------------------------------------------------------------
# Reading the tables: the written answers, rendered from the numbers
# ---------------------------------------------------------------------------
def mean_of(row, measure):
    """The table's mean of one measure for one row (nan when nothing was measured)."""
    return M.bootstrap_interval(row[measure])[0]


def interval_of(row, measure):
    """(mean, low, high) of one measure, as the table prints it."""
    return M.bootstrap_interval(row[measure])


def ranked(results, measure, reverse=True):
    """[(name, mean)] of the rows where ``measure`` was measured, best first
    (``reverse=False``: lowest first)."""
    rows = [(n, mean_of(r, measure)) for n, r in results.items()]
    rows = [(n, v) for n, v in rows if np.isfinite(v)]
    return sorted(rows, key=lambda nv: -nv[1] if reverse else nv[1])


def above_chance(results, measure):
    """Names of the rows whose interval of a ratio-to-chance measure lies above 1."""
    return [n for n, r in results.items() if np.isfinite(mean_of(r, measure))
            and interval_of(r, measure)[1] > 1]


def _f(v, digits=2):
    return "%.*f" % (digits, v)


def _span(values, digits=2):
    """'a' or 'a to b' (min to max) of some numbers."""
    lo, hi = min(values), max(values)
    return _f(lo, digits) if _f(lo, digits) == _f(hi, digits) else \
        "%s to %s" % (_f(lo, digits), _f(hi, digits))


def _names(names, italic=True):
    """'*A*, *B* and *C*' (method names in italics)."""
    names = ["*%s*" % n if italic else n for n in names]
    if len(names) <= 1:
        return "".join(names)
    return ", ".join(names[:-1]) + " and " + names[-1]


def _listing(pairs, digits=2, unit=""):
    """'*A* (1.00), *B* (0.50) and *C* (0.20)'."""
    return _names(("*%s* (%s%s)" % (n, _f(v, digits), unit) for n, v in pairs), italic=False)


def _cap(text):
    """Capitalise the first letter (after any Markdown emphasis)."""
    i = len(text) - len(text.lstrip("*"))
    return text[:i] + text[i:i + 1].upper() + text[i + 1:]


def _is_cam(name):
    return "CAM" in name


def signed_methods(results, share=0.05):
    """Names of the methods whose maps carry negative evidence: the negative part holds
    at least ``share`` of the maps' total absolute mass."""
    out = []
    for name, row in results.items():
        if evidence.negative_share(row["maps"]) >= share:
            out.append(name)
    return out


def pointing_split(pointing):
    """How pointing-game scores split: the map's maximum wholly on the object (1),
    wholly off it (0), or straddling its edge (a tied window, scored by its share on
    the object).

    Returns:
        dict ``on``, ``off``, ``edge``: shares of the images (nan values left out).
    """
    p = np.asarray(pointing, dtype=np.float64)
    p = p[np.isfinite(p)]
    if not len(p):
        return {"on": np.nan, "off": np.nan, "edge": np.nan}
    on, off = float(np.mean(p == 1)), float(np.mean(p == 0))
    return {"on": on, "off": off, "edge": 1 - on - off}


def localisation_paragraph(results, sweep=None, cam_side=None, image_side=None):
    """**Which methods localise**: the ranking by object localisation, who does not beat
    chance, the pointing game of the best and of the CAMs, and, where the second table
    has it, Grad-CAM one block lower.

    Args:
        results: the main table's rows (:func:`compare`).
        sweep: the parameter table's rows, or None.
        cam_side, image_side: the last convolution's and the image's side in pixels.
    Returns:
        Markdown (one paragraph).
    """
    head = "**Which methods localise.** "
    loc = ranked(results, "localisation")
    if not loc:
        return head + ("Not measured here: these images have no object masks, so only the "
                       "figure shows where each map lies.")
    above = above_chance(results, "localisation")
    rest = [n for n, _ in loc if n not in above]
    text = [head]
    if rest:
        text.append("The localisation interval lies above chance (1) for every method but "
                    "%s. " % _names(rest))
    else:
        text.append("The localisation interval lies above chance (1) for every method. ")
    text.append("*%s* is the most concentrated on the object (localisation ratio %s)"
                % (loc[0][0], _f(loc[0][1])))
    if len(loc) > 1:
        text.append(", followed by %s" % _listing(loc[1:min(6, len(loc))]))
    text.append(".")
    best = [n for n, _ in loc[:6]]
    point = [(n, mean_of(results[n], "pointing")) for n in best]
    point = [(n, v) for n, v in point if np.isfinite(v)]
    if point:
        text.append(" The maximum of these %d maps lies on the object in %s%% of the images."
                    % (len(point), _span([100 * v for _, v in point], 0)))
    cams = [(n, v) for n, v in loc if _is_cam(n)]
    if cams:
        cp = [mean_of(results[n], "pointing") for n, _ in cams]
        text.append(" The %s localise at %s and point at the object in %s%% of the images."
                    % ("CAMs" if len(cams) > 1 else "*%s*" % cams[0][0],
                       _span([v for _, v in cams]),
                       _span([100 * v for v in cp], 0)))
        if cam_side and image_side:
            text.append(" A CAM is drawn at the resolution of the last convolution, %dx%d "
                        "cells for a %dx%d image, and upsampled bilinearly."
                        % (cam_side, cam_side, image_side, image_side))
        low = {n: mean_of(r, "localisation") for n, r in (sweep or {}).items()
               if n.startswith("Grad-CAM (")}
        if "Grad-CAM (last convolution)" in low and "Grad-CAM (one block lower)" in low:
            a, b = low["Grad-CAM (last convolution)"], low["Grad-CAM (one block lower)"]
            verb = "rises" if b > a else "falls"
            text.append(" One block lower, Grad-CAM's localisation %s from %s to %s (second "
                        "table)%s." % (verb, _f(a), _f(b),
                                       ", so the coarse grid explains much of the CAMs' low "
                                       "score" if b > 1.5 * a else ""))
    if "occlusion" in results and np.isfinite(mean_of(results["occlusion"], "pointing")):
        split = pointing_split(results["occlusion"]["pointing"])
        text.append(" Occlusion's pointing game is %s: its strongest window lies wholly on "
                    "the object in %d%% of the images, wholly off it in %d%%, and across the "
                    "object's edge in %d%% (scored by the share of its pixels on the object)."
                    % (_f(mean_of(results["occlusion"], "pointing")), round(100 * split["on"]),
                       round(100 * split["off"]), round(100 * split["edge"])))
    return "".join(text)


def comparative_paragraph(results, parts=None):
    """**The comparative quantity**: part truth of every method that explains
    s_c1 - s_c2.

    Returns:
        Markdown (one paragraph).
    """
    head = "**The comparative quantity.** "
    parts = parts or "the part in which the twins differ (%s)" % _names(
        ("the %s" % p for _, _, p in TWIN_TESTS), italic=False)
    part = ranked(results, "part")
    if not part:
        return head + ("Not measured here: it needs classes that differ in one known part, "
                       "with that part's mask, which these images do not have.")
    above = above_chance(results, "part")
    text = [head]
    if len(above) == len(part):
        text.append("Every method that explains $s_{c_1} - s_{c_2}$ puts more of its "
                    "positive mass on %s than chance (every interval above 1). " % parts)
    else:
        below = [n for n, _ in part if n not in above]
        text.append("%s put%s no more mass on %s than chance allows (interval reaching 1); "
                    "the others do. " % (_cap(_names(below)), "s" if len(below) == 1 else "",
                                         parts))
    if len(part) > 4:
        text.append("%s concentrate most on it; *%s* is the weakest (%s)."
                    % (_cap(_listing(part[:4])), part[-1][0], _f(part[-1][1])))
    else:
        text.append("In order of part truth: %s." % _listing(part))
    sig = set(signed_methods(results))
    top = [n for n, _ in part[:min(4, len(part))]]
    k = len([n for n in top if n in sig])
    text.append(" %d of these %d keep the sign of their attribution "
                "(their maps have negative evidence too)." % (k, len(top)))
    return "".join(text)


def randomisation_paragraph(results, difference_term=None):
    """**Which methods pass the sanity check**: the rank correlation with the maps of the
    randomised model.

    Args:
        difference_term: (name, correlation) of a baseline method's map with
            |x - x'| alone, or None.
    Returns:
        Markdown (one paragraph).
    """
    head = "**Which methods pass the sanity check.** "
    rc = ranked(results, "randomisation", reverse=False)
    if not rc:
        return head + "Not measured in this run (no images for the randomisation check)."
    changed = [(n, mean_of(results[n], "randomisation")) for n, _ in rc
               if interval_of(results[n], "randomisation")[1] <= 0
               <= interval_of(results[n], "randomisation")[2]]
    kept = [(n, v) for n, v in rc if v >= 0.7 and n != "random"]
    negative = [(n, v) for n, v in rc if interval_of(results[n], "randomisation")[2] < 0]
    text = [head, "Re-initialising the top layers should change an explanation. "]
    if changed:
        text.append("%s change completely: %s rank correlation interval contains 0 (%s). "
                    % (_cap(_names(n for n, _ in changed)),
                       "its" if len(changed) == 1 else "their",
                       _span([v for _, v in changed])))
    if kept:
        text.append("%s keep%s much of %s structure (%s): %s little on what "
                    "the top layers learned. "
                    % (_cap(_names(n for n, _ in kept)), "s" if len(kept) == 1 else "",
                       "its" if len(kept) == 1 else "their", _span([v for _, v in kept]),
                       "its maps depend" if len(kept) == 1 else "their maps depend"))
    if "random" in results and np.isfinite(mean_of(results["random"], "randomisation")):
        text.append("The random map scores %s: it ignores the model by construction. "
                    % _f(mean_of(results["random"], "randomisation")))
    if negative:
        text.append("%s correlate%s negatively (%s): the regions %s ranks first on the "
                    "trained model tend to come last on the randomised one. "
                    % (_cap(_names(n for n, _ in negative)), "s" if len(negative) == 1 else "",
                       _span([v for _, v in negative]),
                       "it" if len(negative) == 1 else "each"))
    if difference_term is not None:
        name, r = difference_term
        text.append("The maps of *%s* have a mean rank correlation of %s with $|x - x'|$ "
                    "alone, which no model enters%s. "
                    % (name, _f(r), ": much of their ordering comes from the difference "
                       "term" if r >= 0.5 else ", so the difference term alone does not explain "
                       "their ordering"))
    return "".join(text).rstrip()


def ablation_paragraph(results):
    """**Where the ablation metrics and the ground truth disagree**: insertion and
    deletion AUC against localisation and the randomisation check.

    Returns:
        Markdown (one or two paragraphs).
    """
    from evaluation.ground_truth import rank_correlation
    head = "**The ablation metrics.** "
    ins = ranked(results, "insertion")
    if not ins:
        return head + "Not measured in this run."
    text = [head, "The best insertion AUCs go to %s." % _listing(ins[:4])]
    rnd = mean_of(results["random"], "insertion") if "random" in results else np.nan
    loc = ranked(results, "localisation")
    if loc:
        both = [n for n, _ in loc if np.isfinite(mean_of(results[n], "insertion"))]
        rho = rank_correlation(np.array([mean_of(results[n], "localisation") for n in both]),
                               np.array([mean_of(results[n], "insertion") for n in both]))
        if rho < -0.3:
            verdict = "ranks the methods roughly the other way round from"
        elif rho < 0.3:
            verdict = "ranks the methods independently of"
        else:
            verdict = "ranks the methods much like"
        text.append(" Insertion AUC %s object localisation (rank correlation %s over %d "
                    "methods)." % (verdict, _f(rho), len(both)))
        top = [(n, mean_of(results[n], "insertion")) for n, _ in loc[:3]]
        text.append(" The three best localising methods score %s%s."
                    % (_listing(top), "" if not np.isfinite(rnd)
                       else ", against %s for the random map" % _f(rnd)))
        sig = set(signed_methods(results))
        s = [mean_of(results[n], "insertion") for n, _ in ins if n in sig and n != "random"]
        u = [mean_of(results[n], "insertion") for n, _ in ins if n not in sig and n != "random"]
        if s and u:
            text.append(" Methods whose maps are signed score %s, the non-negative maps %s."
                        % (_span(s), _span(u)))
            if rho < 0 and max(s) < min(u):
                text.append(" Likely causes, not tested one by one here: insertion follows "
                            "$p_t$ along a path from a black image, which is the path of IG "
                            "from black and occlusion's own removal; the signed maps of HW3 "
                            "and sheet 11 explain the class score, not the probability $p_t$ "
                            "that insertion measures; and a magnitude map ranks "
                            "edges first, which may raise $p_t$ quickly whether or not the "
                            "decision rests on them.")
    dele = ranked(results, "deletion", reverse=False)
    if dele:
        rd = mean_of(results["random"], "deletion") if "random" in results else np.nan
        worse = [(n, v) for n, v in dele if np.isfinite(rd) and n != "random"
                 and interval_of(results[n], "deletion")[1] > rd]
        others = [v for n, v in dele if n != "random"] or [v for _, v in dele]
        text.append("\n\nDeletion AUC (lower is better) spans %s over the methods%s."
                    % (_span(others), "" if not np.isfinite(rd) else " (random: %s)" % _f(rd)))
        if worse:
            text.append(" %s %s worse than random there, the whole interval above it (%s)."
                        % (_cap(_names(n for n, _ in worse)), "is" if len(worse) == 1 else "are",
                           _span([v for _, v in worse])))
    if loc and ins:
        text.append(" So an ablation metric answers \"which pixels move $p_t$ along this "
                    "removal path\", which need not be \"which pixels the model uses\".")
    return "".join(text)


def family(name):
    """The method a variant belongs to: 'SmoothGrad (sigma = 0.05)' -> 'SmoothGrad'."""
    return name.split(" (")[0]


def parameters_paragraph(sweep):
    """**Free parameters**: each method's variants in the second table, by localisation
    and insertion AUC.

    Returns:
        Markdown (a list, one item per method).
    """
    head = "**Free parameters** (second table)."
    if not sweep:
        return head + " Not run (no images for the parameter table)."
    groups = {}
    for name in sweep:
        groups.setdefault(family(name), []).append(name)
    items = []
    for fam, names in groups.items():
        loc = [(n, mean_of(sweep[n], "localisation")) for n in names]
        ins = [interval_of(sweep[n], "insertion") for n in names]
        setting = lambda n: n[len(fam):].strip(" ()")
        parts = []
        if all(np.isfinite(v) for _, v in loc):
            best = max(loc, key=lambda nv: nv[1])
            parts.append("localisation %s; best at %s"
                         % (", ".join("%s at %s" % (_f(v), setting(n)) for n, v in loc),
                            setting(best[0])))
        if all(np.isfinite(i[0]) for i in ins):
            overlap = max(i[1] for i in ins) <= min(i[2] for i in ins)
            parts.append("insertion AUC %s (%s)" % (
                _span([i[0] for i in ins]),
                "the intervals overlap" if overlap else "the intervals do not all overlap"))
        sec = [sweep[n]["seconds"] for n in names]
        if min(sec) > 0:
            parts.append("%s s per image" % _span(sec, 3))
        items.append("* *%s*: %s." % (fam, "; ".join(parts)))
    return "\n".join([head, ""] + items)


def time_paragraph(results, load=None, cores=None):
    """**Time**: seconds per image of the main table, and the load they were measured
    under.

    Args:
        load: the 1-minute load average before and after the grading, or None.
        cores: the machine's cores.
    Returns:
        Markdown (one paragraph).
    """
    head = "**Time.** "
    sec = sorted(((n, r["seconds"]) for n, r in results.items() if n != "random"),
                 key=lambda nv: nv[1])
    if not sec:
        return head + "Nothing was timed."
    text = [head, "Per image, the slowest methods are %s; the fastest %s. "
            % (_listing(sec[::-1][:3], 3, " s"), _listing(sec[:3], 3, " s")),
            "Each time includes what the method compiles at its first call (its Theano "
            "gradients). "]
    if load is not None:
        busy = cores is not None and max(load) > cores
        text.append("They were measured at a load average of %.1f to %.1f%s%s."
                    % (min(load), max(load), "" if cores is None else " on %d cores" % cores,
                       ": other jobs shared the machine, so they are higher than on an idle "
                       "one" if busy else ""))
    return "".join(text).rstrip()


def reading(results, sweep=None, context=None):
    """Every written answer about the two tables, rendered from them.

    Args:
        results: the main table's rows; sweep: the parameter table's rows.
        context: keyword arguments for the paragraphs: ``cam_side``,
            ``image_side``, ``difference_term``, ``load``, ``cores``.
    Returns:
        Markdown.
    """
    c = dict(context or {})
    return "\n\n".join([
        localisation_paragraph(results, sweep, c.get("cam_side"), c.get("image_side")),
        comparative_paragraph(results),
        randomisation_paragraph(results, c.get("difference_term")),
        ablation_paragraph(results),
        parameters_paragraph(sweep),
        time_paragraph(results, c.get("load"), c.get("cores"))])

"""Every explanation method graded on the same images: the table of the comparison.

A :class:`Method` is anything with the homeworks' signature
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

from evaluation import measures as M
from notebook_tools.progress import progress

__all__ = ["Method", "Scenes", "grade", "compare", "table_markdown"]


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
        batch_size: images per call of ``explain``.
    """
    name: str
    explain: Callable
    comparative: Optional[Callable] = None
    settings: str = ""
    batch_size: int = 10


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


def _run(fn, x, batch_size, desc, *args):
    maps, start = [], time.perf_counter()
    for i in progress(range(0, len(x), batch_size), desc=desc, unit="batch"):
        sl = slice(i, i + batch_size)
        maps.append(np.asarray(fn(x[sl], *[a[sl] if isinstance(a, np.ndarray) else a
                                           for a in args])))
    return np.concatenate(maps), (time.perf_counter() - start) / len(x)


def grade(method, model, scenes, randomised_model=None, ablation=None):
    """Run ``method`` on ``scenes`` and measure it.

    Args:
        method: a :class:`Method`.
        model: the Keras model.
        scenes: a :class:`Scenes`.
        randomised_model: the model with its top layers re-initialised
            (:func:`evaluation.ground_truth.randomized_copy`), or None.
        ablation: ``(x, labels, maps) -> (insertion_auc (N,), deletion_auc (N,))``,
            or None.
    Returns:
        dict measure -> float64 (N,) per-image values (absent measures are all NaN),
        plus 'seconds' (per image) and 'maps' (the reduced (N, H, W) maps).
    """
    n = len(scenes.x)
    nan = np.full(n, np.nan)
    maps, seconds = _run(lambda x, y: method.explain(x, model, y), scenes.x,
                         method.batch_size, "explaining with %s" % method.name, scenes.labels)
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
                            method.batch_size, "%s on s_%s - s_%s" % (method.name, c1, c2))
            part.append(M.part_truth(cmaps, regions))
    row["part"] = np.concatenate(part) if part else nan
    if ablation is not None:
        row["insertion"], row["deletion"] = (np.asarray(v, dtype=np.float64)
                                             for v in ablation(scenes.x, scenes.labels, maps))
    else:
        row["insertion"] = row["deletion"] = nan
    if randomised_model is not None:
        rmaps, _ = _run(lambda x, y: method.explain(x, randomised_model, y), scenes.x,
                        method.batch_size, "%s on the randomised model" % method.name,
                        scenes.labels)
        row["randomisation"] = M.randomisation_correlation(maps, rmaps)
    else:
        row["randomisation"] = nan
    return row


MEASURES = ("localisation", "pointing", "part", "insertion", "deletion", "randomisation")
"""The table's columns, in order."""

HEADERS = {"localisation": "object localisation (1 = chance)",
           "pointing": "pointing game",
           "part": "part truth (roof / bed)",
           "insertion": "insertion AUC",
           "deletion": "deletion AUC (lower better)",
           "randomisation": "randomisation rank corr. (lower better)"}


def compare(methods, model, scenes, randomised_model=None, ablation=None):
    """:func:`grade` for every method: dict name -> row."""
    return {m.name: grade(m, model, scenes, randomised_model, ablation) for m in methods}


def table_markdown(results, why_empty=None, digits=2):
    """The comparison table: methods x measures, ``mean [95% bootstrap interval]``,
    and the time per image.

    Args:
        results: dict name -> row of :func:`grade`.
        why_empty: dict measure -> reason, written under the table for every
            measure that has no values.
    Returns:
        Markdown text.
    """
    cols = [c for c in MEASURES]
    lines = ["| method | " + " | ".join(HEADERS[c] for c in cols) + " | s / image |",
             "| --- |" + " --- |" * (len(cols) + 1)]
    for name, row in results.items():
        cells = [M.summarise(row[c], digits=digits) for c in cols]
        lines.append("| %s | %s | %.3f |" % (name, " | ".join(cells), row["seconds"]))
    empty = [c for c in cols if all(not np.isfinite(row[c]).any() for row in results.values())]
    notes = ["*%s*: %s" % (HEADERS[c], (why_empty or {}).get(c, "not measured"))
             for c in empty]
    return "\n".join(lines + ([""] + notes if notes else []))

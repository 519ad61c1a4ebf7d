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
    row["randomisation"] = nan.copy()
    idx = (np.arange(n) if randomisation_images is None
           else np.asarray(randomisation_images, dtype=int))
    if randomised_model is not None and len(idx):
        rmaps, _ = _run(lambda x, y: method.explain(x, randomised_model, y), scenes.x[idx],
                        method.batch_size, "%s on the randomised model" % method.name,
                        scenes.labels[idx])
        row["randomisation"][idx] = M.randomisation_correlation(maps[idx], rmaps)
    return row


MEASURES = ("localisation", "pointing", "part", "insertion", "deletion", "randomisation")
"""The table's columns, in order."""

HEADERS = {"localisation": "object localisation (1 = chance)",
           "pointing": "pointing game",
           "part": "part truth (roof / bed)",
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
    lines = ["| method | " + " | ".join(HEADERS[c] for c in cols) + " | s / image |",
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
    if world.name != "synthetic":
        raise ValueError("synthetic_scenes needs the synthetic world (it has part masks), "
                         "got %r; use photo_scenes for the ImageNet world" % world.name)
    if int(per_class) < 1:
        raise ValueError("per_class must be >= 1, got %r" % (per_class,))
    seed = test_data.SYNTHETIC_SEED if seed is None else seed
    drawn = [world._synthetic.generate(c, int(per_class), "heldout", seed=seed)
             for c in range(len(world.class_names))]
    order = [(i, c) for i in range(int(per_class)) for c in range(len(drawn))]
    pictures = np.stack([drawn[c][0][i] for i, c in order]).astype(np.uint8)
    labels = np.array([c for _, c in order])
    masks = np.stack([drawn[c][1]["object"][i] for i, c in order]).astype(bool)
    pairs = []
    for c1, c2, part in TWIN_TESTS:
        idx = np.flatnonzero(labels == c1)
        regions = np.stack([drawn[c1][1][part][i] for i, c in order if c == c1]).astype(bool)
        pairs.append((idx, c1, c2, regions))
    return Scenes(world.preprocess(pictures), labels, masks, pairs), pictures


def photo_scenes(world, image_set):
    """The ImageNet world's set: photos with their true classes, no masks.

    Returns:
        (:class:`Scenes`, pictures uint8 (N, H, W, 3)).
    """
    return Scenes(world.preprocess(image_set.images), np.asarray(image_set.labels)), \
        np.asarray(image_set.images)


def plot_maps(results, pictures, indices, titles):
    """Every method's map on the same few images: one column per image, one row per
    method (signed maps on ``seismic`` with symmetric limits; non-negative maps run
    from white to red)."""
    import matplotlib.pyplot as plt
    names = list(results)
    fig, axes = plt.subplots(len(names) + 1, len(indices),
                             figsize=(1.7 * len(indices) + 1.6, 1.6 * (len(names) + 1)),
                             squeeze=False)
    for j, (i, t) in enumerate(zip(indices, titles)):
        axes[0, j].imshow(pictures[i])
        axes[0, j].set_title(t, fontsize=8)
        for r, name in enumerate(names, start=1):
            m = results[name]["maps"][i]
            lim = np.abs(m).max() or 1.0
            axes[r, j].imshow(m, cmap="seismic", vmin=-lim, vmax=lim)
    for r, name in enumerate(["image"] + names):
        axes[r, 0].set_ylabel(name, fontsize=7, rotation=0, ha="right", va="center")
    for ax in axes.ravel():
        ax.set_xticks([])
        ax.set_yticks([])
    fig.tight_layout()
    return fig

"""Charts: curves against a fraction, bars per image, Figure 3's recall/precision grid,
network dissection's histograms. One-panel functions take ``ax=None``, several-panel ones
``axes=None``; all return the Figure.
"""
import hw3_env  # noqa: F401

import numpy as np

from plots.heat import _given_axes, _new_axes, method_cmap


def _one_axes(ax, width, height):
    """The axes given, or those of a new constrained figure of that size."""
    if ax is None:
        _, grid = _new_axes(1, 1, width, height)
        return grid[0, 0]
    return ax


def curves_plot(curves, ylabel, title, xlabel="fraction of superpixels", ylim=(-0.02, 1.02),
                ax=None):
    """Curves against a fraction: dict label -> (x, y); x is divided by its last value.

    Returns:
        the matplotlib Figure.
    """
    ax = _one_axes(ax, 5, 3.4)
    for label, (x, y) in curves.items():
        x = np.asarray(x, dtype=np.float64)
        ax.plot(x / x[-1], y, label=label)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=10)
    if ylim:
        ax.set_ylim(*ylim)
    ax.legend(fontsize=8)
    return ax.figure


def plot_iou_bars(names, values, title, mean=None, ax=None):
    """A bar per image (the explainability report's Task 4 chart), with the mean as a
    dashed line.

    Returns:
        the matplotlib Figure.
    """
    values = np.asarray(values, dtype=np.float64)
    ax = _one_axes(ax, max(4.0, 0.6 * len(values) + 1.5), 3.2)
    ax.bar(range(len(values)), np.nan_to_num(values), color="tab:purple")
    ax.set_xticks(range(len(values)))
    ax.set_xticklabels(list(names), rotation=45, ha="right", fontsize=8)
    ax.set_ylabel("IoU")
    ax.set_ylim(0, 1)
    mean = float(np.nanmean(values)) if mean is None else mean
    ax.axhline(mean, color="k", ls="--", lw=1, label="mean %.3f" % mean)
    ax.legend(fontsize=8)
    ax.set_title(title, fontsize=10)
    return ax.figure


def plot_grid(recall, precision, tops, bottoms, class_name, annot=True, axes=None):
    """Figure 3 of Leino et al.: heat maps of the compressed classifier's recall and
    precision, both on the one scale 0..1 (each with its colour bar).

    Rows are the numbers of top (most positive) channels kept, increasing upwards;
    columns the numbers of bottom (most negative) channels kept. Undefined cells
    (NaN: no prediction of the class, so no precision) are left blank.

    Args:
        recall, precision: arrays (len(tops), len(bottoms)).
        tops, bottoms: the kept counts.
        class_name: for the titles.
        annot: write each cell's value.
        axes: two axes (default: a new figure).
    Returns:
        the matplotlib Figure (two heat maps).
    """
    import seaborn as sns
    r, p = np.asarray(recall, dtype=float), np.asarray(precision, dtype=float)
    shape = (len(tops), len(bottoms))
    if r.shape != shape or p.shape != shape:
        raise ValueError("recall and precision must have shape (len(tops), len(bottoms)) "
                         "= %r, got %r and %r" % (shape, r.shape, p.shape))
    w = 1.2 + 0.55 * len(bottoms)
    if axes is None:
        fig, grid = _new_axes(1, 2, 2 * w + 1.5, 0.5 * len(tops) + 1.8)
        axes = grid[0]
    else:
        fig, axes = _given_axes(axes, 2)
    for ax, values, what in zip(axes, (r, p), ("recall", "precision")):
        sns.heatmap(values, ax=ax, vmin=0, vmax=1, cmap=method_cmap("recall/precision"),
                    annot=annot, fmt=".2f", annot_kws={"fontsize": 7},
                    xticklabels=list(bottoms), yticklabels=list(tops), cbar_kws={"label": what})
        ax.invert_yaxis()
        ax.set_xlabel("bottom (most negative) channels kept")
        ax.set_ylabel("top (most positive) channels kept")
        ax.set_title("%s: %s of the compressed model" % (class_name, what), fontsize=10)
    return fig


def _concept_panel(ax, r, label, top):
    """One layer's histogram of detector concepts on ``ax``."""
    from matplotlib.ticker import MaxNLocator
    counts = r.concept_counts().most_common(top)
    if counts:
        names, values = zip(*counts)
        ax.barh(range(len(values))[::-1], values, color="tab:blue")
        ax.set_yticks(range(len(values))[::-1])
        ax.set_yticklabels(names, fontsize=8)
        ax.set_ylim(len(values) - top - 0.5, len(values) - 0.5)   # one bar height for all
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))      # units are counted
    else:
        ax.text(0.5, 0.5, "no detector units", ha="center", va="center",
                transform=ax.transAxes)
        ax.set_yticks([])
    ax.set_xlabel("units")
    ax.set_title("%s%s: %d / %d detectors" % ("" if label is None else label + ", ",
                                              r.name, r.n_detectors, len(r.labels)),
                 fontsize=10)


def plot_concept_histograms(results, title=None, top=12, axes=None):
    """Network dissection's histograms: units per concept, one panel per layer, one row
    per model (models side by side share each layer's column).

    Args:
        results: ``evaluation.dissection.LayerDissection`` per layer, or a list of
            (model label, [LayerDissection]) for one row per model.
        title: the figure's title.
        top: at most this many concepts per panel (the most frequent).
        axes: models x layers axes (default: a new figure).
    Returns:
        the matplotlib Figure.
    """
    results = list(results)
    if results and hasattr(results[0], "concept_counts"):
        models = [(None, results)]
    else:
        models = [(label, list(res)) for label, res in results]
    cols = max(len(res) for _, res in models)
    if axes is None:
        fig, grid = _new_axes(len(models), cols, 4.6 * cols, 3.6 * len(models))
    else:
        fig, flat = _given_axes(axes, len(models) * cols)
        grid = np.asarray(flat, dtype=object).reshape(len(models), cols)
    for row, (label, res) in enumerate(models):
        for ax, r in zip(grid[row], res):
            _concept_panel(ax, r, label, top)
    if title:
        fig.suptitle(title)
    return fig


def plot_shared_exclusive(results_a, results_b, labels=("A", "B"), ax=None):
    """The explainability report's histogram of concepts shared by both networks and
    exclusive to each (over all dissected layers).

    Args:
        results_a, results_b: as ``evaluation.dissection.shared_concepts``.
        labels: the two networks' names.
    Returns:
        the matplotlib Figure.
    """
    from evaluation.dissection import shared_concepts
    shared, only_a, only_b = shared_concepts(results_a, results_b)
    values = [len(shared), len(only_a), len(only_b)]
    ax = _one_axes(ax, 5.0, 3.0)
    bars = ax.bar(range(3), values, color=["tab:purple", "tab:blue", "tab:orange"])
    ax.bar_label(bars)
    ax.set_xticks(range(3))
    ax.set_xticklabels(["shared", "only " + labels[0], "only " + labels[1]], fontsize=9)
    ax.set_ylabel("concepts")
    ax.set_ylim(0, max(values + [1]) * 1.15)
    ax.set_title("Concepts detected by both networks or by one", fontsize=10)
    return ax.figure

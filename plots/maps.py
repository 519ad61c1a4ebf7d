"""Rows and grids of maps, each on the panels of :mod:`plots.heat`: a row of heat maps
(one colour scale, or one per map said in the title), every method on a few images, CAMs
over their images, LIME's superpixels, two masks' overlap, relevance as TU Berlin sheet 11
draws it. Multi-panel functions take ``axes=None`` and return the Figure.
"""
import hw3_env  # noqa: F401

import numpy as np

from plots.heat import (CMAPS, HEAT_CMAP, _frame, _given_axes, _new_axes, _scalar_mappable,
                        draw_heat, grey_backdrop, method_cmap)


def _axes_row(n, axes, size, height=None):
    """n axes in a row: the ones given (n of them), or a new constrained figure."""
    if axes is None:
        fig, grid = _new_axes(1, n, size * n + 0.6, height or size)
        return fig, list(grid[0])
    return _given_axes(axes, n)


def image_row(images, titles, size=2.6, axes=None):
    """A row of RGB uint8 pictures with titles.

    Args:
        images: (N, H, W, 3) uint8 (or a list of such pictures).
        titles: N titles.
        size: inches per panel (a new figure).
        axes: N axes to draw on (default: a new figure).
    Returns:
        the matplotlib Figure.
    """
    if len(images) != len(titles):
        raise ValueError("got %d images but %d titles" % (len(images), len(titles)))
    fig, axes = _axes_row(len(images), axes, size)
    for a, im, t in zip(axes, images, titles):
        a.imshow(im, interpolation="nearest")
        _frame(a, t)
    return fig


def _limits(maps, signed, shared, limits):
    """Each panel's colour limit m and whether one m serves all."""
    own = [float(np.abs(m).max() if signed else max(m.max(), 0)) for m in maps]
    if limits is not None:
        if len(limits) != len(maps):
            raise ValueError("got %d limits for %d maps" % (len(limits), len(maps)))
        own = [float(v) for v in limits]
        shared = len(set(own)) == 1
    lims = [max(own) if shared else v for v in own]
    return [v if v > 0 else 1.0 for v in lims], shared


def heatmap_row(maps, titles, cmap="Occlusion", signed=True, shared=True, limits=None,
                size=2.6, suptitle=None, axes=None, images=None, label=None):
    """A row of heat maps (:func:`draw_heat`), each with a colour bar.

    Signed maps are drawn on symmetric limits -m..m (red positive, blue negative with
    a diverging colour map), non-negative ones on 0..m. With ``shared`` every panel uses
    one m (the largest over the row) and one colour bar serves the row; otherwise each
    panel has its own m and colour bar, and the title says that the scales differ.

    Args:
        maps: N (H, W) maps.
        titles: N titles.
        cmap: a method of :data:`CMAPS` (one colour map per method), a matplotlib name
            or a Colormap.
        signed: symmetric limits around 0 (else 0..max).
        shared: one colour scale for the row.
        limits: N limits m to use instead (e.g. the sheet's robust norm); implies
            per-panel colour bars unless all are equal.
        suptitle: a title over the row (the note on scales is appended).
        axes: N axes to draw on (default: a new figure).
        images: N RGB images to draw the maps over (default: the maps alone).
        label: the colour bars' label.
    Returns:
        the matplotlib Figure.
    """
    maps = [np.asarray(m, dtype=np.float64) for m in maps]
    if len(maps) != len(titles):
        raise ValueError("got %d maps but %d titles" % (len(maps), len(titles)))
    if any(m.ndim != 2 for m in maps):
        raise ValueError("each map must be (H, W), got %r" % ([m.shape for m in maps],))
    lims, shared = _limits(maps, signed, shared, limits)
    fig, axes = _axes_row(len(maps), axes, size + (0 if shared else 0.5))
    pictures = [None] * len(maps) if images is None else list(images)
    for a, m, t, lim, im in zip(axes, maps, titles, lims, pictures):
        draw_heat(m, im, ax=a, vmax=lim, title=t, colorbar=not shared, label=label,
                  cmap=cmap, signed=signed)
    if shared:
        fig.colorbar(_scalar_mappable(lims[0], cmap, signed), ax=axes, shrink=0.8,
                     label=label)
    note = "one colour scale" if shared else "each map on its own colour scale"
    if suptitle or (not shared and len(maps) > 1):
        fig.suptitle("%s (%s)" % (suptitle, note) if suptitle else note.capitalize(),
                     fontsize=10)
    return fig


def plot_maps(results, pictures, indices, titles, axes=None):
    """Every method's map on the same few images: one column per image, the image in
    the first row, then one row per method (method_comparison).

    Each map is divided by its own largest magnitude, so every panel runs from -1 to 1
    on one diverging colour map (``CMAPS['every method']``: red positive, blue
    negative, white 0) and one colour bar serves the figure; the scales of the maps
    themselves differ (the colour bar's label says so). Non-negative maps (magnitudes,
    CAMs) therefore run from white to red.

    Args:
        results: dict method -> dict with ``'maps'`` (N, H, W).
        pictures: uint8 (N, H, W, 3).
        indices: the images shown (one column each); titles: one per column.
        axes: (1 + methods) x columns axes (default: a new figure).
    Returns:
        the Figure.
    """
    names = list(results)
    rows, cols = len(names) + 1, len(indices)
    if axes is None:
        fig, grid = _new_axes(rows, cols, 1.7 * cols + 2.6, 1.6 * rows)
    else:
        fig, flat = _given_axes(axes, rows * cols)
        grid = np.asarray(flat, dtype=object).reshape(rows, cols)
    for j, (i, t) in enumerate(zip(indices, titles)):
        grid[0, j].imshow(pictures[i], interpolation="nearest")
        _frame(grid[0, j], t)
        for r, name in enumerate(names, start=1):
            m = np.asarray(results[name]["maps"][i], dtype=np.float64)
            draw_heat(m / (np.abs(m).max() or 1.0), ax=grid[r, j], vmax=1.0, colorbar=False,
                      cmap="every method", signed=True)
    for r, name in enumerate(["image"] + names):
        grid[r, 0].set_ylabel(name, fontsize=7, rotation=0, ha="right", va="center")
    bar = fig.colorbar(_scalar_mappable(1.0, "every method", True), ax=grid.ravel().tolist(),
                       shrink=0.3, ticks=[-1, 0, 1])
    bar.set_label("map / its largest |value| (each map its own scale)", fontsize=8)
    bar.ax.tick_params(labelsize=7)
    return fig


def plot_cams(images, maps, titles=None, axes=None):
    """A grid: one row per image, its picture then each CAM laid over it; every map is
    scaled to [0, 1], so one colour bar serves them all (the CAMs' colour map of
    :data:`CMAPS`).

    Args:
        images: uint8 (N, H, W, 3) RGB images.
        maps: dict method name (a key of :data:`CMAPS`) -> (N, H, W) maps scaled to
            [0, 1] (``upsample=True``).
        titles: N row titles (e.g. 'goldfish (p=0.93)').
        axes: N x (1 + methods) axes (default: a new figure).
    Returns:
        the matplotlib Figure.
    """
    images = np.asarray(images)
    for name, m in maps.items():
        if np.shape(m) != images.shape[:3]:
            raise ValueError("%s maps have shape %r, the images %r: pass upsample=True maps"
                             % (name, np.shape(m), images.shape[:3]))
    cmaps = {CMAPS.get(name, name) for name in maps}
    if len(cmaps) > 1:
        raise ValueError("one colour bar serves the CAMs: give methods of one colour map, "
                         "got %s" % sorted(cmaps))
    cols, rows = 1 + len(maps), len(images)
    if axes is None:
        fig, grid = _new_axes(rows, cols, 2.1 * cols + 0.8, 2.2 * rows)
    else:
        fig, flat = _given_axes(axes, rows * cols)
        grid = np.asarray(flat, dtype=object).reshape(rows, cols)
    cmap = next(iter(maps)) if maps else HEAT_CMAP
    for i, im in enumerate(images):
        grid[i, 0].imshow(im, interpolation="nearest")
        _frame(grid[i, 0], titles[i] if titles else "image %d" % i)
        for j, (name, m) in enumerate(maps.items(), start=1):
            draw_heat(m[i], im, ax=grid[i, j], vmax=1.0, colorbar=False, cmap=cmap,
                      title=name if i == 0 else None)
    if maps:
        fig.colorbar(_scalar_mappable(1.0, cmap), ax=grid[:, 1:].ravel().tolist(), shrink=0.3,
                     label="scaled map (one scale for all)")
    return fig


def _tinted(image, layers, opacity=0.55):
    """A grey copy of ``image`` with each (mask, RGB colour) blended over it at
    ``opacity``: dark objects stay visible under a tint."""
    out = grey_backdrop(image)
    for mask, colour in layers:
        out[mask] = (1 - opacity) * out[mask] + opacity * np.asarray(colour, dtype=np.float64)
    return out


def plot_lime(images, results, titles=None, axes=None):
    """Each image with LIME's superpixel boundaries (yellow), its positive superpixels
    tinted with the LIME colour map's positive end and its negative superpixels with its
    negative end, then the weight of every superpixel as a heat map (each image's weights
    divided by its largest |w|, so every map shares one colour bar from -1, against the
    class, to +1, for it).

    Args:
        images: uint8 (N, H, W, 3).
        results: one ``methods.lime_image.LimeResult`` per image.
        titles: N titles.
        axes: rows x (2 x per row) axes, up to 4 images a row (default: a new figure).
    Returns:
        the matplotlib Figure (two columns per image).
    """
    from skimage.segmentation import mark_boundaries
    images = np.asarray(images)
    if len(images) != len(results):
        raise ValueError("%d images but %d LIME results" % (len(images), len(results)))
    per_row = min(4, len(images))
    rows = -(-len(images) // per_row)
    if axes is None:
        fig, grid = _new_axes(rows, 2 * per_row, 2.0 * 2 * per_row + 1.0, 2.3 * rows)
    else:
        fig, flat = _given_axes(axes, rows * 2 * per_row)
        grid = np.asarray(flat, dtype=object).reshape(rows, 2 * per_row)
    for ax in grid.ravel():
        ax.axis("off")
    cmap = method_cmap("LIME")
    shown = []
    for i, (im, r) in enumerate(zip(images, results)):
        a, b = grid[i // per_row, 2 * (i % per_row)], grid[i // per_row, 2 * (i % per_row) + 1]
        a.axis("on")
        b.axis("on")
        tint = _tinted(im, [(r.positive, cmap(1.0)[:3]), (r.negative, cmap(0.0)[:3])],
                       opacity=0.35)     # nearly every superpixel is tinted: keep the picture
        a.imshow(mark_boundaries(tint, r.segments, color=(1, 1, 0)), interpolation="nearest")
        _frame(a, titles[i] if titles else "image %d" % i)
        scale = float(np.abs(r.weights).max()) or 1.0
        draw_heat(r.weight_map / scale, ax=b, vmax=1.0, colorbar=False, cmap="LIME",
                  signed=True, title="weights (max |w| %.2g)" % scale)
        shown.append(b)
    fig.colorbar(_scalar_mappable(1.0, "LIME", True), ax=grid.ravel().tolist(), shrink=0.6,
                 label="w / max |w|  (green: for, pink: against)")
    return fig


def plot_overlap(images, masks_a, masks_b, titles=None, labels=("A", "B"), axes=None):
    """Each image (grey) with mask A in red, mask B in blue and their intersection in
    magenta (the explainability report's Task 4 comparison figures).

    Args:
        images: uint8 (N, H, W, 3); masks_a, masks_b: bool (N, H, W).
        titles: N titles; labels: the two masks' names for the figure title.
        axes: rows x per-row axes, up to 6 images a row (default: a new figure).
    Returns:
        the matplotlib Figure.
    """
    images = np.asarray(images)
    a, b = np.asarray(masks_a), np.asarray(masks_b)
    if a.dtype != bool or b.dtype != bool:
        raise ValueError("masks must be boolean, got %s and %s; binarise heat maps with "
                         "evaluation.overlap.binarize(maps, threshold)" % (a.dtype, b.dtype))
    if a.shape != images.shape[:3] or b.shape != images.shape[:3]:
        raise ValueError("masks %r and %r do not match the images %r"
                         % (a.shape, b.shape, images.shape[:3]))
    per_row = min(6, len(images))
    rows = -(-len(images) // per_row)
    if axes is None:
        fig, grid = _new_axes(rows, per_row, 2.1 * per_row, 2.3 * rows + 0.4)
    else:
        fig, flat = _given_axes(axes, rows * per_row)
        grid = np.asarray(flat, dtype=object).reshape(rows, per_row)
    for ax in grid.ravel():
        ax.axis("off")
    for i, im in enumerate(images):
        ax = grid[i // per_row, i % per_row]
        ax.axis("on")
        ax.imshow(_tinted(im, [(a[i] & ~b[i], (0.9, 0.1, 0.1)), (b[i] & ~a[i], (0.1, 0.2, 0.95)),
                               (a[i] & b[i], (0.85, 0.1, 0.85))]), interpolation="nearest")
        _frame(ax, titles[i] if titles else "image %d" % i)
    fig.suptitle("%s (red), %s (blue), both (magenta)" % tuple(labels), fontsize=10)
    return fig


def relevance_row(maps, titles, limits, axes=None):
    """Relevance maps drawn like TU Berlin sheet 11's ``utils.visualize``: red
    positive, blue negative (``CMAPS['LRP']``), limits -b..b of each map's own robust
    norm, a colour bar per map (the scales differ unless the limits are equal).

    Args:
        maps: N (H, W) maps (the channel sums); titles: N titles; limits: N values b.
        axes: N axes (default: a new figure).
    Returns:
        the matplotlib Figure.
    """
    return heatmap_row(maps, titles, cmap="LRP", signed=True, limits=limits, axes=axes)

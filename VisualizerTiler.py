"""Drawing explanations: scale an image by its attribution map, and tile several
images side by side with titles.

The handout (3.3) projects explanations back to the pixels "by scaling pixels of the
original image accordingly": ``AttributionMask`` does that with the mean absolute
attribution over colour channels, clipped at a high percentile so a few extreme
pixels do not wash out the rest.
"""
import hw3_env  # noqa: F401

import numpy as np


def attribution_map(attribution, percentile=99.0, positive_only=False):
    """An (H, W) map in [0, 1] from a pixel attribution (3, H, W) or (H, W).

    Args:
        attribution: pixel attributions, channels first, or an (H, W) map.
        percentile: values above this percentile of the map are clipped to 1.
        positive_only: keep only positive attribution (evidence for the QoI)
            instead of the magnitude.
    Returns:
        float32 (H, W) array in [0, 1].
    """
    a = np.asarray(attribution, dtype=np.float64)
    if a.ndim == 4 and len(a) == 1:
        a = a[0]
    if a.ndim == 3:
        a = np.maximum(a, 0).mean(axis=0) if positive_only else np.abs(a).mean(axis=0)
    elif a.ndim == 2:
        a = np.maximum(a, 0) if positive_only else np.abs(a)
    else:
        raise ValueError("attribution must be (3, H, W) or (H, W), got %r" % (a.shape,))
    if not 0 < percentile <= 100:
        raise ValueError("percentile must be in (0, 100], got %r" % (percentile,))
    top = np.percentile(a, percentile)
    if top <= 0:
        return np.zeros(a.shape, dtype=np.float32)
    return np.clip(a / top, 0, 1).astype(np.float32)


class AttributionMask(object):
    """Scale an RGB image by its attribution map (handout 3.3).

    Args:
        percentile: clip point of the map (default 99).
        positive_only: use positive attribution only.
    """

    def __init__(self, percentile=99.0, positive_only=False):
        self.percentile = percentile
        self.positive_only = positive_only

    def __call__(self, attribution, image):
        """Return ``image`` (H, W, 3) uint8 scaled pixel-wise by the map of
        ``attribution`` (3, H, W)."""
        image = np.asarray(image)
        m = attribution_map(attribution, self.percentile, self.positive_only)
        if image.shape[:2] != m.shape:
            raise ValueError("image %r and attribution map %r differ in size"
                             % (image.shape[:2], m.shape))
        return (image.astype(np.float32) * m[..., None]).round().astype(np.uint8)


class VisualizerTiler(object):
    """Several images side by side, with titles, as one matplotlib figure.

    Args:
        ncols: images per row.
        size: inches per image.
    """

    def __init__(self, ncols=4, size=2.6):
        self.ncols = int(ncols)
        self.size = float(size)
        self.items = []
        self.suptitle = None

    def add(self, image, title=""):
        """Queue an RGB image (H, W, 3) uint8 or an (H, W) map in [0, 1]."""
        self.items.append((np.asarray(image), str(title)))
        return self

    def figure(self, suptitle=None):
        """Draw the queued images; returns the matplotlib Figure."""
        import matplotlib.pyplot as plt
        if not self.items:
            raise ValueError("nothing to draw: add() images first")
        suptitle = suptitle or self.suptitle
        n = len(self.items)
        cols = min(self.ncols, n)
        rows = (n + cols - 1) // cols
        fig, axes = plt.subplots(rows, cols, figsize=(self.size * cols, self.size * rows + 0.4),
                                 squeeze=False)
        for ax in axes.ravel():
            ax.axis("off")
        for ax, (img, title) in zip(axes.ravel(), self.items):
            ax.imshow(img, cmap="inferno" if img.ndim == 2 else None, vmin=0,
                      vmax=1 if img.ndim == 2 else None)
            ax.set_title(title, fontsize=9)
        fig.tight_layout()
        if suptitle:
            fig.subplots_adjust(top=1 - 0.45 / fig.get_figheight())
            fig.suptitle(suptitle, fontsize=11)
        return fig

    def save(self, path, suptitle=None, dpi=100):
        """Write the tiled figure to ``path`` (PNG, PDF, ... by extension)."""
        import matplotlib.pyplot as plt
        fig = self.figure(suptitle)
        fig.savefig(path, dpi=dpi, bbox_inches="tight")
        plt.close(fig)
        return path

    def show(self, suptitle=None):
        """Display the tiled figure (in a notebook: inline)."""
        import matplotlib.pyplot as plt
        self.figure(suptitle)
        plt.show()


def tile_attributions(images, attributions, titles=None, ncols=4, percentile=99.0,
                      positive_only=False, originals=False, suptitle=None):
    """Show each image scaled by its attribution map, side by side.

    Args:
        images: uint8 (N, H, W, 3) RGB images.
        attributions: (N, 3, H, W) pixel attributions.
        titles: N titles (optional).
        originals: also show each unscaled image before its explanation.
    Returns:
        the VisualizerTiler (call ``.show()`` or ``.save(path)``).
    """
    if len(images) != len(attributions):
        raise ValueError("got %d images but %d attributions" % (len(images), len(attributions)))
    mask = AttributionMask(percentile, positive_only)
    tiler = VisualizerTiler(ncols=ncols)
    tiler.suptitle = suptitle
    titles = titles or [""] * len(images)
    for img, attr, title in zip(images, attributions, titles):
        if originals:
            tiler.add(img, "input")
        tiler.add(mask(attr, img), title)
    return tiler


def tile_neuron_maps(images, explanations, labels, image_title="image", percentile=99.0,
                     positive_only=True):
    """The images in a first row, then one row per neuron: every image scaled by that
    neuron's pixel attribution (handout 3.3); by default its positive part, the pixels
    that raise the neuron's activation.

    Args:
        images: uint8 (N, H, W, 3).
        explanations: one ExplanationData per neuron, attribution (N, 3, H, W).
        labels: one title per neuron (used for its row).
        image_title: title prefix of the first row.
    Returns:
        the VisualizerTiler (N columns).
    """
    if len(explanations) != len(labels):
        raise ValueError("got %d explanations but %d labels" % (len(explanations), len(labels)))
    mask = AttributionMask(percentile, positive_only)
    tiler = VisualizerTiler(ncols=len(images))
    for i, img in enumerate(images):
        tiler.add(img, "%s %d" % (image_title, i))
    for data, label in zip(explanations, labels):
        if len(data.attribution) != len(images):
            raise ValueError("each explanation needs one attribution per image")
        for img, attr in zip(images, data.attribution):
            tiler.add(mask(attr, img), label)
    return tiler


# ---------------------------------------------------------------------------
# notebooks/csep590b_hw2 and notebooks/tub_sheet11: rows of pictures, heat maps with
# colour bars, curves. Every function draws on the axes given (or a new figure) and
# returns the Figure; panels keep their frame (no ticks), so a near-empty map still
# shows where the image ends.
# ---------------------------------------------------------------------------
def _axes_row(n, ax, size, height=None):
    """n axes in a row: the ones given (a sequence of n), or a new constrained figure."""
    import matplotlib.pyplot as plt
    if ax is None:
        fig, axes = plt.subplots(1, n, figsize=(size * n + 0.6, height or size),
                                 squeeze=False, layout="constrained")
        return fig, list(axes[0])
    axes = list(np.atleast_1d(ax))
    if len(axes) != n:
        raise ValueError("need %d axes, got %d" % (n, len(axes)))
    return axes[0].figure, axes


def _frame(ax, title=None):
    ax.set_xticks([])
    ax.set_yticks([])
    if title:
        ax.set_title(title, fontsize=9)


def image_row(images, titles, size=2.6, ax=None):
    """A row of RGB uint8 pictures with titles.

    Args:
        images: (N, H, W, 3) uint8 (or a list of such pictures).
        titles: N titles.
        ax: N axes to draw on (default: a new figure).
    Returns:
        the matplotlib Figure.
    """
    if len(images) != len(titles):
        raise ValueError("got %d images but %d titles" % (len(images), len(titles)))
    fig, axes = _axes_row(len(images), ax, size)
    for a, im, t in zip(axes, images, titles):
        a.imshow(im)
        _frame(a, t)
    return fig


def heatmap_row(maps, titles, cmap="seismic", signed=True, shared=True, limits=None,
                size=2.6, suptitle=None, ax=None):
    """A row of heat maps, each with a colour bar.

    Signed maps are drawn on symmetric limits -m..m (red positive, blue negative with
    ``seismic``), non-negative ones on 0..m. With ``shared`` every panel uses one m (the
    largest over the row) and one colour bar serves the row; otherwise each panel has
    its own m and colour bar, and the suptitle says that the scales differ.

    Args:
        maps: N (H, W) maps.
        titles: N titles.
        cmap: the colour map (one per method throughout a notebook).
        signed: symmetric limits around 0 (else 0..max).
        shared: one colour scale for the row.
        limits: N limits m to use instead (e.g. the sheet's robust norm); implies
            per-panel colour bars unless all are equal.
        suptitle: a title over the row (the note on scales is appended).
        ax: N axes to draw on (default: a new figure).
    Returns:
        the matplotlib Figure.
    """
    maps = [np.asarray(m, dtype=np.float64) for m in maps]
    if len(maps) != len(titles):
        raise ValueError("got %d maps but %d titles" % (len(maps), len(titles)))
    if any(m.ndim != 2 for m in maps):
        raise ValueError("each map must be (H, W), got %r" % ([m.shape for m in maps],))
    own = [float(np.abs(m).max() if signed else max(m.max(), 0)) for m in maps]
    if limits is not None:
        own = [float(v) for v in limits]
        shared = len(set(own)) == 1
    lims = [max(own) if shared else v for v in own]
    lims = [v if v > 0 else 1.0 for v in lims]
    fig, axes = _axes_row(len(maps), ax, size + (0 if shared else 0.5))
    ims = []
    for a, m, t, lim in zip(axes, maps, titles, lims):
        ims.append(a.imshow(m, cmap=cmap, vmin=-lim if signed else 0, vmax=lim,
                            interpolation="nearest"))
        _frame(a, t)
        if not shared:
            fig.colorbar(ims[-1], ax=a, shrink=0.8)
    if shared:
        fig.colorbar(ims[-1], ax=axes, shrink=0.8)
    note = "one colour scale" if shared else "each map on its own colour scale"
    if suptitle or (not shared and len(maps) > 1):
        fig.suptitle("%s (%s)" % (suptitle, note) if suptitle else note.capitalize(),
                     fontsize=10)
    return fig


def curves_plot(curves, ylabel, title, xlabel="fraction of superpixels", ylim=(-0.02, 1.02),
                ax=None):
    """Curves against a fraction: dict label -> (x, y); x is divided by its last value.

    Returns:
        the matplotlib Figure.
    """
    import matplotlib.pyplot as plt
    if ax is None:
        fig, ax = plt.subplots(figsize=(5, 3.4), layout="constrained")
    fig = ax.figure
    for label, (x, y) in curves.items():
        x = np.asarray(x, dtype=np.float64)
        ax.plot(x / x[-1], y, label=label)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=10)
    if ylim:
        ax.set_ylim(*ylim)
    ax.legend(fontsize=8)
    return fig

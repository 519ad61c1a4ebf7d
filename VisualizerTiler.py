"""The drawing vocabulary of every notebook: attribution heat maps over their images,
several of them tiled side by side with titles, rows of maps, and the few charts the
neighbouring assignments ask for (CAMs, LIME superpixels, mask overlaps, curves, the
recall/precision grid, dissection histograms).

The contract, everywhere: a function that draws one panel takes ``ax=None`` and a function
that draws several takes ``axes=None`` (as many axes as it draws panels); given none, it
makes its own figure (constrained layout, so titles, colour bars and a figure title never
overlap). Either way it returns the matplotlib Figure. The starter's
:class:`VisualizerTiler` and its ``tile_*`` builders are the one exception: they return the
tiler, whose ``figure()`` returns the Figure (``show()``, ``save(path)``).

The rules every figure keeps:

* heat maps carry a colour bar; maps compared side by side share one colour scale (one
  colour bar), or each carries its own colour bar and the figure says the scales differ;
* a method keeps one colour map (:data:`CMAPS`, read through :func:`method_cmap`):
  non-negative attribution in ``inferno``, signed maps in a diverging map (red for, blue
  against), CAMs in ``jet`` as pytorch-grad-cam draws them;
* every panel keeps a thin frame and no ticks, so a near-empty map still shows where the
  image ends;
* a heat map is drawn over a grey copy of its image (:func:`grey_backdrop`), transparent
  where the map is 0: dark and light objects both stay visible under their attribution.

The handout (3.3) projects explanations back to the pixels "by scaling pixels of the
original image accordingly": ``AttributionMask`` does that with the mean absolute
attribution over colour channels, clipped at a high percentile so a few extreme
pixels do not wash out the rest (``style='mask'``). A scaled pixel cannot show
attribution on a dark object (black times anything is black), so the tiles draw by
default a heat map of the attribution (``style='heat'``).
"""
import hw3_env  # noqa: F401

import numpy as np

from plots.charts import (curves_plot, plot_concept_histograms, plot_grid,  # noqa: F401
                          plot_iou_bars, plot_shared_exclusive)
from plots.heat import (CMAPS, HEAT_CMAP, SHEET11_CMAP, SIGNS, _SIGN_LABEL,  # noqa: F401
                        _frame, _scalar_mappable, attribution_map, color_limit, draw_heat,
                        grey_backdrop, heat_rgba, heat_values, method_cmap)
from plots.maps import (heatmap_row, image_row, plot_cams, plot_lime,  # noqa: F401
                        plot_maps, plot_overlap, relevance_row)


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
    """Several images and heat maps side by side, with titles, as one matplotlib figure.

    Heat maps added with :meth:`add_heat` that share one ``vmax`` get one colour bar for
    the figure; otherwise each gets its own, and the figure says the scales differ.

    Args:
        ncols: panels per row.
        size: inches per panel.
    """

    def __init__(self, ncols=4, size=2.6):
        self.ncols = int(ncols)
        self.size = float(size)
        self.items = []
        self.suptitle = None

    def add(self, image, title=""):
        """Queue an RGB image (H, W, 3) uint8, or an (H, W) map in [0, 1] (drawn as a
        heat map on the scale 0..1 with a colour bar)."""
        image = np.asarray(image)
        if image.ndim == 2:
            return self.add_heat(image, title, vmax=1.0, label="map / its clip point")
        self.items.append({"kind": "image", "data": image, "title": str(title)})
        return self

    def add_heat(self, heat, title="", image=None, vmax=None, label="positive attribution"):
        """Queue a heat map (H, W) >= 0, drawn over a grey copy of ``image`` if given.

        Args:
            vmax: top of its colour scale (default: its own :func:`color_limit`).
            label: what the colour bar measures.
        """
        heat = np.asarray(heat, dtype=np.float64)
        self.items.append({"kind": "heat", "data": heat, "title": str(title), "image": image,
                           "vmax": color_limit(heat) if vmax is None else float(vmax),
                           "label": label})
        return self

    def shared_scale(self):
        """True when every queued heat map has the same colour scale (and label)."""
        heats = [it for it in self.items if it["kind"] == "heat"]
        return len({(it["vmax"], it["label"]) for it in heats}) <= 1

    def figure(self, suptitle=None):
        """Draw the queued panels; returns the matplotlib Figure."""
        import matplotlib.pyplot as plt
        if not self.items:
            raise ValueError("nothing to draw: add() images first")
        suptitle = suptitle or self.suptitle
        n = len(self.items)
        cols = min(self.ncols, n)
        rows = (n + cols - 1) // cols
        shared = self.shared_scale()
        heats = [it for it in self.items if it["kind"] == "heat"]
        extra = 0.8 if heats else 0.0
        fig, axes = plt.subplots(rows, cols, squeeze=False, layout="constrained",
                                 figsize=(self.size * cols + extra + (0 if shared else 0.6 * cols),
                                          self.size * rows + (0.45 if suptitle else 0.1)))
        for ax in axes.ravel()[n:]:
            ax.axis("off")
        heat_axes = []
        for ax, it in zip(axes.ravel(), self.items):
            if it["kind"] == "image":
                ax.imshow(it["data"], interpolation="nearest")
                _frame(ax)
                ax.set_title(it["title"], fontsize=9)
            else:
                draw_heat(it["data"], it["image"], ax=ax, vmax=it["vmax"], title=it["title"],
                          colorbar=not shared, label=it["label"])
                heat_axes.append(ax)
        if heat_axes and shared:
            fig.colorbar(_scalar_mappable(heats[0]["vmax"]), ax=heat_axes, shrink=0.9,
                         label=heats[0]["label"] + (" (one scale for all maps)"
                                                    if len(heat_axes) > 1 else ""))
        elif heat_axes:
            fig.supxlabel("each map has its own colour scale (see its colour bar)", fontsize=9)
        if suptitle:
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


SCALES = ("shared", "each")
STYLES = ("heat", "mask")


def _check_style(style, scale):
    if style not in STYLES:
        raise ValueError("style must be one of %s, got %r" % (list(STYLES), style))
    if scale not in SCALES:
        raise ValueError("scale must be one of %s, got %r" % (list(SCALES), scale))


def _add_maps(tiler, images, attributions, titles, percentile, sign, style, scale):
    """Queue one panel per (image, attribution): a heat map (one scale for all when
    ``scale='shared'``) or the handout's scaled image."""
    if style == "mask":
        mask = AttributionMask(percentile, sign == "positive")
        for img, attr, title in zip(images, attributions, titles):
            tiler.add(mask(attr, img), title)
        return tiler
    heats = [heat_values(a, sign) for a in attributions]
    vmax = color_limit(heats, percentile) if scale == "shared" else None
    for img, heat, title in zip(images, heats, titles):
        tiler.add_heat(heat, title, image=img, label=_SIGN_LABEL[sign],
                       vmax=vmax if vmax is not None else color_limit(heat, percentile))
    return tiler


def tile_attributions(images, attributions, titles=None, ncols=4, percentile=99.0,
                      positive_only=False, originals=False, suptitle=None, style="heat",
                      scale="shared"):
    """Show each image's attribution side by side.

    Args:
        images: uint8 (N, H, W, 3) RGB images.
        attributions: (N, 3, H, W) pixel attributions.
        titles: N titles (optional).
        percentile: the colour scale's top is this percentile of the maps' values.
        positive_only: the positive part of the attribution (summed over colour
            channels) instead of its magnitude.
        originals: also show each unscaled image before its explanation.
        suptitle: the figure's title.
        style: ``'heat'`` (a heat map over a grey copy of the image, with a colour
            bar) or ``'mask'`` (the image scaled by the map, handout 3.3).
        scale: ``'shared'`` (one colour scale for all maps) or ``'each'``.
    Returns:
        the VisualizerTiler (call ``.show()``, ``.figure()`` or ``.save(path)``).
    """
    if len(images) != len(attributions):
        raise ValueError("got %d images but %d attributions" % (len(images), len(attributions)))
    _check_style(style, scale)
    tiler = VisualizerTiler(ncols=ncols)
    tiler.suptitle = suptitle
    titles = titles or [""] * len(images)
    sign = "positive" if positive_only else "absolute"
    if originals:
        for img, attr, title in zip(images, attributions, titles):
            tiler.add(img, "input")
            _add_maps(tiler, [img], [attr], [title], percentile, sign, style, scale)
        if scale == "shared" and style == "heat":   # one scale across all the maps
            vmax = color_limit([it["data"] for it in tiler.items if it["kind"] == "heat"],
                               percentile)
            for it in tiler.items:
                if it["kind"] == "heat":
                    it["vmax"] = vmax
        return tiler
    return _add_maps(tiler, images, attributions, titles, percentile, sign, style, scale)


def tile_neuron_maps(images, explanations, labels, image_title="image", percentile=99.0,
                     positive_only=True, style="heat", scale="shared"):
    """The images in a first row, then one row per neuron: that neuron's pixel
    attribution (handout 3.3) on every image; by default its positive part, the pixels
    that raise the neuron's activation, as a heat map on one colour scale for all rows.

    Args:
        images: uint8 (N, H, W, 3).
        explanations: one ExplanationData per neuron, attribution (N, 3, H, W).
        labels: one title per neuron (used for its row).
        image_title: title prefix of the first row.
        style, scale: as :func:`tile_attributions`.
    Returns:
        the VisualizerTiler (N columns).
    """
    if len(explanations) != len(labels):
        raise ValueError("got %d explanations but %d labels" % (len(explanations), len(labels)))
    _check_style(style, scale)
    tiler = VisualizerTiler(ncols=len(images))
    for i, img in enumerate(images):
        tiler.add(img, "%s %d" % (image_title, i))
    for data in explanations:
        if len(data.attribution) != len(images):
            raise ValueError("each explanation needs one attribution per image")
    attributions = [a for data in explanations for a in data.attribution]
    titles = [label for label in labels for _ in images]
    return _add_maps(tiler, list(images) * len(explanations), attributions, titles, percentile,
                     "positive" if positive_only else "absolute", style, scale)

"""Drawing explanations: attribution heat maps over their images, and several of them
tiled side by side with titles.

The handout (3.3) projects explanations back to the pixels "by scaling pixels of the
original image accordingly": ``AttributionMask`` does that with the mean absolute
attribution over colour channels, clipped at a high percentile so a few extreme
pixels do not wash out the rest (``style='mask'``). A scaled pixel cannot show
attribution on a dark object (black times anything is black), so the tiles draw by
default a heat map of the attribution (``style='heat'``): one colour map
(:data:`HEAT_CMAP`) over a grey copy of the image, whose dark and light objects both stay
visible, with a colour bar. Maps compared side by side share one colour scale
(``scale='shared'``, one colour bar), or each carries its own colour bar and the figure
says so (``scale='each'``). Every drawn panel keeps a frame, so a near-empty map still
shows where the image ends.
"""
import hw3_env  # noqa: F401

import numpy as np

HEAT_CMAP = "inferno"
"""The colour map of every attribution heat map (one method, one colour map)."""

SIGNS = ("positive", "negative", "absolute")
_SIGN_LABEL = {"positive": "positive attribution", "negative": "negative attribution (magnitude)",
               "absolute": "|attribution|"}


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


def heat_values(attribution, sign="positive"):
    """The (H, W) map a heat map shows, in the attribution's own units.

    The sum over colour channels (what :func:`evaluation.evidence.part_profile`
    measures), then its positive part, the magnitude of its negative part, or its
    magnitude.

    Args:
        attribution: (3, H, W), (1, 3, H, W) or (H, W).
        sign: ``'positive'``, ``'negative'`` or ``'absolute'``.
    Returns:
        float64 (H, W), >= 0.
    """
    if sign not in SIGNS:
        raise ValueError("sign must be one of %s, got %r" % (list(SIGNS), sign))
    from evaluation.measures import reduce_maps
    a = np.asarray(attribution, dtype=np.float64)
    if a.ndim in (2, 3):
        a = a[None]
    if a.ndim != 4 and a.ndim != 3 or len(a) != 1:
        raise ValueError("attribution must be (3, H, W) or (H, W), got %r"
                         % (np.shape(attribution),))
    a = reduce_maps(a)[0]
    return {"positive": np.maximum(a, 0), "negative": np.maximum(-a, 0),
            "absolute": np.abs(a)}[sign]


def color_limit(maps, percentile=99.0):
    """The top of a colour scale: the ``percentile`` of the maps' values pooled (one
    scale for maps compared side by side); 1 when they are all zero.

    Args:
        maps: one (H, W) map or a sequence of them (non-negative).
    Returns:
        float > 0.
    """
    if not 0 < percentile <= 100:
        raise ValueError("percentile must be in (0, 100], got %r" % (percentile,))
    values = np.concatenate([np.ravel(m) for m in (maps if isinstance(maps, (list, tuple))
                                                   else [maps])])
    top = float(np.percentile(values, percentile)) if values.size else 0.0
    if top <= 0:
        top = float(values.max()) if values.size else 0.0
    return top if top > 0 else 1.0


def grey_backdrop(image, low=0.3, high=0.95):
    """A grey copy of an RGB image with its luminance mapped into [low, high]: black
    objects become dark grey and white ones light grey, so both stay visible under a
    translucent heat map.

    Args:
        image: uint8 (H, W, 3) (or floats in [0, 1]).
    Returns:
        float (H, W, 3) in [low, high].
    """
    img = np.asarray(image, dtype=np.float64)
    if img.ndim != 3 or img.shape[2] != 3:
        raise ValueError("image must be (H, W, 3) RGB, got %r" % (img.shape,))
    if img.max() > 1.0:
        img = img / 255.0
    lum = img @ np.array([0.299, 0.587, 0.114])
    return np.repeat((low + (high - low) * lum)[..., None], 3, axis=2)


def heat_rgba(heat, vmax, cmap=HEAT_CMAP):
    """RGBA colours of a heat map: the colour map at ``heat / vmax``, opacity rising with
    the value (transparent at 0, 0.85 at ``vmax`` and above)."""
    import matplotlib
    v = np.clip(np.asarray(heat, dtype=np.float64) / float(vmax), 0, 1)
    rgba = matplotlib.colormaps[cmap](v)
    rgba[..., 3] = 0.85 * np.sqrt(v)
    return rgba


def _frame(ax):
    """Keep a thin frame (near-empty panels still show the image's extent), no ticks."""
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_visible(True)
        spine.set_color("0.55")
        spine.set_linewidth(0.8)


def _scalar_mappable(vmax, cmap=HEAT_CMAP):
    import matplotlib
    return matplotlib.cm.ScalarMappable(norm=matplotlib.colors.Normalize(0, vmax), cmap=cmap)


def draw_heat(heat, image=None, ax=None, vmax=None, title=None, colorbar=True,
              label="positive attribution", cmap=HEAT_CMAP):
    """One heat map panel: ``heat`` in one colour map over a grey copy of ``image``.

    Args:
        heat: (H, W) non-negative map (:func:`heat_values`).
        image: the RGB image (H, W, 3) under it, or None (the map alone).
        ax: the matplotlib Axes to draw in (default: a new figure).
        vmax: top of the colour scale (default :func:`color_limit` of this map).
        title: the panel's title.
        colorbar: draw this panel's colour bar.
        label: the colour bar's label.
    Returns:
        the matplotlib Figure.
    """
    import matplotlib.pyplot as plt
    heat = np.asarray(heat, dtype=np.float64)
    if heat.ndim != 2:
        raise ValueError("heat must be an (H, W) map, got %r" % (heat.shape,))
    if ax is None:
        _, ax = plt.subplots(figsize=(3.2, 2.6), layout="constrained")
    vmax = color_limit(heat) if vmax is None else float(vmax)
    if image is not None:
        if np.shape(image)[:2] != heat.shape:
            raise ValueError("image %r and heat map %r differ in size"
                             % (np.shape(image)[:2], heat.shape))
        ax.imshow(grey_backdrop(image), interpolation="nearest")
        ax.imshow(heat_rgba(heat, vmax, cmap), interpolation="nearest")
    else:
        ax.imshow(heat, cmap=cmap, vmin=0, vmax=vmax, interpolation="nearest")
    _frame(ax)
    if title:
        ax.set_title(title, fontsize=9)
    if colorbar:
        ax.figure.colorbar(_scalar_mappable(vmax, cmap), ax=ax, fraction=0.046, pad=0.03,
                           label=label)
    return ax.figure


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

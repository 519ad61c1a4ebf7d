"""One heat-map panel and its parts: the method -> colour map table (:data:`CMAPS`),
colour scales shared across maps, the grey backdrop that keeps dark objects visible, the
thin frame every panel keeps, colour bars. The contract is stated in ``VisualizerTiler``.
"""
import hw3_env  # noqa: F401

import numpy as np

HEAT_CMAP = "inferno"
"""The colour map of non-negative attribution heat maps."""

SHEET11_CMAP = "seismic (darkened)"
"""TU Berlin sheet 11's colour map: ``seismic`` darkened to 85% (:func:`method_cmap`)."""

CMAPS = {
    # non-negative attribution: how much a pixel raises the quantity of interest
    "Integrated Gradients": HEAT_CMAP, "influence-directed": HEAT_CMAP,
    "Vanilla gradients": HEAT_CMAP, "SmoothGrad": HEAT_CMAP,
    # signed maps: red for the class, blue against
    "Occlusion": "seismic", "Random": "PuOr_r", "LIME": "PiYG",
    "Gradient x Input": SHEET11_CMAP, "LRP": SHEET11_CMAP,
    # CAMs, scaled to [0, 1], as pytorch-grad-cam draws them
    "Grad-CAM": "jet", "Ablation-CAM": "jet", "Score-CAM": "jet",
    # every method of the comparison on one normalised diverging scale
    "every method": "seismic",
    # Figure 3 of Leino et al.: recall and precision in [0, 1]
    "recall/precision": "viridis",
}
"""One colour map per method, used by every notebook (:func:`method_cmap`)."""

SIGNS = ("positive", "negative", "absolute")
_SIGN_LABEL = {"positive": "positive attribution", "negative": "negative attribution (magnitude)",
               "absolute": "|attribution|"}


def method_cmap(method):
    """The colour map of ``method`` (:data:`CMAPS`), as a matplotlib Colormap.

    Args:
        method: a key of :data:`CMAPS` (e.g. ``'Occlusion'``, ``'Grad-CAM'``).
    Returns:
        matplotlib.colors.Colormap.
    """
    import matplotlib
    from matplotlib.colors import ListedColormap
    if method not in CMAPS:
        raise ValueError("no colour map for %r; add it to VisualizerTiler.CMAPS (known: %s)"
                         % (method, sorted(CMAPS)))
    name = CMAPS[method]
    if name == SHEET11_CMAP:
        seismic = matplotlib.colormaps["seismic"]
        colours = seismic(np.arange(seismic.N))
        colours[:, 0:3] *= 0.85
        return ListedColormap(colours, name=SHEET11_CMAP)
    return matplotlib.colormaps[name]


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


def _cmap(cmap):
    """A Colormap from a Colormap, a matplotlib name or a key of :data:`CMAPS`."""
    import matplotlib
    if isinstance(cmap, str):
        return method_cmap(cmap) if cmap in CMAPS else matplotlib.colormaps[cmap]
    return cmap


def heat_rgba(heat, vmax, cmap=HEAT_CMAP, signed=False):
    """RGBA colours of a heat map: the colour map at ``heat / vmax`` (on -vmax..vmax when
    ``signed``), opacity rising with the magnitude (transparent at 0, 0.85 at ``vmax``
    and above)."""
    v = np.clip(np.asarray(heat, dtype=np.float64) / float(vmax), -1 if signed else 0, 1)
    rgba = _cmap(cmap)((v + 1) / 2 if signed else v)
    rgba[..., 3] = 0.85 * np.sqrt(np.abs(v))
    return rgba


def _frame(ax, title=None):
    """Keep a thin frame (near-empty panels still show the image's extent), no ticks."""
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_visible(True)
        spine.set_color("0.55")
        spine.set_linewidth(0.8)
    if title:
        ax.set_title(title, fontsize=9)


def _scalar_mappable(vmax, cmap=HEAT_CMAP, signed=False):
    import matplotlib
    return matplotlib.cm.ScalarMappable(norm=matplotlib.colors.Normalize(
        -vmax if signed else 0, vmax), cmap=_cmap(cmap))


def _new_axes(rows, cols, width, height):
    """A new constrained-layout figure with rows x cols axes (an array, squeezed never)."""
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(rows, cols, squeeze=False, layout="constrained",
                             figsize=(width, height))
    return fig, axes


def _given_axes(axes, n):
    """The sequence of ``n`` axes the caller gave (any shape), with a clear error."""
    flat = list(np.ravel(np.asarray(axes, dtype=object)))
    if len(flat) != n:
        raise ValueError("need %d axes, got %d" % (n, len(flat)))
    return flat[0].figure, flat


def draw_heat(heat, image=None, ax=None, vmax=None, title=None, colorbar=True,
              label="positive attribution", cmap=HEAT_CMAP, signed=False):
    """One heat map panel: ``heat`` in one colour map over a grey copy of ``image``.

    Args:
        heat: (H, W) map: non-negative (:func:`heat_values`), or any sign with ``signed``.
        image: the RGB image (H, W, 3) under it, or None (the map alone).
        ax: the matplotlib Axes to draw in (default: a new figure).
        vmax: top of the colour scale (default :func:`color_limit` of the map's
            magnitude); a signed map runs from -vmax to vmax.
        title: the panel's title.
        colorbar: draw this panel's colour bar.
        label: the colour bar's label.
        cmap: a Colormap, a matplotlib name or a method of :data:`CMAPS`.
        signed: a diverging scale symmetric around 0.
    Returns:
        the matplotlib Figure.
    """
    heat = np.asarray(heat, dtype=np.float64)
    if heat.ndim != 2:
        raise ValueError("heat must be an (H, W) map, got %r" % (heat.shape,))
    if ax is None:
        _, axes = _new_axes(1, 1, 3.2, 2.6)
        ax = axes[0, 0]
    vmax = color_limit(np.abs(heat)) if vmax is None else float(vmax)
    if image is not None:
        if np.shape(image)[:2] != heat.shape:
            raise ValueError("image %r and heat map %r differ in size"
                             % (np.shape(image)[:2], heat.shape))
        ax.imshow(grey_backdrop(image), interpolation="nearest")
        ax.imshow(heat_rgba(heat, vmax, cmap, signed), interpolation="nearest")
    else:
        ax.imshow(heat, cmap=_cmap(cmap), vmin=-vmax if signed else 0, vmax=vmax,
                  interpolation="nearest")
    _frame(ax, title)
    if colorbar:
        ax.figure.colorbar(_scalar_mappable(vmax, cmap, signed), ax=ax, fraction=0.046,
                           pad=0.03, label=label)
    return ax.figure

import matplotlib
import numpy as np
import pytest
from PIL import Image

matplotlib.use("Agg")

from VisualizerTiler import (AttributionMask, VisualizerTiler, attribution_map,  # noqa: E402
                             color_limit, draw_heat, grey_backdrop, heat_rgba, heat_values,
                             tile_attributions)


def test_attribution_map_is_mean_abs_clipped_at_percentile():
    rng = np.random.RandomState(0)
    a = rng.randn(3, 20, 20)
    m = attribution_map(a, percentile=90)
    ref = np.abs(a).mean(0)
    ref = np.clip(ref / np.percentile(ref, 90), 0, 1)
    np.testing.assert_allclose(m, ref, rtol=1e-6)
    assert abs((m == 1).mean() - 0.10) < 0.01      # the top 10 % saturate
    pos = attribution_map(a, percentile=100, positive_only=True)
    assert pos.max() == 1 and np.all(pos[np.maximum(a, 0).mean(0) == 0] == 0)


def test_mask_scales_the_image():
    img = np.full((8, 8, 3), 200, np.uint8)
    a = np.zeros((3, 8, 8))
    assert AttributionMask()(a, img).max() == 0           # no attribution: black
    a[:, 2, 3] = 5.0
    out = AttributionMask(percentile=100)(a, img)
    assert out[2, 3].tolist() == [200, 200, 200] and out.sum() == 600
    with pytest.raises(ValueError, match="differ in size"):
        AttributionMask()(np.zeros((3, 4, 4)), img)
    with pytest.raises(ValueError, match="attribution must be"):
        attribution_map(np.zeros(5))


def test_heat_values_are_the_colour_sum_as_the_evidence_measures():
    from evaluation.measures import reduce_maps
    rng = np.random.RandomState(1)
    a = rng.randn(3, 6, 7)
    s = reduce_maps(a[None])[0]
    np.testing.assert_allclose(heat_values(a), np.maximum(s, 0))
    np.testing.assert_allclose(heat_values(a, "negative"), np.maximum(-s, 0))
    np.testing.assert_allclose(heat_values(a[None], "absolute"), np.abs(s))
    with pytest.raises(ValueError, match="sign must be"):
        heat_values(a, "both")


def test_color_limit_pools_the_maps():
    a, b = np.zeros((10, 10)), np.zeros((10, 10))
    a[0, :5], b[0, :5] = 1.0, 3.0
    pooled = np.concatenate([a.ravel(), b.ravel()])
    assert color_limit([a, b], 99) == pytest.approx(np.percentile(pooled, 99))
    assert color_limit([np.zeros((4, 4))]) == 1.0        # an all-zero scale still draws
    single = np.zeros((10, 10))
    single[0, 0] = 2.0                                  # percentile 0, falls back to the max
    assert color_limit(single, 50) == 2.0


def test_dark_and_light_objects_stay_visible():
    img = np.zeros((4, 4, 3), np.uint8)
    img[:, 2:] = 255
    grey = grey_backdrop(img)
    assert grey[0, 0, 0] == pytest.approx(0.3) and grey[0, 3, 0] == pytest.approx(0.95)
    rgba = heat_rgba(np.array([[0.0, 0.5, 1.0, 2.0]]), vmax=1.0)
    assert rgba[0, 0, 3] == 0 and rgba[0, 2, 3] == pytest.approx(0.85)
    assert rgba[0, 3].tolist() == rgba[0, 2].tolist()  # clipped at the scale's top


def _pixel(fig, ax, row, col):
    """The rendered RGB at data cell (row, col) of ``ax``."""
    fig.canvas.draw()
    buf = np.asarray(fig.canvas.buffer_rgba())
    x, y = ax.transData.transform((col, row))
    return buf[int(round(buf.shape[0] - y)), int(round(x)), :3].astype(int)


def test_attribution_on_a_black_object_is_drawn_in_colour():
    import matplotlib.pyplot as plt
    img = np.full((16, 16, 3), 255, np.uint8)
    img[4:12, 4:12] = 0                                  # a black square
    heat = np.zeros((16, 16))
    heat[6:10, 6:10] = 1.0                               # attributed inside the square
    fig = draw_heat(heat, img, vmax=1.0)
    ax = fig.axes[0]
    on, off, outside = _pixel(fig, ax, 8, 8), _pixel(fig, ax, 5, 5), _pixel(fig, ax, 1, 1)
    assert on.sum() > off.sum() + 150                    # the attribution shows on black
    assert off.sum() > 100 and outside.sum() > off.sum() + 150   # the square stays visible
    assert len(fig.axes) == 2                            # the panel and its colour bar
    plt.close(fig)


def test_tiler_writes_a_figure(tmp_path):
    t = VisualizerTiler(ncols=2)
    t.add(np.zeros((16, 16, 3), np.uint8), "a").add(np.ones((16, 16)), "b").add(
        np.zeros((16, 16, 3), np.uint8), "c")
    path = t.save(str(tmp_path / "tiles.png"))
    im = Image.open(path)
    assert im.size[0] > 100 and im.size[1] > 100
    with pytest.raises(ValueError, match="nothing to draw"):
        VisualizerTiler().figure()


def _overlap(a, b):
    return not (a.x1 <= b.x0 or b.x1 <= a.x0 or a.y1 <= b.y0 or b.y1 <= a.y0)


def test_suptitle_clears_the_first_rows_titles_and_frames_stay():
    import matplotlib.pyplot as plt
    rng = np.random.RandomState(0)
    imgs = rng.randint(0, 255, (3, 32, 32, 3)).astype(np.uint8)
    attr = rng.randn(3, 3, 32, 32)
    attr[2] = 0                                          # an empty map keeps its frame
    fig = tile_attributions(imgs, attr, ["a title", "another title", "empty"], ncols=3,
                            positive_only=True, suptitle="A long title over three maps " * 2
                            ).figure()
    fig.canvas.draw()
    r = fig.canvas.get_renderer()
    sup = fig._suptitle.get_window_extent(r)
    panels = [ax for ax in fig.axes if ax.get_title()]
    assert len(panels) == 3
    assert not any(_overlap(sup, ax.title.get_window_extent(r)) for ax in panels)
    assert all(s.get_visible() for ax in panels for s in ax.spines.values())
    assert len(fig.axes) == 4                            # one shared colour bar
    plt.close(fig)


def test_shared_scale_or_each_with_its_own_colour_bar():
    import matplotlib.pyplot as plt
    imgs = np.full((2, 8, 8, 3), 100, np.uint8)
    attr = np.zeros((2, 3, 8, 8))
    attr[0, :, 1, 1], attr[1, :, 2, 2] = 1.0, 10.0
    shared = tile_attributions(imgs, attr, positive_only=True)
    assert len({it["vmax"] for it in shared.items}) == 1 and shared.shared_scale()
    each = tile_attributions(imgs, attr, positive_only=True, scale="each")
    assert not each.shared_scale()
    fig = each.figure()
    assert len(fig.axes) == 4 and "own colour scale" in fig._supxlabel.get_text()
    plt.close(fig)
    with_inputs = tile_attributions(imgs, attr, positive_only=True, originals=True)
    kinds = [it["kind"] for it in with_inputs.items]
    assert kinds == ["image", "heat", "image", "heat"] and with_inputs.shared_scale()
    with pytest.raises(ValueError, match="scale must be"):
        tile_attributions(imgs, attr, scale="row")


def test_tile_neuron_maps_layout():
    from Explanation import ExplanationData
    from VisualizerTiler import tile_neuron_maps
    imgs = np.full((2, 8, 8, 3), 100, np.uint8)
    a = np.zeros((2, 3, 8, 8))
    a[:, :, 1, 1] = 1.0
    t = tile_neuron_maps(imgs, [ExplanationData(a), ExplanationData(-a)], ["n1", "n2"])
    assert len(t.items) == 6 and t.ncols == 2
    assert [it["kind"] for it in t.items] == ["image"] * 2 + ["heat"] * 4
    assert t.items[2]["data"][1, 1] == 3.0 and t.items[2]["data"].sum() == 3.0
    assert t.items[4]["data"].sum() == 0                 # positive part of -a: nothing
    assert t.shared_scale() and t.items[2]["title"] == "n1" and t.items[5]["title"] == "n2"
    masked = tile_neuron_maps(imgs, [ExplanationData(a)], ["n1"], style="mask")
    assert masked.items[2]["data"][1, 1].tolist() == [100, 100, 100]
    with pytest.raises(ValueError, match="labels"):
        tile_neuron_maps(imgs, [ExplanationData(a)], ["a", "b"])


# rows of heat maps and curves (csep590b_hw2, tub_sheet11)
def test_heatmap_row_scales_colour_bars_and_frames():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from VisualizerTiler import curves_plot, heatmap_row, image_row
    maps = [np.full((4, 4), 0.5), np.zeros((4, 4))]
    maps[0][0, 0] = -2.0
    fig = heatmap_row(maps, ["a", "b"])                       # one scale, one colour bar
    panels = [ax for ax in fig.axes if ax.get_title()]
    assert [ax.images[0].get_clim() for ax in panels] == [(-2.0, 2.0), (-2.0, 2.0)]
    assert len(fig.axes) == 3 and "one colour scale" not in (fig._suptitle.get_text()
                                                            if fig._suptitle else "")
    assert all(ax.spines["left"].get_visible() and not ax.get_xticks().size for ax in panels)
    plt.close(fig)
    fig = heatmap_row(maps, ["a", "b"], signed=False, shared=False, suptitle="s")
    panels = [ax for ax in fig.axes if ax.get_title()]
    assert [ax.images[0].get_clim() for ax in panels] == [(0, 0.5), (0, 1.0)]   # empty: 0..1
    assert len(fig.axes) == 4 and fig._suptitle.get_text() == "s (each map on its own colour scale)"
    plt.close(fig)
    with pytest.raises(ValueError, match="2 maps but 1 titles"):
        heatmap_row(maps, ["a"])
    fig, axes = plt.subplots(1, 2)
    assert image_row(np.zeros((2, 4, 4, 3), np.uint8), ["x", "y"], axes=axes) is fig
    plt.close(fig)
    fig = curves_plot({"c": (np.arange(5), np.linspace(0, 1, 5))}, "p", "t")
    line = fig.axes[0].lines[0]
    np.testing.assert_allclose(line.get_xdata(), np.linspace(0, 1, 5))
    plt.close(fig)


# -- the contract every drawing function keeps (all five notebooks) ----------------
def _colour_bars(fig):
    return [ax for ax in fig.axes if hasattr(ax, "_colorbar")]


def _lime_result(image_size=16):
    from methods.lime_image import LimeResult
    seg = np.zeros((image_size, image_size), int)
    seg[:, image_size // 2:] = 1
    return LimeResult(0, seg, np.array([0.5, -0.25]), seg == 0, 0.0, None)


def _dissection(name, labels):
    from evaluation.dissection import LayerDissection
    k = len(labels)
    return LayerDissection(0, name, ["a", "b"], np.zeros(k), np.zeros((k, 2)), labels,
                           np.zeros(k), np.zeros(2))


def _calls(n=2, s=16):
    """(function, args, kwargs, number of panels) for every drawing function."""
    import VisualizerTiler as V
    rng = np.random.RandomState(0)
    imgs = rng.randint(0, 255, (n, s, s, 3)).astype(np.uint8)
    masks = rng.rand(n, s, s) > 0.5
    d = [_dissection("conv5_1", ["a", None]), _dissection("conv5_2", ["b", "a"])]
    return [
        (V.draw_heat, (rng.rand(s, s), imgs[0]), {}, 1),
        (V.image_row, (imgs, ["x"] * n), {}, n),
        (V.heatmap_row, ([rng.randn(s, s)] * n, ["x"] * n), {}, n),
        (V.relevance_row, ([rng.randn(s, s)] * n, ["x"] * n, [1.0] * n), {}, n),
        (V.plot_maps, ({"IG": {"maps": rng.randn(n, s, s)}}, imgs, [0, 1], ["a", "b"]), {}, 4),
        (V.plot_cams, (imgs, {"Grad-CAM": rng.rand(n, s, s)}), {}, 2 * n),
        (V.plot_lime, (imgs[:1], [_lime_result(s)]), {}, 2),
        (V.plot_overlap, (imgs, masks, ~masks), {}, n),
        (V.curves_plot, ({"c": (np.arange(3), np.ones(3))}, "p", "t"), {}, 1),
        (V.plot_iou_bars, (["a", "b"], [0.2, 0.4], "t"), {}, 1),
        (V.plot_grid, (np.eye(2), np.eye(2), (0, 1), (0, 1), "chain saw"), {}, 2),
        (V.plot_concept_histograms, (d,), {}, 2),
        (V.plot_shared_exclusive, (d, d[:1]), {}, 1),
    ]


def test_every_function_returns_its_figure_and_draws_into_given_axes():
    import matplotlib.pyplot as plt
    from matplotlib.figure import Figure
    for f, args, kwargs, panels in _calls():
        fig = f(*args, **kwargs)
        assert isinstance(fig, Figure), f.__name__
        plt.close(fig)
        given, axes = plt.subplots(1, panels, squeeze=False)
        key = "ax" if panels == 1 and f.__name__ not in ("image_row", "heatmap_row",
                                                         "relevance_row") else "axes"
        target = axes[0, 0] if key == "ax" else axes[0]
        assert f(*args, **dict(kwargs, **{key: target})) is given, f.__name__
        drawn = [ax for ax in axes[0] if ax.images or ax.patches or ax.lines or ax.collections]
        assert len(drawn) == panels, f.__name__
        plt.close(given)
    with pytest.raises(ValueError, match="need 2 axes, got 1"):
        _calls()[1][0](*_calls()[1][1], axes=[axes[0, 0]])


def test_the_method_colour_map_table_is_what_the_figures_use():
    import matplotlib.pyplot as plt
    from methods import sheet11
    from VisualizerTiler import CMAPS, heatmap_row, method_cmap, plot_maps
    assert method_cmap("Occlusion").name == CMAPS["Occlusion"] == "seismic"
    fig = heatmap_row([np.eye(4)], ["x"], cmap="SmoothGrad", signed=False)
    assert fig.axes[0].images[0].get_cmap().name == CMAPS["SmoothGrad"]
    plt.close(fig)
    dark = method_cmap("LRP")                           # the sheet's darkened seismic
    np.testing.assert_allclose(dark(1.0)[:3], 0.85 * np.array(method_cmap("Occlusion")(1.0)[:3]))
    fig = sheet11.visualize(np.eye(4))
    assert fig.axes[0].images[0].get_cmap().name == CMAPS["LRP"]
    plt.close(fig)
    fig = plot_maps({"IG": {"maps": np.ones((1, 4, 4))}}, np.zeros((1, 4, 4, 3), np.uint8),
                    [0], ["a"])
    assert fig.axes[1].images[0].get_cmap().name == CMAPS["every method"]
    plt.close(fig)
    with pytest.raises(ValueError, match="no colour map for 'Saliency'"):
        method_cmap("Saliency")


def test_maps_compared_share_one_scale_with_one_colour_bar():
    import matplotlib.pyplot as plt
    from VisualizerTiler import plot_cams, plot_maps, relevance_row
    rng = np.random.RandomState(0)
    maps = {"IG": {"maps": rng.randn(2, 8, 8)}, "CAM": {"maps": 5 * rng.rand(2, 8, 8)}}
    fig = plot_maps(maps, np.zeros((2, 8, 8, 3), np.uint8), [0, 1], ["a", "b"])
    clims = {ax.images[0].get_clim() for ax in fig.axes[2:6] if not hasattr(ax, "_colorbar")}
    assert clims == {(-1.0, 1.0)} and len(_colour_bars(fig)) == 1
    plt.close(fig)
    fig = plot_cams(np.zeros((2, 8, 8, 3), np.uint8),
                    {"Grad-CAM": rng.rand(2, 8, 8), "Score-CAM": rng.rand(2, 8, 8)})
    bars = _colour_bars(fig)
    assert len(bars) == 1 and bars[0]._colorbar.norm.vmax == 1.0
    plt.close(fig)
    with pytest.raises(ValueError, match="one colour bar serves the CAMs"):
        plot_cams(np.zeros((1, 8, 8, 3), np.uint8), {"Grad-CAM": np.zeros((1, 8, 8)),
                                                     "Occlusion": np.zeros((1, 8, 8))})
    fig = relevance_row([np.eye(4), np.eye(4)], ["a", "b"], [1.0, 3.0])    # scales differ:
    assert len(_colour_bars(fig)) == 2 and "own colour scale" in fig._suptitle.get_text()
    plt.close(fig)


def _no_overlap(fig):
    """The figure title's box clears every panel title's box (renderer extents)."""
    fig.canvas.draw()
    r = fig.canvas.get_renderer()
    sup = fig._suptitle.get_window_extent(r)
    titles = [ax.title.get_window_extent(r) for ax in fig.axes if ax.get_title()]
    return bool(titles) and not any(_overlap(sup, t) for t in titles)


def test_figure_titles_never_overlap_panel_titles():
    import matplotlib.pyplot as plt
    from VisualizerTiler import heatmap_row, plot_concept_histograms, plot_overlap
    imgs = np.zeros((7, 16, 16, 3), np.uint8)           # two rows of panels
    m = np.zeros((7, 16, 16), bool)
    d = [_dissection("conv5_1", ["a", None])]
    for fig in (plot_overlap(imgs, m, m, ["a long panel title"] * 7, ("Grad-CAM", "LIME")),
                heatmap_row([np.eye(8)] * 3, ["title"] * 3, shared=False,
                            suptitle="a long figure title " * 3),
                plot_concept_histograms([("network A", d), ("network B", d)], title="T " * 30)):
        assert _no_overlap(fig)
        plt.close(fig)


def test_near_empty_panels_keep_their_frame():
    import matplotlib.pyplot as plt
    from VisualizerTiler import plot_lime, plot_maps
    fig = plot_maps({"IG": {"maps": np.zeros((1, 8, 8))}}, np.zeros((1, 8, 8, 3), np.uint8),
                    [0], ["a"])
    fig.canvas.draw()
    empty = fig.axes[1]
    assert all(s.get_visible() and s.get_edgecolor()[0] < 1 for s in empty.spines.values())
    plt.close(fig)
    fig = plot_lime(np.zeros((1, 16, 16, 3), np.uint8), [_lime_result()])
    assert all(s.get_visible() for ax in fig.axes[:2] for s in ax.spines.values())
    plt.close(fig)


def test_a_black_object_stays_visible_under_mask_tints():
    import matplotlib.pyplot as plt
    from VisualizerTiler import plot_overlap
    img = np.full((1, 16, 16, 3), 255, np.uint8)
    img[0, 4:12, 4:12] = 0                               # a black square
    a = np.zeros((1, 16, 16), bool)
    a[0, :, :8] = True                                   # mask A: the left half
    fig = plot_overlap(img, a, np.zeros_like(a))
    ax = fig.axes[0]
    tinted_black, tinted_white = _pixel(fig, ax, 8, 5), _pixel(fig, ax, 1, 5)
    black = _pixel(fig, ax, 8, 10)
    assert tinted_black[0] > tinted_black[2] + 100       # red on the black square
    assert tinted_white.sum() > tinted_black.sum() + 100  # and the square still shows
    assert black.sum() > 100                             # black drawn dark grey, not black
    plt.close(fig)

import numpy as np
import pytest
from PIL import Image

from VisualizerTiler import AttributionMask, VisualizerTiler, attribution_map


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


def test_tiler_writes_a_figure(tmp_path):
    t = VisualizerTiler(ncols=2)
    t.add(np.zeros((16, 16, 3), np.uint8), "a").add(np.ones((16, 16)), "b").add(
        np.zeros((16, 16, 3), np.uint8), "c")
    path = t.save(str(tmp_path / "tiles.png"))
    im = Image.open(path)
    assert im.size[0] > 100 and im.size[1] > 100
    with pytest.raises(ValueError, match="nothing to draw"):
        VisualizerTiler().figure()


def test_tile_neuron_maps_layout():
    from Explanation import ExplanationData
    from VisualizerTiler import tile_neuron_maps
    imgs = np.full((2, 8, 8, 3), 100, np.uint8)
    a = np.zeros((2, 3, 8, 8))
    a[:, :, 1, 1] = 1.0
    t = tile_neuron_maps(imgs, [ExplanationData(a), ExplanationData(-a)], ["n1", "n2"])
    assert len(t.items) == 6 and t.ncols == 2
    assert t.items[2][0][1, 1].tolist() == [100, 100, 100] and t.items[2][0].sum() == 300
    with pytest.raises(ValueError, match="labels"):
        tile_neuron_maps(imgs, [ExplanationData(a)], ["a", "b"])


# notebooks/csep590b_hw2 and notebooks/tub_sheet11: rows of heat maps and curves
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
    assert image_row(np.zeros((2, 4, 4, 3), np.uint8), ["x", "y"], ax=axes) is fig
    plt.close(fig)
    fig = curves_plot({"c": (np.arange(5), np.linspace(0, 1, 5))}, "p", "t")
    line = fig.axes[0].lines[0]
    np.testing.assert_allclose(line.get_xdata(), np.linspace(0, 1, 5))
    plt.close(fig)

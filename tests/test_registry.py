"""The registry of methods (methods/registry.py): every registered method keeps the
contract ``(imgs, model, target_labels) -> maps`` on a small model of the VGG16 layout
(shape, finite float32 maps, the same maps whether the images are explained in one call
or in smaller ones), the comparative forms are the chain's linear difference, and the
comparison's contenders and variants are the registry's entries."""
import numpy as np
import pytest

import models
import toys
from evaluation import contenders
from evaluation.measures import reduce_maps
from methods import registry

SETTINGS = registry.Settings(steps=3, samples=3, occlusion=16, lime_samples=12)
LABELS = np.array([1, 2, 1])      # a repeated label: the methods that group by label


class TinyWorld(object):
    """The world's interface at the tiny model's 64 px."""
    image_size = 64

    def preprocess(self, images):
        return models.preprocess(images, size=self.image_size)

    def deprocess(self, x):
        return models.deprocess(x)


@pytest.fixture(scope="module")
def setup():
    model = toys.tiny_vgg(seed=2)
    world = TinyWorld()
    pictures = (np.random.RandomState(0).rand(3, 64, 64, 3) * 255).astype(np.uint8)
    return model, world, world.preprocess(pictures), registry.Context(world, SETTINGS)


@pytest.mark.parametrize("name", registry.names())
def test_every_method_keeps_the_contract(setup, name):
    model, world, x, ctx = setup
    explain = registry.entry(name).bind(ctx)
    maps = explain(x, model, LABELS)
    assert maps.dtype == np.float32 and maps.shape in ((3, 64, 64), (3, 3, 64, 64)), \
        (maps.dtype, maps.shape)
    assert np.isfinite(maps).all()
    assert np.abs(maps).max() > 0, "%s gives all-zero maps on the tiny model" % name
    # the same maps when the images come one, then two, at a time
    split = np.concatenate([explain(x[:1], model, LABELS[:1]), explain(x[1:], model, LABELS[1:])])
    np.testing.assert_allclose(split, maps, rtol=1e-4, atol=1e-5 * np.abs(maps).max())


@pytest.mark.parametrize("name", ["IG, zero baseline", "Gradient x Input"])
def test_signed_comparatives_are_the_difference_of_the_two_classes(setup, name):
    """Linearity of the chain's attribution in the QoI: the map of s_1 - s_2 equals the
    map of s_1 minus the map of s_2."""
    model, world, x, ctx = setup
    e = registry.entry(name)
    comparative = e.bind_comparative(ctx)(x, model, 1, 2)
    one, two = (reduce_maps(e.bind(ctx)(x, model, np.full(3, c))) for c in (1, 2))
    np.testing.assert_allclose(comparative, one - two, rtol=1e-4,
                               atol=1e-5 * np.abs(one).max())


def test_the_comparatives_give_finite_maps_of_the_images(setup):
    model, world, x, ctx = setup
    for e in registry.ENTRIES:
        if e.comparative is not None:
            m = e.bind_comparative(ctx)(x[:2], model, 1, 2)
            assert m.shape == (2, 64, 64) and np.isfinite(m).all(), e.name


def test_contenders_and_variants_come_from_the_registry():
    world = TinyWorld()
    methods = contenders.contenders(world, SETTINGS)
    assert [m.name for m in methods] == registry.names()
    ig = methods[registry.names().index("IG, zero baseline")]
    assert ig.settings == ("HW3: class score, zero (mean-image) baseline, 3 right-Riemann "
                           "steps")
    assert methods[registry.names().index("occlusion")].comparative is None
    assert [m.name for m in contenders.variants(world, registry.Settings())] == [
        "SmoothGrad (sigma = 0.05)", "SmoothGrad (sigma = 0.1)", "SmoothGrad (sigma = 0.2)",
        "IG, blurred baseline (sigma = 1 px per 64)", "IG, blurred baseline (sigma = 2 px per 64)",
        "IG, blurred baseline (sigma = 4 px per 64)", "occlusion (4x4)", "occlusion (8x8)",
        "occlusion (16x16)", "Grad-CAM (last convolution)", "Grad-CAM (one block lower)",
        "LIME (250 samples)", "LIME (1000 samples)", "LRP (default gamma schedule)",
        "LRP (gamma = 0)"]


def test_unknown_names_are_refused_with_the_list():
    assert len(set(registry.names())) == len(registry.ENTRIES)
    assert [e.name for e in registry.cams()] == ["Grad-CAM", "Ablation-CAM", "Score-CAM"]
    with pytest.raises(ValueError, match="the registry holds .*'LIME'"):
        registry.entry("Grad-CAM++")

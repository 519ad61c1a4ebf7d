"""Every attribution method of the project, in one registry, with one contract.

**The contract.** A method explains a batch of images toward one class each::

    explain(imgs, model, target_labels) -> maps

* ``imgs``: preprocessed model inputs, float32 (N, 3, H, W) (``world.preprocess``);
* ``model``: the Keras model, channels first, linear class scores;
* ``target_labels``: (N,) int class indices, the class each map explains;
* ``maps``: float32 (N, H, W), or (N, 3, H, W) pixel attributions (the measures sum
  the channels, :func:`evaluation.measures.reduce_maps`), in the form of the method's
  own homework (signed attributions, channel-summed magnitudes, probability drops,
  CAMs scaled to [0, 1], superpixel weights).

Image i's map depends on image i, the model and target i only: explaining the images
in one call or in several smaller calls gives the same maps (``tests/test_registry.py``
checks this, the shapes and finiteness for every entry on a small model).

**An entry** (:class:`Entry`) is a name, a function ``(imgs, model, target_labels, ctx)
-> maps`` and a description of its defaults; ``ctx`` (:class:`Context`) holds what a
method needs beyond the contract: the world's pictures (for pixel baselines and LIME)
and the free parameters (:class:`Settings`, at their homeworks' defaults).
:meth:`Entry.bind` fixes ``ctx`` and returns the contract's three-argument function.
Where the method can explain any quantity of interest, the entry also has
``comparative(imgs, model, c1, c2, ctx)``: the same composition (slice, DoI) on
s_c1 - s_c2. The gradient methods are compositions on one evaluator, the Explanation
chain (:func:`chain_maps`), as the removal methods are masks on one engine
(:class:`methods.removal.RemovalEngine`).

**Adding a method**: write its function with the contract (in its own module, or
here if it is a composition of existing ones), add one :class:`Entry` to
:data:`ENTRIES`; ``tests/test_registry.py`` then runs it, the comparison
(:mod:`evaluation.contenders`) grades it.
"""
import hw3_env  # noqa: F401  (must come before keras/theano)

import dataclasses
import zlib
from dataclasses import dataclass
from typing import Callable, Optional

import numpy as np

import models
from AumannShapley import AumannShapley
from Explanation import explanation_of, top_neurons
from methods import baselines, cam, csep590b, lime_image, sheet11
from methods.distributions import Gaussian, Point
from methods.lrp import conv_layers
from methods.removal import random_map

__all__ = ["Settings", "Context", "Entry", "ENTRIES", "REGISTRY", "entry", "names", "cams",
           "chain_maps", "per_label", "influence_directed", "lime_maps"]


@dataclass(frozen=True)
class Settings:
    """The methods' free parameters, at their homeworks' defaults.

    Attributes:
        steps: Riemann steps of every path integral (HW3 and HW2: 50).
        samples, sigma: SmoothGrad's noisy samples and noise level (HW2 Q4: 50, 0.1).
        occlusion: occlusion's superpixel side in pixels (HW2: 8).
        blur: the blurred baseline's sigma in pixels per 64 px of image (HW2 Q2(e):
            the strongest of 1, 2, 4).
        lime_samples: LIME's num_samples (the report: 1000).
        grid: superpixels per side of the insertion/deletion curves (16: 4 px at 64 px,
            14 px at 224 px).
        curve_step: superpixels added or removed per point of those curves.
        cam_depth: the CAMs' slice, counted in convolution outputs from the top (1: the
            last convolution, the report's; 4: one VGG block lower).
        lrp_gamma: None: sheet 11's gamma schedule; a number: that gamma on every
            convolution after the first.
    """
    steps: int = 50
    samples: int = 50
    sigma: float = 0.1
    occlusion: int = 8
    blur: float = 4.0
    lime_samples: int = 1000
    grid: int = 16
    curve_step: int = 8
    cam_depth: int = 1
    lrp_gamma: Optional[float] = None

    def replace(self, **changes):
        """A copy with some parameters changed (the comparison's variants)."""
        return dataclasses.replace(self, **changes)


class Context(object):
    """What a method needs beyond ``(imgs, model, target_labels)``.

    Args:
        world: the world: ``image_size``, ``preprocess`` (RGB uint8 (N, S, S, 3) ->
            model inputs) and ``deprocess`` (model inputs -> RGB uint8).
        settings: the free parameters (:class:`Settings`; default: the homeworks').
    """

    def __init__(self, world, settings=Settings()):
        self.world = world
        self.settings = settings
        size = int(world.image_size)
        self.black = baselines.black(size, world.preprocess)
        self.white = baselines.white(size, world.preprocess)

    def pictures(self, x):
        """Model inputs (N, 3, S, S) -> the RGB uint8 pictures (N, S, S, 3)."""
        return self.world.deprocess(x)

    def blurred(self, x, blur=None):
        """HW2's blurred baseline of each input: its picture blurred with sigma =
        ``blur`` (default ``settings.blur``) pixels per 64 px of image, preprocessed.

        Returns:
            float32 (N, 3, S, S).
        """
        blur = self.settings.blur if blur is None else blur
        size = int(self.world.image_size)
        return baselines.blurred(self.pictures(x), blur * size / 64.0, self.world.preprocess)


@dataclass(frozen=True)
class Entry:
    """One method of the registry.

    Attributes:
        name: the display name (the comparison's row label).
        explain: ``(imgs, model, target_labels, ctx) -> maps`` (see the module's
            contract; ``ctx`` a :class:`Context`).
        describe: its defaults and their homework, with ``{field}`` placeholders of
            :class:`Settings` (e.g. ``"{steps} right-Riemann steps"``).
        comparative: ``(imgs, model, c1, c2, ctx) -> maps`` of s_c1 - s_c2, or None
            when the method cannot explain a comparative quantity.
        weights: for a CAM, its channel weights ``(imgs, model, target_labels,
            layer) -> (A, w)`` (:func:`methods.cam.compare`); else None.
    """
    name: str
    explain: Callable
    describe: str = ""
    comparative: Optional[Callable] = None
    weights: Optional[Callable] = None

    def bind(self, ctx):
        """The method with its context fixed.

        Args:
            ctx: a :class:`Context`.
        Returns:
            ``explain(imgs, model, target_labels) -> maps``.
        """
        return lambda imgs, model, target_labels: self.explain(imgs, model, target_labels, ctx)

    def bind_comparative(self, ctx):
        """``comparative(imgs, model, c1, c2) -> maps`` with its context fixed, or None."""
        if self.comparative is None:
            return None
        return lambda imgs, model, c1, c2: self.comparative(imgs, model, c1, c2, ctx)

    def description(self, settings=Settings()):
        """:attr:`describe` with the settings' values filled in."""
        return self.describe.format(**dataclasses.asdict(settings))


# ---------------------------------------------------------------------------
# The evaluator of the gradient methods: the Explanation chain
# ---------------------------------------------------------------------------
def chain_maps(model, doi, x, quantity, baseline=None, absolute=False):
    """Pixel maps of one quantity under one DoI through the Explanation chain.

    Args:
        model: the Keras model (or a rewritten one).
        doi: the distribution of interest (``AumannShapley``, ``Point``, ``Gaussian``).
        x: model inputs (N, 3, H, W).
        quantity: ``(slice) -> ExplanationForQuantity``, e.g.
            ``lambda s: s.comparative(1, 2)``.
        baseline: the DoI's baseline (pixel space) or None.
        absolute: channel sum of |attribution| (HW2's form) instead of the signed sum.
    Returns:
        float32 (N, H, W).
    """
    expl = explanation_of(model).using(doi)
    a = quantity(expl.for_input()).explain(x, baseline=baseline).attribution
    return (np.abs(a) if absolute else a).sum(axis=1)


def per_label(fn, x, labels):
    """``fn(x[idx], t)`` for each distinct label t, put back in the images' order.

    Args:
        fn: ``(images of one label, label) -> maps``.
        x: (N, ...) inputs; labels: (N,) ints.
    Returns:
        float32 (N, ...) maps.
    """
    labels = np.asarray(labels)
    out = None
    for t in np.unique(labels):
        idx = np.flatnonzero(labels == t)
        m = fn(x[idx], int(t))
        out = np.zeros((len(x),) + m.shape[1:], np.float32) if out is None else out
        out[idx] = m
    return out


def influence_directed(model, x, quantity, steps=50, layer=models.CONV4_1):
    """HW3 Part II on each image: the most influential conv4_1 neuron of the quantity
    (max of its attribution map), drawn on the pixels (IG of that neuron's summed
    activation, zero baseline).

    Args:
        model: the Keras model (VGG16 layout).
        x: model inputs (N, 3, H, W).
        quantity: ``(slice) -> ExplanationForQuantity``.
        steps: right-Riemann steps of both path integrals.
        layer: the slice of the neurons (conv4_1).
    Returns:
        float32 (N, H, W) signed pixel maps.
    """
    expl = explanation_of(model).using(AumannShapley(resolution=steps))
    z = quantity(expl.for_layer(layer)).explain(x).attribution
    out = np.empty((len(x),) + x.shape[2:], np.float32)
    pixels = expl.for_input()
    for i in range(len(x)):
        n = int(top_neurons(z[i], k=1)[0][0])
        out[i] = pixels.for_neurons(layer, [n]).explain(x[i:i + 1]).attribution[0].sum(0)
    return out


def lime_maps(ctx, model, x, num_samples=None, seed=0):
    """LIME's superpixel weights painted on their pixels (the report's settings; LIME
    explains the model's top class).

    Args:
        ctx: a :class:`Context` (the world's pictures and preprocessing).
        model: the Keras model.
        x: model inputs (N, 3, H, W).
        num_samples: LIME's samples (None: the report's 1000).
        seed: LIME's random seed, the same for every image.
    Returns:
        float32 (N, H, W).
    """
    out = np.empty((len(x),) + x.shape[2:], np.float32)
    for i, im in enumerate(ctx.pictures(x)):
        r = lime_image.explain(im, model, ctx.world.preprocess, random_seed=seed,
                               num_samples=num_samples, desc="LIME, image %d" % i)
        out[i] = r.weights[r.segments]
    return out


def _comparative(doi, baseline=None, absolute=False):
    """The comparative form of a chain method: the same DoI on s_c1 - s_c2.

    Args:
        doi: ``(settings) -> DoI``.
        baseline: None, or the name of a :class:`Context` baseline ('black', 'white')
            or method ('blurred').
        absolute: HW2's channel sum of |attribution|.
    """
    def run(imgs, model, c1, c2, ctx):
        b = getattr(ctx, baseline) if baseline else None
        b = b(imgs) if callable(b) else b
        return chain_maps(model, doi(ctx.settings), imgs, lambda s: s.comparative(c1, c2),
                          b, absolute)
    return run


def _path(st):
    return AumannShapley(resolution=st.steps)


# ---------------------------------------------------------------------------
# The methods: one function each, in the contract plus the context
# ---------------------------------------------------------------------------
def ig_score(imgs, model, target_labels, ctx):
    """HW3's Integrated Gradients of the class score s_t, zero baseline, signed."""
    return per_label(lambda xs, t: chain_maps(model, _path(ctx.settings), xs,
                                              lambda s: s.absolute(t)), imgs, target_labels)


def ig_black(imgs, model, target_labels, ctx):
    """HW2 Q3: |IG of p_t| summed over channels, from the black picture."""
    return csep590b.integrated_gradients(imgs, model, target_labels, ctx.black,
                                         ctx.settings.steps)


def ig_white(imgs, model, target_labels, ctx):
    """HW2 Q3: |IG of p_t| summed over channels, from the white picture."""
    return csep590b.integrated_gradients(imgs, model, target_labels, ctx.white,
                                         ctx.settings.steps)


def ig_blurred(imgs, model, target_labels, ctx):
    """HW2 Q3: |IG of p_t| summed over channels, from each picture blurred."""
    return csep590b.integrated_gradients(imgs, model, target_labels, ctx.blurred(imgs),
                                         ctx.settings.steps)


def influence_directed_score(imgs, model, target_labels, ctx):
    """HW3 Part II toward each image's class score (:func:`influence_directed`)."""
    return per_label(lambda xs, t: influence_directed(model, xs, lambda s: s.absolute(t),
                                                      ctx.settings.steps),
                     imgs, target_labels)


def influence_directed_comparative(imgs, model, c1, c2, ctx):
    """HW3 Part II toward s_c1 - s_c2."""
    return influence_directed(model, imgs, lambda s: s.comparative(c1, c2), ctx.settings.steps)


def vanilla_gradients(imgs, model, target_labels, ctx):
    """HW2 Q3: |dp_t/dx| summed over channels."""
    return csep590b.vanilla_gradients(imgs, model, target_labels)


def smoothgrad(imgs, model, target_labels, ctx):
    """HW2 Q4: SmoothGrad of p_t."""
    st = ctx.settings
    return csep590b.smoothgrad(imgs, model, target_labels, st.samples, st.sigma)


def gradient_x_input(imgs, model, target_labels, ctx):
    """Sheet 11: x * ds_t/dx."""
    return sheet11.gradient_x_input(imgs, model, target_labels)


def lrp(imgs, model, target_labels, ctx):
    """Sheet 11: LRP z^B + LRP-gamma (``settings.lrp_gamma`` on every convolution above
    the first, or the sheet's schedule)."""
    gamma = ctx.settings.lrp_gamma
    gammas = None if gamma is None else [float(gamma)] * (len(conv_layers(model)) - 1)
    return sheet11.lrp(imgs, model, target_labels, gammas=gammas)


def lrp_comparative(imgs, model, c1, c2, ctx):
    """LRP of s_c1 - s_c2 on the rewritten model (the sheet's schedule)."""
    return sheet11.explainer(model, "lrp").for_input().comparative(c1, c2).explain(
        imgs).attribution.sum(axis=1)


def occlusion(imgs, model, target_labels, ctx):
    """HW2 Q2/Q4: drop of p_t when a superpixel is replaced by black."""
    return csep590b.occlusion(imgs, model, target_labels, ctx.black,
                              superpixel_size=ctx.settings.occlusion)


def _cam_layer(model, ctx):
    return cam.conv_slices(model)[-int(ctx.settings.cam_depth)]


def grad_cam(imgs, model, target_labels, ctx):
    """The report's Grad-CAM at ``settings.cam_depth``."""
    return cam.grad_cam(imgs, model, target_labels, layer=_cam_layer(model, ctx))


def ablation_cam(imgs, model, target_labels, ctx):
    """The report's Ablation-CAM at ``settings.cam_depth``."""
    return cam.ablation_cam(imgs, model, target_labels, layer=_cam_layer(model, ctx))


def score_cam(imgs, model, target_labels, ctx):
    """The report's Score-CAM at ``settings.cam_depth``."""
    return cam.score_cam(imgs, model, target_labels, layer=_cam_layer(model, ctx))


def lime(imgs, model, target_labels, ctx):
    """The report's LIME (``settings.lime_samples``; it explains the top class)."""
    return lime_maps(ctx, model, np.asarray(imgs), num_samples=ctx.settings.lime_samples)


def random_noise(imgs, model, target_labels, ctx):
    """HW2 Q4's Random baseline: Gaussian noise, each image's seeded by its bytes."""
    x = np.asarray(imgs, dtype=np.float32)
    return np.stack([random_map(xi.shape[1:], seed=zlib.crc32(xi.tobytes())) for xi in x])


ENTRIES = (
    Entry("IG, zero baseline", ig_score,
          "HW3: class score, zero (mean-image) baseline, {steps} right-Riemann steps",
          _comparative(_path)),
    Entry("IG, black baseline", ig_black,
          "HW2 Q3: |IG of p_t| summed over channels, black image, {steps} steps",
          _comparative(_path, "black", absolute=True)),
    Entry("IG, white baseline", ig_white, "HW2 Q3: as above, white image",
          _comparative(_path, "white", absolute=True)),
    Entry("IG, blurred baseline", ig_blurred,
          "HW2 Q3: as above, the image blurred with sigma = {blur:g} px per 64 px",
          _comparative(_path, "blurred", absolute=True)),
    Entry("influence-directed (conv4_1)", influence_directed_score,
          "HW3 Part II: top conv4_1 neuron of each image, IG of it to the pixels, {steps} steps",
          influence_directed_comparative),
    Entry("vanilla gradients", vanilla_gradients, "HW2 Q3: |dp_t/dx| summed over channels",
          _comparative(lambda st: Point(), absolute=True)),
    Entry("SmoothGrad", smoothgrad,
          "HW2 Q4: {samples} samples, sigma = {sigma:g} of the value range, |gradient| averaged",
          _comparative(lambda st: Gaussian(st.samples, st.sigma, absolute=True),
                       absolute=True)),
    Entry("Gradient x Input", gradient_x_input, "sheet 11: class score, x * ds_c/dx",
          _comparative(lambda st: Point(ignore_difference_term=False))),
    Entry("LRP (z^B + gamma)", lrp,
          "sheet 11: z^B first layer, LRP-gamma schedule 0.5/0.25/0.1/0, plain dense",
          lrp_comparative),
    Entry("occlusion", occlusion,
          "HW2 Q2/Q4: {occlusion}x{occlusion} superpixels replaced by black, drop of p_t"),
    Entry("Grad-CAM", grad_cam,
          "report: last convolution, ReLU map scaled to [0, 1], bilinear upsampling",
          weights=cam.grad_cam_weights),
    Entry("Ablation-CAM", ablation_cam, "report: as Grad-CAM", weights=cam.ablation_cam_weights),
    Entry("Score-CAM", score_cam, "report: as Grad-CAM", weights=cam.score_cam_weights),
    Entry("LIME", lime,
          "report: quickshift superpixels, {lime_samples} samples, hide_color 0, top label"),
    Entry("random", random_noise, "HW2 Q4: Gaussian noise"),
)
"""Every method, in the comparison's order."""

REGISTRY = {e.name: e for e in ENTRIES}
"""The entries by name."""


def entry(name):
    """The registry's entry called ``name``.

    Raises:
        ValueError: no such method (the message lists them).
    """
    if name not in REGISTRY:
        raise ValueError("unknown method %r; the registry holds %s" % (name, names()))
    return REGISTRY[name]


def names():
    """The methods' names, in the registry's order."""
    return [e.name for e in ENTRIES]


def cams():
    """The entries that are CAMs (they have channel weights), in order."""
    return [e for e in ENTRIES if e.weights is not None]

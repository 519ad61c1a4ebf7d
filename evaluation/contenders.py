"""The methods the comparison grades, each with the defaults of its own homework.

Every contender is an :class:`evaluation.comparison.Method`: the homework's wrapper for
the per-image map, and where the method can explain any quantity of interest, the same
composition (slice, DoI) on the comparative quantity s_c1 - s_c2 for the part-truth test.
Maps keep their homework's form: signed attributions for HW3 and sheet 11 (IG of the
score, Gradient x Input, LRP), channel-summed magnitudes for CSEP 590B HW2 (|gradient|,
SmoothGrad, |IG| of the probability), probability drops for occlusion, ReLU maps scaled
to [0, 1] for the CAMs, superpixel weights for LIME. The measures use the positive part
of each map (:mod:`evaluation.measures`), the same rule for all.
"""
import hw3_env  # noqa: F401

import zlib
from dataclasses import dataclass

import numpy as np

import models
from AumannShapley import AumannShapley
from Explanation import explanation_of, top_neurons
from evaluation.comparison import Method
from methods import baselines, cam, csep590b, lime_image, sheet11
from methods.distributions import Gaussian, Point
from methods.lrp import conv_layers
from methods.removal import random_map

__all__ = ["Settings", "contenders", "variants", "chain_maps", "influence_directed",
           "reading_context",
           "lime_maps", "ablation_auc"]


@dataclass
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
    """
    steps: int = 50
    samples: int = 50
    sigma: float = 0.1
    occlusion: int = 8
    blur: float = 4.0
    lime_samples: int = 1000
    grid: int = 16
    curve_step: int = 8


def _pictures(world, x):
    return world.deprocess(x)


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


def _per_label(fn, x, labels):
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


def lime_maps(world, model, x, num_samples=None, seed=0):
    """LIME's superpixel weights painted on their pixels (the report's settings; LIME
    explains the model's top class)."""
    out = np.empty((len(x),) + x.shape[2:], np.float32)
    for i, im in enumerate(_pictures(world, x)):
        r = lime_image.explain(im, model, world.preprocess, random_seed=seed,
                               num_samples=num_samples, desc="LIME, image %d" % i)
        out[i] = r.weights[r.segments]
    return out


def ablation_auc(model, baseline, settings=Settings()):
    """The comparison's ablation hook: insertion and deletion AUC of each map (HW2's
    curves of p_t, black baseline, ``settings.grid`` x ``settings.grid`` superpixels
    ranked by their summed map, ``settings.curve_step`` per point)."""
    size = int(model.input_shape[-1]) // int(settings.grid)
    step = int(settings.curve_step)

    def run(x, labels, maps):
        imp = csep590b.superpixel_sum(maps, size)
        ins, dele = (csep590b.ablation_curves(x, model, {"m": imp}, labels, baseline, kind,
                                              step=step, progress=False)["m"][2]
                     for kind in ("insertion", "deletion"))
        return ins, dele
    return run


def contenders(world, settings=Settings()):
    """Every method of the comparison, with the defaults of its homework.

    Args:
        world: the world (its preprocessing makes the pixel baselines).
        settings: the free parameters (:class:`Settings`; default: the homeworks').
    Returns:
        list of :class:`Method`.
    """
    st = settings
    size = world.image_size
    black = baselines.black(size, world.preprocess)
    white = baselines.white(size, world.preprocess)

    def blurred(x):
        return baselines.blurred(_pictures(world, x), st.blur * size / 64.0,
                                 world.preprocess)

    def comp(doi, baseline=None, absolute=False):
        def run(x, model, c1, c2):
            b = baseline(x) if callable(baseline) else baseline
            return chain_maps(model, doi(), x, lambda s: s.comparative(c1, c2), b, absolute)
        return run

    def ig_score(x, model, labels):
        return _per_label(lambda xs, t: chain_maps(
            model, AumannShapley(resolution=st.steps), xs, lambda s: s.absolute(t)), x, labels)

    m = [
        Method("IG, zero baseline", ig_score,
               comp(lambda: AumannShapley(resolution=st.steps)),
               "HW3: class score, zero (mean-image) baseline, %d right-Riemann steps" % st.steps),
        Method("IG, black baseline",
               lambda x, model, y: csep590b.integrated_gradients(x, model, y, black, st.steps),
               comp(lambda: AumannShapley(resolution=st.steps), black, absolute=True),
               "HW2 Q3: |IG of p_t| summed over channels, black image, %d steps" % st.steps),
        Method("IG, white baseline",
               lambda x, model, y: csep590b.integrated_gradients(x, model, y, white, st.steps),
               comp(lambda: AumannShapley(resolution=st.steps), white, absolute=True),
               "HW2 Q3: as above, white image"),
        Method("IG, blurred baseline",
               lambda x, model, y: csep590b.integrated_gradients(x, model, y, blurred(x),
                                                                 st.steps),
               comp(lambda: AumannShapley(resolution=st.steps), blurred, absolute=True),
               "HW2 Q3: as above, the image blurred with sigma = %g px per 64 px" % st.blur),
        Method("influence-directed (conv4_1)",
               lambda x, model, y: _per_label(
                   lambda xs, t: influence_directed(model, xs, lambda s: s.absolute(t),
                                                    st.steps), x, y),
               lambda x, model, c1, c2: influence_directed(
                   model, x, lambda s: s.comparative(c1, c2), st.steps),
               "HW3 Part II: top conv4_1 neuron of each image, IG of it to the pixels, %d steps"
               % st.steps),
        Method("vanilla gradients", csep590b.vanilla_gradients,
               comp(lambda: Point(), absolute=True),
               "HW2 Q3: |dp_t/dx| summed over channels"),
        Method("SmoothGrad",
               lambda x, model, y: csep590b.smoothgrad(x, model, y, st.samples, st.sigma),
               comp(lambda: Gaussian(st.samples, st.sigma, absolute=True), absolute=True),
               "HW2 Q4: %d samples, sigma = %g of the value range, |gradient| averaged"
               % (st.samples, st.sigma)),
        Method("Gradient x Input",
               lambda x, model, y: sheet11.gradient_x_input(x, model, y),
               comp(lambda: Point(ignore_difference_term=False)),
               "sheet 11: class score, x * ds_c/dx"),
        Method("LRP (z^B + gamma)",
               lambda x, model, y: sheet11.lrp(x, model, y),
               lambda x, model, c1, c2: sheet11.explainer(model, "lrp").for_input()
               .comparative(c1, c2).explain(x).attribution.sum(axis=1),
               "sheet 11: z^B first layer, LRP-gamma schedule 0.5/0.25/0.1/0, plain dense"),
        Method("occlusion",
               lambda x, model, y: csep590b.occlusion(x, model, y, black,
                                                      superpixel_size=st.occlusion),
               None, "HW2 Q2/Q4: %dx%d superpixels replaced by black, drop of p_t"
               % (st.occlusion, st.occlusion)),
        Method("Grad-CAM", cam.grad_cam, None,
               "report: last convolution, ReLU map scaled to [0, 1], bilinear upsampling"),
        Method("Ablation-CAM", cam.ablation_cam, None, "report: as Grad-CAM"),
        Method("Score-CAM", cam.score_cam, None, "report: as Grad-CAM"),
        Method("LIME",
               lambda x, model, y: lime_maps(world, model, x, num_samples=st.lime_samples),
               None, "report: quickshift superpixels, %d samples, hide_color 0, top label"
               % st.lime_samples),
        Method("random",
               lambda x, model, y: random_map((len(x),) + x.shape[2:],
                                              seed=zlib.crc32(x.tobytes())),
               None, "HW2 Q4: Gaussian noise"),
    ]
    return m


def variants(world, settings=Settings()):
    """The free parameters' other values, for the second table: each method at its
    default and at values a user might choose instead (SmoothGrad's sigma, the blur of
    IG's baseline, occlusion's superpixel, Grad-CAM's layer, LIME's samples, LRP's
    gamma).

    Returns:
        list of :class:`Method` named ``method (parameter = value)``.
    """
    st = settings
    size = world.image_size
    black = baselines.black(size, world.preprocess)
    out = []
    for sigma in (st.sigma / 2, st.sigma, st.sigma * 2):
        out.append(Method("SmoothGrad (sigma = %g)" % sigma,
                          lambda x, model, y, s=sigma: csep590b.smoothgrad(
                              x, model, y, samples=st.samples, sigma=s)))
    for blur in (st.blur / 4, st.blur / 2, st.blur):
        out.append(Method("IG, blurred baseline (sigma = %g px per 64)" % blur,
                          lambda x, model, y, b=blur: csep590b.integrated_gradients(
                              x, model, y, baselines.blurred(_pictures(world, x),
                                                             b * size / 64.0,
                                                             world.preprocess), st.steps)))
    for s in (st.occlusion // 2, st.occlusion, st.occlusion * 2):
        out.append(Method("occlusion (%dx%d)" % (s, s),
                          lambda x, model, y, s=s: csep590b.occlusion(
                              x, model, y, black, superpixel_size=s)))
    for label, lower in (("last convolution", False), ("one block lower", True)):
        out.append(Method("Grad-CAM (%s)" % label,
                          lambda x, model, y, low=lower: cam.grad_cam(
                              x, model, y, layer=_lower_conv(model) if low else None)))
    for samples in sorted({max(2, st.lime_samples // 4), st.lime_samples}):
        out.append(Method("LIME (%d samples)" % samples,
                          lambda x, model, y, n=samples: lime_maps(world, model, x,
                                                                   num_samples=n)))
    for label, zero in (("default gamma schedule", False), ("gamma = 0", True)):
        out.append(Method("LRP (%s)" % label,
                          lambda x, model, y, z=zero: sheet11.lrp(
                              x, model, y, gammas=[0.0] * (len(conv_layers(model)) - 1)
                              if z else None)))
    return out


def _lower_conv(model):
    """The slice one VGG block below the last convolution (conv4_3 in VGG16)."""
    return cam.conv_slices(model)[-4]


def reading_context(world, model, scenes, results, settings=Settings()):
    """What the written answers of the comparison need beside the tables
    (:func:`evaluation.comparison.reading`): the CAMs' grid, occlusion's window and how
    much of the blurred-baseline IG the difference term |x - x'| alone explains.

    Returns:
        dict ``cam_side``, ``image_side``, ``difference_term`` ((method name, mean
        rank correlation) or None).
    """
    from evaluation.comparison import difference_term_correlation
    out = {"cam_side": int(model.layers[cam.conv_slices(model)[-1]].input_shape[-1]),
           "image_side": int(world.image_size), "difference_term": None}
    name = "IG, blurred baseline"
    if name in results and len(scenes.x):
        x = scenes.x
        base = baselines.blurred(_pictures(world, x), settings.blur * world.image_size / 64.0,
                                 world.preprocess)
        out["difference_term"] = (name, difference_term_correlation(results[name]["maps"],
                                                                    x, base))
    return out

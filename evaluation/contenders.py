"""The methods the comparison grades: the registry's entries, each with the defaults of
its own homework.

Every contender is an :class:`evaluation.comparison.Method` made from one entry of
:mod:`methods.registry` (the contract ``(imgs, model, target_labels) -> maps`` and,
where the method can explain any quantity of interest, its comparative form on
s_c1 - s_c2 for the part-truth test). Maps keep their homework's form: signed
attributions for HW3 and sheet 11 (IG of the score, Gradient x Input, LRP),
channel-summed magnitudes for CSEP 590B HW2 (|gradient|, SmoothGrad, |IG| of the
probability), probability drops for occlusion, ReLU maps scaled to [0, 1] for the CAMs,
superpixel weights for LIME. The measures use the positive part of each map
(:mod:`evaluation.measures`), the same rule for all.
"""
import hw3_env  # noqa: F401

from evaluation.ablation import ablation_curves
from evaluation.comparison import Method
from methods import cam, registry
from methods.registry import Context, Settings
from methods.removal import superpixel_sum

__all__ = ["Settings", "contenders", "variants", "reading_context", "ablation_auc"]


def _method(entry, ctx, name=None):
    """The comparison's :class:`Method` of one registry entry in one context."""
    return Method(name or entry.name, entry.bind(ctx), entry.bind_comparative(ctx),
                  entry.description(ctx.settings))


def ablation_auc(model, baseline, settings=Settings()):
    """The comparison's ablation hook: insertion and deletion AUC of each map (HW2's
    curves of p_t, black baseline, ``settings.grid`` x ``settings.grid`` superpixels
    ranked by their summed map, ``settings.curve_step`` per point).

    Returns:
        ``(x, labels, maps) -> (insertion AUC (N,), deletion AUC (N,))``.
    """
    size = int(model.input_shape[-1]) // int(settings.grid)
    step = int(settings.curve_step)

    def run(x, labels, maps):
        imp = superpixel_sum(maps, size)
        ins, dele = (ablation_curves(x, model, {"m": imp}, labels, baseline, kind,
                                     step=step, progress=False)["m"][2]
                     for kind in ("insertion", "deletion"))
        return ins, dele
    return run


def contenders(world, settings=Settings()):
    """Every method of the registry, with the defaults of its homework.

    Args:
        world: the world (its preprocessing makes the pixel baselines).
        settings: the free parameters (:class:`Settings`; default: the homeworks').
    Returns:
        list of :class:`Method`, in the registry's order.
    """
    ctx = Context(world, settings)
    return [_method(e, ctx) for e in registry.ENTRIES]


VARIED = (
    ("SmoothGrad", "SmoothGrad", "sigma", lambda st: (st.sigma / 2, st.sigma, st.sigma * 2),
     lambda v: "sigma = %g" % v),
    ("IG, blurred baseline", "IG, blurred baseline", "blur",
     lambda st: (st.blur / 4, st.blur / 2, st.blur), lambda v: "sigma = %g px per 64" % v),
    ("occlusion", "occlusion", "occlusion",
     lambda st: (st.occlusion // 2, st.occlusion, st.occlusion * 2), lambda v: "%dx%d" % (v, v)),
    ("Grad-CAM", "Grad-CAM", "cam_depth", lambda st: (1, 4),
     lambda v: {1: "last convolution", 4: "one block lower"}[v]),
    ("LIME", "LIME", "lime_samples",
     lambda st: sorted({max(2, st.lime_samples // 4), st.lime_samples}),
     lambda v: "%d samples" % v),
    ("LRP (z^B + gamma)", "LRP", "lrp_gamma", lambda st: (None, 0.0),
     lambda v: "default gamma schedule" if v is None else "gamma = %g" % v),
)
"""The second table's free parameters: (registry entry, row name, :class:`Settings`
field, its values given the settings, the label of a value)."""


def variants(world, settings=Settings()):
    """The free parameters' other values, for the second table: each method at its
    default and at values a user might choose instead (SmoothGrad's sigma, the blur of
    IG's baseline, occlusion's superpixel, Grad-CAM's layer, LIME's samples, LRP's
    gamma).

    Returns:
        list of :class:`Method` named ``method (parameter = value)``.
    """
    out = []
    for name, row, field, values, label in VARIED:
        e = registry.entry(name)
        for v in values(settings):
            ctx = Context(world, settings.replace(**{field: v}))
            out.append(Method("%s (%s)" % (row, label(v)), e.bind(ctx)))
    return out


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
        base = Context(world, settings).blurred(x)
        out["difference_term"] = (name, difference_term_correlation(results[name]["maps"],
                                                                    x, base))
    return out

"""TU Berlin ML sheet 11, exercise 4 (explaining VGG16's "castle"): the sheet's
functions as thin wrappers over the Explanation chain.

* :func:`gradient_x_input`: R_i = x_i * df/dx_i, f the class score (scores, not
  probabilities). In the paper's vocabulary: the slice at the pixels, Q = s_c, and the
  point distribution of interest at x with the difference term (x - 0),
  :class:`methods.distributions.Point`.
* :func:`lrp`: the same, on the LRP-rewritten model of :mod:`methods.lrp` (z^B on the
  first convolution, LRP-gamma on the others), R = x dx + l dl + h dh.
* :func:`visualize`: the sheet's ``utils.visualize``: the channel sum, red positive and
  blue negative, symmetric limits +-b with b = 10 * (mean |R|^3)^(1/3).
"""
import hw3_env  # noqa: F401  (must come before keras/theano)

import numpy as np

from chain.checks import check_targets
from Explanation import explanation_of
from methods.distributions import Point
from methods.lrp import LRPRelevance, lrp_model



def _explain(expl, imgs, target_labels):
    """Per-image pixel explanations toward each image's class score, one pass per
    distinct class."""
    x = np.asarray(imgs, np.float32)
    if x.ndim == 3:
        x = x[None]
    labels = check_targets(expl.model, target_labels, len(x))
    out = None
    pixels = expl.for_input()
    for c in np.unique(labels):
        idx = np.flatnonzero(labels == c)
        r = pixels.absolute(int(c)).explain(x[idx]).attribution
        if out is None:
            out = np.zeros((len(x),) + r.shape[1:], np.float32)
        out[idx] = r
    return out


def explainer(model, kind="gradient_x_input", gammas=None):
    """The Explanation chain behind :func:`gradient_x_input` (``kind``
    'gradient_x_input': the model with the point DoI and its difference term) or
    :func:`lrp` ('lrp': the rewritten model with :class:`LRPRelevance`), built and
    compiled once per model, so notebook cells can explain other slices and QoIs with
    the same compiled graphs.

    Returns:
        an :class:`Explanation`; for 'lrp' its ``model`` is the rewritten model.
    """
    if kind not in ("gradient_x_input", "lrp"):
        raise ValueError("kind must be 'gradient_x_input' or 'lrp', got %r" % (kind,))
    if kind == "gradient_x_input":
        return explanation_of(model, "gradient_x_input", Point(ignore_difference_term=False))
    key = None if gammas is None else tuple(float(g) for g in gammas)
    rewritten = model.__dict__.setdefault("_lrp_models", {})   # goes with the model
    if key not in rewritten:
        rewritten[key] = lrp_model(model, gammas=gammas)
    return explanation_of(rewritten[key], "lrp", LRPRelevance())


def gradient_x_input(imgs, model, target_labels):
    """Gradient x Input, R_i = x_i * ds_c/dx_i (the sheet's ``gradinput``).

    Args:
        imgs: preprocessed model inputs (N, 3, H, W) (or one (3, H, W)).
        model: a Keras model with linear class scores.
        target_labels: the class c of each image (one int for all).
    Returns:
        float32 (N, 3, H, W) relevance; sum_i R_i = s_c(x) - s_c(0) + the curvature
        error only when the model is not piecewise linear and homogeneous.
    """
    return _explain(explainer(model, "gradient_x_input"), imgs, target_labels)


def lrp(imgs, model, target_labels, gammas=None):
    """LRP of the class score by the gradient trick (z^B + LRP-gamma, see
    :mod:`methods.lrp`).

    Args:
        imgs: preprocessed model inputs (N, 3, H, W) (or one (3, H, W)).
        model: a Keras model with at least one convolution (the course's VGG16).
        target_labels: the class c of each image (one int for all).
        gammas: LRP-gamma of each convolution after the first (None: the default
            schedule, 0.5 in blocks 1-2, 0.25 in 3, 0.1 in 4, 0 in 5).
    Returns:
        float32 (N, 3, H, W) relevance R = x dx + l dl + h dh.
    """
    return _explain(explainer(model, "lrp", gammas), imgs, target_labels)


def heatmap_limit(relevance):
    """b = 10 * (mean |R|^3)^(1/3) of the channel-summed map (the sheet's robust
    norm): the colour limits are -b and +b."""
    r = np.asarray(relevance, np.float64)
    return float(10.0 * np.mean(np.abs(r) ** 3) ** (1.0 / 3.0))


def heatmap(relevance):
    """The (H, W) map the sheet shows: the sum of R over colour channels.

    Args:
        relevance: (3, H, W), (1, 3, H, W) or (H, W).
    """
    r = np.asarray(relevance, np.float64)
    if r.ndim == 4 and len(r) == 1:
        r = r[0]
    if r.ndim == 3:
        r = r.sum(axis=0)
    if r.ndim != 2:
        raise ValueError("relevance must be (3, H, W), (1, 3, H, W) or (H, W), got %r"
                         % (np.shape(relevance),))
    return r


def visualize(relevance, ax=None, title=None):
    """Draw relevance maps like the sheet's ``utils.visualize``: channel sum, the
    darkened 'seismic' colour map (red positive, blue negative), limits +-b of each
    map's own robust norm (:func:`heatmap_limit`), with a colour bar per map.

    Args:
        relevance: one relevance ((3, H, W), (1, 3, H, W) or (H, W)), or a list of them
            drawn side by side (each on its own scale).
        ax: the axes (one per map) to draw on (default: a new figure).
        title: a title, or one per map.
    Returns:
        the matplotlib Figure.
    """
    from VisualizerTiler import relevance_row
    many = isinstance(relevance, (list, tuple))
    maps = [heatmap(r) for r in (relevance if many else [relevance])]
    titles = list(title) if many and title is not None else [title or ""] * len(maps)
    return relevance_row(maps, titles, [heatmap_limit(m) for m in maps],
                         axes=None if ax is None else list(np.atleast_1d(ax)))


# ---------------------------------------------------------------------------
# Answers: the numbers beside the figures and the sentences chosen by them
# ---------------------------------------------------------------------------
def _pct(v):
    return "%.0f%%" % (100 * v)


def rules_text(model, rules):
    """The LRP rules by layer name, consecutive layers with one rule grouped:
    "z^B on block1_conv1; gamma=0.5 on block1_conv2 to block2_conv2; ...".

    Args:
        model: the model whose layer indices ``rules`` uses.
        rules: list of (layer index, rule) (``lrp_model(...).lrp_rules``).
    """
    groups = []
    for i, rule in rules:
        name = model.layers[i].name
        if groups and groups[-1][0] == rule:
            groups[-1][2] = name
        else:
            groups.append([rule, name, name])
    return "; ".join("%s on %s" % (r, a if a == b else "%s to %s" % (a, b)) for r, a, b in groups)


def negative_share(relevance):
    """Share of a relevance map's absolute mass (channel sum) that is negative."""
    from evaluation import evidence
    return evidence.negative_share(heatmap(relevance))


def relevance_evidence(relevances, masks=None, top=0.1):
    """What each relevance map shows, as numbers.

    Args:
        relevances: dict method -> one relevance (1, 3, H, W) or (3, H, W).
        masks: dict name -> bool (1, H, W) (the synthetic world), or None.
    Returns:
        dict method -> dict ``negative`` (:func:`negative_share`), ``focus`` (share of
        the positive mass in the top ``top`` of pixels), ``positive``/``negative_profile``
        (:class:`evaluation.evidence.PartProfile`, None without masks).
    """
    from evaluation import evidence
    out = {}
    for name, r in relevances.items():
        h = heatmap(r)[None]
        out[name] = {"negative": negative_share(r), "focus": float(evidence.focus(h, top)[0]),
                     "positive": evidence.part_profile(h, masks) if masks else None,
                     "negative_profile": (evidence.part_profile(h, masks, sign="negative")
                                          if masks else None)}
    return out


def relevance_answer(ev, class_name, score, lrp_sum, top=0.1):
    """Gradient x Input against LRP in numbers: the negative share, the focus and (with
    masks) where the positive and negative relevance fall; sentences chosen by them.

    Args:
        ev: :func:`relevance_evidence` with keys 'Gradient x Input' and 'LRP'.
        score: s_c; lrp_sum: the sum of the LRP relevance.
    """
    from evaluation import evidence
    g, l = ev["Gradient x Input"], ev["LRP"]
    text = ("Negative relevance holds %s of the Gradient x Input map's absolute mass and %s "
            "of LRP's; the brightest %s of pixels hold %s of Gradient x Input's positive "
            "relevance and %s of LRP's."
            % (_pct(g["negative"]), _pct(l["negative"]), _pct(top), _pct(g["focus"]),
               _pct(l["focus"])))
    if l["negative"] < g["negative"] and l["focus"] > g["focus"]:
        text += (" As the sheet observes, LRP removes most of the mixed positive and negative "
                 "evidence of Gradient x Input and concentrates the positive relevance.")
    elif l["negative"] < g["negative"]:
        text += " LRP has less negative evidence, but it is not more concentrated here."
    else:
        text += (" Here LRP does not remove the negative evidence of Gradient x Input, unlike "
                 "the sheet's castle.")
    if g["positive"] is not None:
        for name, e in (("Gradient x Input", g), ("LRP", l)):
            text += (" %s; %s of it lies on the %s (%s chance)."
                     % (evidence.ranking_sentence(name, e["positive"]),
                        _pct(e["positive"].share["object"]), class_name,
                        evidence.times(e["positive"].ratio["object"])))
        neg = l["negative_profile"]
        if np.isfinite(neg.ratio.get("object", np.nan)):
            text += (" " + evidence.ranking_sentence("LRP", neg) + ": there lie the blue "
                     "patterns that speak against the class.")
    else:
        text += (" Which patterns the red and blue relevance marks in the photograph only "
                 "the picture shows.")
    text += (" LRP's relevance adds up to %.3f of the score s_c = %.3f (%s): the biases kept in "
             "the LRP-gamma denominators and in the dense layers take the rest, so relevance is "
             "not conserved exactly here; on a model without biases the tests check that it "
             "adds up to the score to float precision, for any gamma."
             % (lrp_sum, score, _pct(lrp_sum / score) if score else "n/a"))
    return text


def prototype_answer(class_names, classes, proto_scores, best_real, proto_probs,
                     roughness_proto, roughness_real):
    """Activation maximisation in numbers: each prototype's score against the best real
    image's, the class the model gives the prototype, and how rough it is (mean
    neighbour difference) against the real images.

    Args:
        classes: class indices; proto_scores, best_real: dict class -> score;
        proto_probs: dict class -> (N classes,) probabilities of the prototype;
        roughness_proto, roughness_real: dict class -> mean neighbour difference (grey
        levels) of the prototype and (mean) of the real images.
    """
    rows = ["| class | prototype score | best real image | model's class for the prototype | "
            "roughness, prototype / real |", "|---|---|---|---|---|"]
    same, rough = [], []
    for c in classes:
        p = np.asarray(proto_probs[c])
        k = int(p.argmax())
        same.append(k == c)
        rough.append(roughness_proto[c] / roughness_real[c])
        rows.append("| %s | %.2f | %.2f | %s (p = %.3f) | %.1f / %.1f |"
                    % (class_names[c], proto_scores[c], best_real[c], class_names[k], p[k],
                       roughness_proto[c], roughness_real[c]))
    text = "\n".join(rows) + "\n\n"
    beats = [c for c in classes if proto_scores[c] > best_real[c]]
    text += ("Every prototype scores higher than every real image of its class (%.1f to "
             "%.1f times the best)" % (min(proto_scores[c] / best_real[c] for c in classes),
                                       max(proto_scores[c] / best_real[c] for c in classes))
             if len(beats) == len(classes) else
             "%d of %d prototypes score higher than every real image of their class"
             % (len(beats), len(classes)))
    text += (", and the model assigns %s." % ("each prototype to its own class" if all(same)
                                             else "%d of %d prototypes to their own class"
                                             % (sum(same), len(same))))
    if min(rough) > 1:
        text += (" The prototypes are %.1f to %.1f times as rough as the real images: with "
                 "this weak prior (a small L2 penalty and a light blur) activation maximisation "
                 "finds high-frequency patterns the class responds to, not a natural-looking "
                 "instance; a stronger prior (the sheet's -log p(x), or a generator as in "
                 "exercise 1(c)) would pull it toward the data." % (min(rough), max(rough)))
    elif max(rough) <= 1:
        text += (" By this measure the prototypes are no rougher than the real images (%.1f to "
                 "%.1f times as rough)." % (min(rough), max(rough)))
    else:
        text += (" By this measure only the prototype%s of %s %s rougher than the real images "
                 "(%.1f to %.1f times as rough over the classes)."
                 % ("" if sum(r > 1 for r in rough) == 1 else "s",
                    " and ".join(class_names[c] for c, r in zip(classes, rough) if r > 1),
                    "is" if sum(r > 1 for r in rough) == 1 else "are", min(rough), max(rough)))
    return text


def overlap_answer(top_abs, top_cmp, class_name, other_name, sum_class, sum_other):
    """The channels most relevant for the class against those for the class rather than
    the runner-up, with the sums that explain their overlap."""
    from evaluation import evidence
    o = evidence.list_overlap(top_abs, top_cmp)
    text = ("The %d channels with the most relevance for %s and the %d for %s rather than %s "
            "share %d (%s)." % (len(top_abs), class_name, len(top_cmp), class_name, other_name,
                                o["n_shared"], ", ".join(str(v) for v in o["shared"]) or "none"))
    if abs(sum_other) < 0.25 * abs(sum_class):
        text += (" The runner-up's relevance (sum %.3f) is small next to the class's (%.3f), so "
                 "subtracting it changes little." % (sum_other, sum_class))
    else:
        text += (" The runner-up's relevance (sum %.3f) is comparable to the class's (%.3f): "
                 "the comparison picks out what separates them." % (sum_other, sum_class))
    return text

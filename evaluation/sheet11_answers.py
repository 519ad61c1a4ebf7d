"""TU Berlin ML sheet 11's written answers: the evidence beside the figures of
``notebooks/tub_sheet11`` and the sentences chosen by it.

Every function takes numbers computed by the sheet's methods (:mod:`methods.sheet11`,
:mod:`methods.prototypes`) and returns them as a dict or as Markdown whose sentences
are chosen by them, so a re-run in either world prints true text. Masks are the
synthetic world's (dict name -> bool (1, H, W)); without masks (photographs) the
answers say what only the picture shows.
"""
import hw3_env  # noqa: F401

import numpy as np

from evaluation import evidence
from evaluation.evidence import pct
from methods.sheet11 import heatmap

__all__ = ["negative_share", "relevance_evidence", "relevance_answer", "prototype_answer",
           "overlap_answer"]


def negative_share(relevance):
    """Share of a relevance map's absolute mass (channel sum) that is negative."""
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
    g, l = ev["Gradient x Input"], ev["LRP"]
    text = ("Negative relevance holds %s of the Gradient x Input map's absolute mass and %s "
            "of LRP's; the brightest %s of pixels hold %s of Gradient x Input's positive "
            "relevance and %s of LRP's."
            % (pct(g["negative"]), pct(l["negative"]), pct(top), pct(g["focus"]),
               pct(l["focus"])))
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
                        pct(e["positive"].share["object"]), class_name,
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
             % (lrp_sum, score, pct(lrp_sum / score) if score else "n/a"))
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

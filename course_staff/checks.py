"""Comparing a submission's probe outputs with the reference's, per question.

Runs in the grader only; a submission never sees it. Every check returns a sentence a
student can act on (what was expected, what came back, by how much).
"""
import numpy as np

RTOL = 2e-3


def _close(name, got, want, failures, rtol=RTOL):
    got, want = np.asarray(got), np.asarray(want)
    if got.shape != want.shape:
        failures.append("%s: shape %r, expected %r" % (name, got.shape, want.shape))
        return False
    if got.dtype.kind in "biu" or want.dtype.kind in "biu":
        if not np.array_equal(got, want):
            failures.append("%s: %s, expected %s" % (name, got.tolist(), want.tolist()))
            return False
        return True
    g, w = got.astype(np.float64), want.astype(np.float64)
    if not np.isfinite(g[np.isfinite(w)]).all() or (np.isnan(g) != np.isnan(w)).any():
        failures.append("%s: holds NaN or infinite values where the reference does not" % name)
        return False
    scale = max(float(np.nanmax(np.abs(w))) if w.size else 0.0, 1e-12)
    err = np.nanmax(np.abs(g - w)) if w.size else 0.0
    if err > rtol * scale + 1e-7:
        failures.append("%s: differs from the reference by up to %.3g (%.2g%% of its "
                        "largest value %.3g)" % (name, err, 100 * err / scale, scale))
        return False
    return True


def _compare_keys(sub, ref, keys, failures):
    for k in keys:
        if k not in sub:
            failures.append("%s: no answer" % k)
        else:
            _close(k, sub[k], ref[k], failures)


def _gap(attribution, dq):
    a = np.asarray(attribution, dtype=np.float64)
    return a.reshape(len(a), -1).sum(1) - dq


def check_q4_2_attributions(sub, ref):
    f = []
    _compare_keys(sub, ref, ["pixels", "pixels_baseline", "influence", "slice"], f)
    for key, dq in (("pixels", "dq_pixels"), ("pixels_baseline", "dq_pixels_baseline"),
                    ("slice", "dq_slice")):
        if key in sub and np.shape(sub[key]) == np.shape(ref[key]):
            got, want = np.abs(_gap(sub[key], ref[dq])), np.abs(_gap(ref[key], ref[dq]))
            if (got > want + 1e-3 * np.abs(ref[dq]) + 1e-5).any():
                f.append("completeness (%s): sum of attributions - (Q(z) - Q(z')) is %s, the "
                         "reference's right Riemann sum gets %s"
                         % (key, np.round(got, 4).tolist(), np.round(want, 4).tolist()))
    _above_chance(sub, "ig_object_ratio", "IG puts %.2f x chance of its positive mass on the "
                  "synthetic objects", f)
    return f


def _above_chance(sub, key, what, failures):
    """A localisation ratio of the synthetic world's ground truth must exceed 1."""
    ratio = float(sub.get(key, np.nan))
    if not ratio > 1.0:
        failures.append("ground truth: " + what % ratio + " (must be above 1)")


def check_q5_1_absolute(sub, ref):
    f = []
    _compare_keys(sub, ref, ["slice", "pixels", "slice_attribution", "pixels_attribution"], f)
    return f


def check_q6_1_comparative(sub, ref):
    f = check_q5_1_absolute(sub, ref)   # the same values and attributions, then the axioms
    c1, c2 = (int(c) for c in ref["classes"])
    if "slice" in sub:
        _close("linearity (Q = s_c1 - s_c2 of the scores)", sub["slice"],
               ref["scores"][:, c1] - ref["scores"][:, c2], f)
    if "slice_attribution" in sub:
        _close("linearity (attribution of s_c1 - s_c2 = difference of the attributions)",
               sub["slice_attribution"], sub["slice_attribution_difference"], f)
    _above_chance(sub, "roof_ratio", "the top comparative neuron (sports car vs convertible) "
                  "puts %.2f x chance of its pixel attribution on the roofs", f)
    return f


def check_q5_2_slices(sub, ref):
    f = []
    _compare_keys(sub, ref, ["h", "g", "pixels_h", "explain"], f)
    return f


def check_q5_2_class(sub, ref):
    f = []
    _compare_keys(sub, ref, ["explain_class"], f)
    if "explain_class" in sub:
        _close("class explanation = mean of the instances' explanations",
               sub["explain_class"], np.mean(ref["instances"], axis=0), f)
    return f


def check_q5_2_top_neurons(sub, ref):
    f = []
    if "top" not in sub:
        return ["no answer"]
    if not np.array_equal(sub["top"], ref["top"]):
        a = ref["attribution"]
        f.append("top 4 neurons %s, expected %s (ranked by each map's max, handout 3.2; by "
                 "sum they would be %s)" % (sub["top"].tolist(), ref["top"].tolist(),
                                            np.argsort(-a.reshape(len(a), -1).sum(1))[:4].tolist()))
    return f


def check_q7_compress(sub, ref):
    f = []
    _compare_keys(sub, ref, ["scores", "predict"], f)
    return f


def check_q7_recall_precision(sub, ref):
    f = []
    _compare_keys(sub, ref, sorted(k for k in ref if k.startswith(("recall", "precision"))), f)
    return f


CHECKS = {name[len("check_"):]: fn for name, fn in globals().items()
          if name.startswith("check_q")}


def check(question, sub, ref):
    """The failures of one question (an empty list: it passes)."""
    try:
        return CHECKS[question](sub, ref)
    except Exception as e:   # malformed answers (wrong types) fail the question
        return ["the answer could not be checked: %s: %s" % (type(e).__name__, e)]

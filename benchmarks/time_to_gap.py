"""Quadrature rules and the time to a trustworthy pixel IG, the
children of ``benchmarks/run.py`` that measure them.

* ``rules-ours`` / ``rules-captum``: every quadrature rule of ``AumannShapley``
  against Captum's ``IntegratedGradients`` with the same ``method``, in **float64 on
  both sides** (Theano ``floatX=float64`` with Keras' floatx float64; ``model.double()``
  in PyTorch) on the same weights. In float32 the two sides round pre-activations
  near a ReLU's kink differently, so the odd path point takes the other branch on one
  side only and the relative L2 error sits near 1e-3 on some CPUs for that reason
  alone; in float64 such flips need a pre-activation within ~1e-13 of 0, and what is
  left is the conventions (points, weights, baseline, difference term). Our
  ``trapezoid`` (m intervals, m + 1 points, weights summing to 1) is compared with
  Captum's ``riemann_trapezoid`` at m + 1 points times (m + 1)/m, the factor by which
  Captum's weights fall short of 1.
* ``curve``: for one image, dQ/da = <grad Q(x' + a (x - x')), x - x'> on a fine grid
  and at the Gauss-Legendre nodes, from which every rule's completeness gap at every
  resolution follows exactly (a rule's attribution sums to sum_k w_k dQ/da(a_k)).
  Writes ``gap_vs_steps.json`` and the figure ``gap_vs_steps.png``.
* ``ttt-ours`` / ``ttt-captum``: wall time until the relative completeness gap
  |sum attribution - (Q(x) - Q(x'))| / |Q(x) - Q(x')| is below 1% for each of 5
  images: ours with ``tolerance=0.01`` (nested refinement, best rule from the curve)
  against Captum as its users run it, ``gausslegendre`` (its default) at n_steps = 50,
  100, 200, ... per image until the gap is below 1%.
"""
import json
import os
import time

import numpy as np

#: our rules (AumannShapley.RULES) and Captum's method for each
RULES = ("riemann_right", "riemann_left", "riemann_middle", "trapezoid", "gausslegendre")
CAPTUM_METHOD = {"riemann_right": "riemann_right", "riemann_left": "riemann_left",
                 "riemann_middle": "riemann_middle", "trapezoid": "riemann_trapezoid",
                 "gausslegendre": "gausslegendre"}
CURVE_RULES = RULES + ("trapezoid_cosine",)   # ours only (Captum has no such rule)
RULE_STEPS = 16          # resolution of the float64 agreement runs
CHUNK = 10               # path points per gradient call, both sides
TARGET_GAP = 0.01        # "trustworthy": relative completeness gap below 1%
TTT_IMAGES = 5
BEST_RULE = "trapezoid_cosine"   # nested, points close together at both ends (see the curve)
OUR_START = 16           # our adaptive run's first resolution
OUR_CAP = 4096
CAPTUM_START, CAPTUM_CAP = 50, 6400
CURVE_HALF = 128         # the fine grid is j / CURVE_HALF, j = 0..CURVE_HALF
CURVE_STEPS = (4, 8, 16, 32, 64)


def float64_env(env):
    """The environment of a float64 child: Theano's floatX (Keras' floatx is set in
    the child itself, after hw3_env.setup() forced float32)."""
    flags = env.get("THEANO_FLAGS", "")
    env = dict(env)
    env["THEANO_FLAGS"] = ",".join(["floatX=float64"] + [
        f for f in flags.split(",") if f and not f.strip().startswith("floatX=")])
    return env


def relative_gap(delta, total):
    """|delta| / |Q(x) - Q(x')| with Q(x) - Q(x') = sum(attribution) - delta."""
    delta = np.asarray(delta, dtype=np.float64)
    return np.abs(delta) / np.abs(np.asarray(total, dtype=np.float64) - delta)


# -- rules: float64 agreement ----------------------------------------------------------
def child_rules_ours(model, x, c, wd, steps=RULE_STEPS):
    from AumannShapley import AumannShapley
    from Explanation import Explanation
    out = {"steps": steps, "dtype": str(model.output.dtype), "rules": {}}
    if out["dtype"] != "float64":
        raise SystemExit("rules-ours must run in float64 (THEANO_FLAGS floatX=float64 and "
                         "Keras floatx float64), but the model computes in %s" % out["dtype"])
    for rule in RULES:
        method = AumannShapley(resolution=steps, method=rule, points_per_call=CHUNK)
        t0 = time.perf_counter()
        data = Explanation(model, method).for_input().absolute(c).explain(x)
        out["rules"][rule] = {"s": time.perf_counter() - t0, "delta": float(data.delta[0])}
        np.save(os.path.join(wd, "rules-ours-%s.npy" % rule), data.attribution[0])
    return out


def child_rules_captum(model, x, c, wd, steps=RULE_STEPS):
    import torch
    from captum.attr import IntegratedGradients
    model = model.double()
    xt = torch.from_numpy(np.ascontiguousarray(x, dtype=np.float64))
    ig = IntegratedGradients(model)
    out = {"steps": steps, "dtype": "float64", "rules": {}}
    for rule in RULES:
        n = steps + 1 if rule == "trapezoid" else steps
        t0 = time.perf_counter()
        attr, delta = ig.attribute(xt, baselines=0, target=c, n_steps=n,
                                   method=CAPTUM_METHOD[rule], internal_batch_size=CHUNK,
                                   return_convergence_delta=True)
        attr = attr.detach().numpy()[0]
        if rule == "trapezoid":            # Captum's weights sum to (n-1)/n
            attr = attr * (n / (n - 1.0))
        out["rules"][rule] = {"s": time.perf_counter() - t0,
                              "delta": float(delta.detach().numpy()[0])}
        np.save(os.path.join(wd, "rules-captum-%s.npy" % rule), attr)
    return out


# -- the gap-vs-steps curve of one image ------------------------------------------------
def _path_derivative(method, x, x0, alphas):
    """dQ/da at each alpha: <grad Q(x0 + a (x - x0)), x - x0> in float64."""
    d = (x - x0).astype(np.float64)
    out = []
    for i in range(0, len(alphas), CHUNK):
        a = np.asarray(alphas[i:i + CHUNK], dtype=np.float32).reshape(-1, 1, 1, 1)
        g = method.gradient((x0 + a * (x - x0)).astype(np.float32))
        out.extend((g.astype(np.float64) * d).reshape(len(a), -1).sum(axis=1))
    return np.asarray(out)


def child_curve(model, x, c, wd):
    from AumannShapley import AumannShapley, quadrature
    from Explanation import Explanation
    method = AumannShapley(resolution=1)
    q = Explanation(model, method).for_input().absolute(c)
    q._compile()
    x0 = np.zeros_like(x)
    t0 = time.perf_counter()
    grid = np.arange(CURVE_HALF + 1) / float(CURVE_HALF)
    nodes = {(rule, m): quadrature(rule, m) for rule in CURVE_RULES for m in CURVE_STEPS}
    need = np.unique(np.concatenate([grid] + [a for a, _ in nodes.values()]))
    key = lambda a: np.rint(np.asarray(a) * 2 ** 40).astype(np.int64)  # noqa: E731
    s_all = dict(zip(key(need), _path_derivative(method, x, x0, need)))
    q_grid = np.concatenate([method.quantity(
        (x0 + np.asarray(grid[i:i + CHUNK], np.float32).reshape(-1, 1, 1, 1) * (x - x0))
        .astype(np.float32)) for i in range(0, len(grid), CHUNK)]).astype(np.float64)
    dq = float(q_grid[-1] - q_grid[0])
    gaps = {rule: {} for rule in CURVE_RULES}
    for (rule, m), (a, w) in nodes.items():
        s = np.array([s_all[k] for k in key(a)])
        gaps[rule][m] = abs(float(np.dot(w, s)) - dq) / abs(dq)
    res = {"dq": dq, "steps": list(CURVE_STEPS), "gaps": gaps,
           "seconds": time.perf_counter() - t0, "points": len(need),
           "alphas": need.tolist(), "s": [s_all[k] for k in key(need)],
           "grid": grid.tolist(), "q_grid": q_grid.tolist()}
    with open(os.path.join(wd, "gap_vs_steps.json"), "w") as f:
        json.dump(res, f)
    return {"dq": dq, "steps": list(CURVE_STEPS), "gaps": gaps, "seconds": res["seconds"],
            "points": res["points"]}


def plot_curve(curve, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(6, 4))
    for rule in CURVE_RULES:
        steps = sorted(int(m) for m in curve["gaps"][rule])
        ax.loglog(steps, [curve["gaps"][rule][str(m)] if str(m) in curve["gaps"][rule]
                          else curve["gaps"][rule][m] for m in steps], "o-", label=rule)
    ax.axhline(TARGET_GAP, color="k", lw=0.8, ls="--", label="1% gap")
    ax.set_xlabel("resolution m (steps; trapezoid: intervals)")
    ax.set_ylabel("relative completeness gap")
    ax.set_title("Pixel IG, one 224 px input, stand-in VGG16 weights")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


# -- time to a 1% gap ------------------------------------------------------------------
def child_ttt_ours(model, x, classes, wd, rule=BEST_RULE):
    from AumannShapley import AumannShapley
    from Explanation import Explanation
    method = AumannShapley(resolution=2, method=rule, points_per_call=CHUNK)
    expl = Explanation(model, method)
    for c in sorted(set(classes)):          # warm-up: compiles (one graph for all classes)
        expl.for_input().absolute(c).explain(x[:1])
    method.resolution, method.tolerance, method.max_resolution = OUR_START, TARGET_GAP, OUR_CAP
    per = []
    t0 = time.perf_counter()
    for c in sorted(set(classes)):          # the images of one class in one call
        idx = [i for i, ci in enumerate(classes) if ci == c]
        expl.for_input().absolute(c).explain(x[idx])
        for j, i in enumerate(idx):
            per.append({"image": i, "steps": int(method.last_resolution[j]),
                        "points": int(method.last_points[j]),
                        "gap": float(method.last_relative_gap[j])})
    return {"seconds": time.perf_counter() - t0, "rule": rule, "start": OUR_START,
            "per_image": per}


def child_ttt_captum(model, x, classes, wd):
    import torch
    from captum.attr import IntegratedGradients
    ig = IntegratedGradients(model)
    xt = torch.from_numpy(np.ascontiguousarray(x))
    ig.attribute(xt[:1], baselines=0, target=int(classes[0]), n_steps=2,
                 internal_batch_size=CHUNK)                       # warm-up
    per = []
    t0 = time.perf_counter()
    for i, c in enumerate(classes):
        n, points = CAPTUM_START, 0
        while True:
            attr, delta = ig.attribute(xt[i:i + 1], baselines=0, target=int(c), n_steps=n,
                                       method="gausslegendre", internal_batch_size=CHUNK,
                                       return_convergence_delta=True)
            points += n
            gap = float(relative_gap(delta.detach().numpy(),
                                     attr.detach().double().sum().item())[0])
            if gap < TARGET_GAP or n >= CAPTUM_CAP:
                break
            n *= 2
        per.append({"image": i, "steps": n, "points": points, "gap": gap})
    return {"seconds": time.perf_counter() - t0, "rule": "gausslegendre",
            "start": CAPTUM_START, "per_image": per}


def report_lines(r, targets):
    """RESULTS.md's section on the curve and the time to a 1% gap; appends the
    target row to ``targets``."""
    cu, o, c = r["curve"], r["ttt-ours"], r["ttt-captum"]
    L = ["## Time to a trustworthy pixel IG (relative completeness gap < 1%)\n"]
    steps = [int(m) for m in cu["steps"]] if "steps" in cu else list(CURVE_STEPS)
    L.append("Gap-versus-steps of every rule for one image (exact for each rule, from "
             "dQ/da on a grid of %d points and at the Gauss-Legendre nodes; Q(x) − Q(0) = "
             "%.4g): `gap_vs_steps.png`.\n" % (CURVE_HALF + 1, cu["dq"]))
    L.append("| rule | " + " | ".join("m = %d" % m for m in steps) + " |")
    L.append("|---|" + "---|" * len(steps))
    for rule in CURVE_RULES:
        g = cu["gaps"][rule]
        L.append("| %s | " % rule + " | ".join(
            "%.2g%%" % (100 * g[str(m)] if str(m) in g else 100 * g[m]) for m in steps) + " |")
    L.append("")
    L.append("Wall time until every one of %d images (224 px, class = argmax) has a relative "
             "gap below 1%%. Ours: `AumannShapley(method=%r, resolution=%d, tolerance=0.01)`, "
             "all images in one call, each refined on its own, nested points reused. Captum: "
             "`IntegratedGradients`, its default `gausslegendre`, per image n_steps = %d, "
             "%d, %d, ... until the gap is below 1%% (each call from scratch, as a user "
             "would).\n" % (len(o["per_image"]), o["rule"], o["start"], CAPTUM_START,
                           2 * CAPTUM_START, 4 * CAPTUM_START))
    L.append("| side | final gaps | steps reached per image | path points evaluated "
             "| time | ours/Captum |")
    L.append("|---|---|---|---|---|---|")
    ratio = o["seconds"] / c["seconds"]
    for side, d in (("ours", o), ("Captum", c)):
        per = sorted(d["per_image"], key=lambda p: p["image"])
        L.append("| %s | %s | %s | %d | %.1f s | %s |"
                 % (side, ", ".join("%.2f%%" % (100 * p["gap"]) for p in per),
                    ", ".join(str(p["steps"]) for p in per),
                    sum(p["points"] for p in per), d["seconds"],
                    "%.2f×" % ratio if side == "ours" else ""))
    L.append("")
    targets.append(("time to a 1%% completeness gap, %d images, ≤ 0.5× Captum's"
                    % len(o["per_image"]), "%.2f×" % ratio, ratio <= 0.5))
    return L

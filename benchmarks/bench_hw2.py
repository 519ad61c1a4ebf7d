"""CSEP 590B HW2 methods against Captum on the same VGG16 weights:
occlusion (8x8 superpixels, 224 px) and SmoothGrad (50 samples). Agreement first, then
time.

    .venv/bin/python -m pip install -r benchmarks/requirements.txt   # torch 2.13 + captum
    .venv/bin/python benchmarks/bench_hw2.py                         # ~10 min on 2 cores
    .venv/bin/python benchmarks/bench_hw2.py --superpixel 56 --samples 4   # smoke run

Both sides explain the target class's softmax probability p_t = softmax(s)_t of one
image, with the random He-scaled VGG16 of ``benchmarks/run.py`` in the official file
layout (``vgg_inputs.load_ours`` / ``load_torch``), in child processes of their own:

* **Occlusion**: ``methods.csep590b.occlusion(x, model, [t], black, 8, masks_per_call=B)``
  against Captum's ``Occlusion(softmax o model).attribute(x, sliding_window_shapes=(3, 8, 8),
  strides=(3, 8, 8), baselines=black, target=t, perturbations_per_eval=B)``: 784
  occluded copies plus the image, B copies per forward on both sides. Captum's
  attribution is per channel and equal over the three; ours is its (H, W) map.
* **SmoothGrad**: ``smoothgrad(x, model, [t], samples=50, sigma)``, the absolute gradient
  averaged over noisy copies with standard deviation sigma * (x_max - x_min), against
  ``NoiseTunnel(Saliency(softmax o model)).attribute(x, nt_type='smoothgrad',
  nt_samples=50, stdevs=sigma * (x_max - x_min), nt_samples_batch_size=10, target=t)``
  (``Saliency``'s default ``abs=True``: |gradient| per noisy sample, then the mean),
  summed over channels. The noise differs, so agreement is checked (a) exactly at
  sigma = 0 against ``Saliency``, in float64 on both sides (relative L2 < 1e-3; Theano
  ``floatX=float64``, ``model.double()``) and in float32 at 1e-2, and (b) statistically
  at the benchmark's sigma: the distance between our map and Captum's must be no larger
  than 1.5x the distance between two of our maps with different seeds (two independent
  Monte Carlo estimates of the same expectation).

A saliency map is one gradient, so in float32 a single pre-activation that rounding
puts on the other side of a ReLU's kink on one side only (or a 2x2 pool whose
near-equal inputs swap their order) moves the map by 1e-3 to 1e-2 in relative L2
(``run.attr_tolerance``): the float32 comparison catches a wrong convention, the
float64 one judges agreement, as ``run.py`` does for Integrated Gradients.

Times are wall clock of one full call after a warm-up call (Theano compiles there). The
CPU time other processes used while the children ran (``harness.OtherCpu``) says
whether the times were taken alone; a flag marks them when it exceeds 5% of one core.
The result table is printed and, with ``--results``, written into that Markdown file
between ``<!-- bench_hw2 -->`` markers (replaced on every run, appended the first time).
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

import harness
import time_to_gap
import vgg_inputs

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

KINDS = ("sal0-ours", "sal0-captum", "sal0-f32-ours", "sal0-f32-captum", "sg-ours",
         "sg-captum", "sg-ours-seed1", "occ-ours", "occ-captum")  # cheap checks first
FLOAT64_KINDS = ("sal0-ours", "sal0-captum")
TOL = 1e-3
TOL_F32 = 1e-2         # one float32 gradient on each side (``run.attr_tolerance``)
STAT_FACTOR = 1.5
TARGET_RATIO = 1.0
MARK = "<!-- bench_hw2 -->"


def _softmax_model(model):
    import torch
    return lambda t: torch.softmax(model(t), dim=1)


def _span(x):
    return float(x.max() - x.min())


def child(kind, a):
    wd = a.workdir
    x = np.load(os.path.join(wd, "x.npy"), allow_pickle=False)[:1]
    with open(os.path.join(wd, "meta.json")) as f:
        t = int(json.load(f)["target"])
    weights = vgg_inputs.weight_path(a)
    captum, f64 = kind.endswith("captum"), kind in FLOAT64_KINDS
    if captum:
        model = vgg_inputs.load_torch(weights)
        model = model.double() if f64 else model
    else:
        model = vgg_inputs.load_ours(weights, float64=f64)
    x = x.astype(np.float64) if f64 else x
    black = _black()
    out = {"kind": kind}
    fn = {"occ-ours": _occ_ours, "occ-captum": _occ_captum, "sal0-ours": _sal0_ours,
          "sal0-captum": _sal0_captum, "sal0-f32-ours": _sal0_ours,
          "sal0-f32-captum": _sal0_captum, "sg-ours": _sg_ours, "sg-ours-seed1": _sg_ours,
          "sg-captum": _sg_captum}[kind]
    warm, call = fn(model, x, t, black, a, seed=1 if kind == "sg-ours-seed1" else 0)
    with harness.Timer() as tw:
        warm()
    out["first_call_s"] = tw.seconds
    with harness.Timer() as tc:
        result = call()
    out["call_s"] = tc.seconds
    np.save(os.path.join(wd, kind + ".npy"),
            np.asarray(result, dtype=np.float64 if f64 else np.float32))
    with open(os.path.join(wd, kind + ".json"), "w") as f:
        json.dump(out, f)


def _black():
    import models
    h, w = vgg_inputs.HW
    return models.preprocess(np.zeros((h, w, 3), np.uint8), h)[0]


def _occ_ours(model, x, t, black, a, seed=0):
    from methods.csep590b import occlusion
    return (lambda: occlusion(x, model, [t], black, superpixel_size=vgg_inputs.HW[0] // 2,
                              masks_per_call=a.batch),
            lambda: occlusion(x, model, [t], black, superpixel_size=a.superpixel,
                              masks_per_call=a.batch)[0])


def _occ_captum(model, x, t, black, a, seed=0):
    import torch
    from captum.attr import Occlusion
    occ = Occlusion(_softmax_model(model))
    xt, bt = torch.from_numpy(x), torch.from_numpy(black[None])

    def go(s):
        with torch.no_grad():
            return occ.attribute(xt, sliding_window_shapes=(3, s, s), strides=(3, s, s),
                                 baselines=bt, target=t, perturbations_per_eval=a.batch)
    return (lambda: go(vgg_inputs.HW[0] // 2), lambda: go(a.superpixel).numpy()[0, 0])


def _sal0_ours(model, x, t, black, a, seed=0):
    from methods.csep590b import smoothgrad
    call = lambda: smoothgrad(x, model, [t], samples=1, sigma=0.0)[0]  # noqa: E731
    return call, call


def _sal0_captum(model, x, t, black, a, seed=0):
    import torch
    from captum.attr import Saliency
    sal = Saliency(_softmax_model(model))
    call = lambda: sal.attribute(torch.from_numpy(x), target=t, abs=True)  # noqa: E731
    return call, lambda: call().detach().numpy()[0].sum(axis=0)


def _sg_ours(model, x, t, black, a, seed=0):
    from methods.csep590b import explain_probability
    from methods.distributions import Gaussian

    def go(n):
        m = Gaussian(samples=n, sigma=a.sigma, seed=seed, absolute=True, points_per_call=a.chunk)
        return explain_probability(x, model, [t], m)[0].sum(axis=0)
    return (lambda: go(2), lambda: go(a.samples))


def _sg_captum(model, x, t, black, a, seed=0):
    import torch
    from captum.attr import NoiseTunnel, Saliency
    torch.manual_seed(seed)
    nt = NoiseTunnel(Saliency(_softmax_model(model)))
    xt = torch.from_numpy(x)

    def go(n):
        return nt.attribute(xt, nt_type="smoothgrad", nt_samples=n,
                            nt_samples_batch_size=a.chunk, stdevs=a.sigma * _span(x),
                            target=t, abs=True)
    return (lambda: go(2), lambda: go(a.samples).detach().numpy()[0].sum(axis=0))


def spawn(kind, a):
    cmd = [sys.executable, os.path.abspath(__file__), "_child", kind] + a.child_args
    print("  running %-14s ..." % kind, end="", flush=True)
    t0 = time.perf_counter()
    env = dict(os.environ, TQDM_DISABLE="1")
    if kind in FLOAT64_KINDS:
        env = time_to_gap.float64_env(env)
    p = subprocess.Popen(cmd, cwd=ROOT, env=env)
    _, status, usage = os.wait4(p.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit("child %s failed; rerun it alone with: %s" % (kind, " ".join(cmd)))
    with open(os.path.join(a.workdir, kind + ".json")) as f:
        res = json.load(f)
    res["peak_rss"] = usage.ru_maxrss * 1024
    with open(os.path.join(a.workdir, kind + ".rss"), "w") as f:
        f.write(str(res["peak_rss"]))
    res["map"] = np.load(os.path.join(a.workdir, kind + ".npy"), allow_pickle=False)
    print(" %.1f s" % (time.perf_counter() - t0), flush=True)
    return res


def load_result(kind, a):
    """A finished child's result (``--report-only``); peak RSS is not recorded there."""
    with open(os.path.join(a.workdir, kind + ".json")) as f:
        res = json.load(f)
    rss = os.path.join(a.workdir, kind + ".rss")
    res["peak_rss"] = int(open(rss).read()) if os.path.exists(rss) else None
    res["map"] = np.load(os.path.join(a.workdir, kind + ".npy"), allow_pickle=False)
    return res


def prepare(a):
    """Weight file (``vgg_inputs.prepare``), one image, and its target.

    A random He-scaled VGG16 has class scores in the hundreds, so its softmax is
    saturated (p_t = 1.000, gradient ~ 0) and no agreement check would mean anything.
    The output layer's kernel and bias are therefore multiplied by k = 4 / std(s)
    (scores scale by exactly k; both sides load the same file), and the target is the
    class whose p_t is closest to 0.5 among the top 5.
    """
    a.steps, a.images = 2, 1
    vgg_inputs.prepare(a)
    meta_path = os.path.join(a.workdir, "meta.json")
    if os.path.exists(meta_path):
        with open(meta_path) as f:
            meta = json.load(f)
    else:
        scores = os.path.join(a.workdir, "scores.npy")
        code = ("import numpy as np, vgg_inputs; m = vgg_inputs.load_ours(%r); "
                "np.save(%r, m.predict(np.load(%r)[:1]))"
                % (vgg_inputs.weight_path(a), scores, os.path.join(a.workdir, "x.npy")))
        subprocess.check_call([sys.executable, "-c", code], cwd=HERE)   # imports vgg_inputs
        s = np.load(scores, allow_pickle=False)[0].astype(np.float64)
        k = 4.0 / s.std()
        import h5py
        with h5py.File(vgg_inputs.weight_path(a), "r+") as f:
            g = f["predictions"]
            for name in g.attrs["weight_names"]:
                name = name.decode("utf8") if isinstance(name, bytes) else str(name)
                g[name][...] = (np.asarray(g[name]) * k).astype(np.float32)
        p = np.exp(k * s - (k * s).max())
        p /= p.sum()
        top = np.argsort(-p)[:5]
        t = int(top[np.argmin(np.abs(p[top] - 0.5))])
        meta = {"target": t, "p_target": float(p[t]), "p_max": float(p.max()), "k": k}
        with open(meta_path, "w") as f:
            json.dump(meta, f)
    x = np.load(os.path.join(a.workdir, "x.npy"), allow_pickle=False)[:1]
    return meta["target"], meta["p_target"], _span(x)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--superpixel", type=int, default=8)
    p.add_argument("--samples", type=int, default=50)
    p.add_argument("--sigma", type=float, default=0.1)
    p.add_argument("--batch", type=int, default=16, help="occluded copies per forward")
    p.add_argument("--chunk", type=int, default=10, help="noisy samples per gradient call")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--workdir")
    p.add_argument("--results", help="Markdown file to write the section into "
                   "(e.g. benchmarks/RESULTS.md)")
    p.add_argument("--report-only", action="store_true",
                   help="rebuild the table from the children's results in --workdir")
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "_child":
        a = p.parse_args(argv[2:])
        return child(argv[1], a)
    a = p.parse_args(argv)
    a.workdir = os.path.abspath(a.workdir or tempfile.mkdtemp(prefix="hw2-bench-"))
    os.makedirs(a.workdir, exist_ok=True)
    a.child_args = ["--superpixel", str(a.superpixel), "--samples", str(a.samples),
                    "--sigma", str(a.sigma), "--batch", str(a.batch), "--chunk", str(a.chunk),
                    "--seed", str(a.seed), "--workdir", a.workdir]
    info = harness.machine()
    info_path = os.path.join(a.workdir, "machine.json")
    if a.report_only:
        if os.path.exists(info_path):
            with open(info_path) as f:
                info = json.load(f)
    else:
        with open(info_path, "w") as f:
            json.dump(info, f)
    t, p_t, span = prepare(a)
    print("target class %d, p_t = %.3f, value range %.1f" % (t, p_t, span))
    other_path = os.path.join(a.workdir, "other_cpu.json")
    if a.report_only:
        r = {k: load_result(k, a) for k in KINDS}
        other = {"seconds": None, "wall": None}
        if os.path.exists(other_path):
            with open(other_path) as f:
                other.update(json.load(f))
            other = other if other.get("wall") is not None else {"seconds": None, "wall": None}
    else:
        span_cpu = harness.OtherCpu()
        r = {k: spawn(k, a) for k in KINDS}
        other = {"seconds": span_cpu.seconds(), "wall": span_cpu.wall()}
        with open(other_path, "w") as f:
            json.dump(other, f)
    text = report(a, info, r, t, p_t, span, other)
    print(text)
    if a.results:
        write_section(a.results, text)
    ok = all(c[-1] for c in checks(r))
    return 0 if ok else 1


def checks(r):
    occ = harness.rel_l2(r["occ-ours"]["map"], r["occ-captum"]["map"])
    sal = harness.rel_l2(r["sal0-ours"]["map"], r["sal0-captum"]["map"])
    sal32 = harness.rel_l2(r["sal0-f32-ours"]["map"], r["sal0-f32-captum"]["map"])
    d_cap = harness.rel_l2(r["sg-ours"]["map"], r["sg-captum"]["map"])
    d_self = harness.rel_l2(r["sg-ours"]["map"], r["sg-ours-seed1"]["map"])
    return [("occlusion map", occ, "< %.0e" % TOL, occ < TOL),
            ("saliency at sigma = 0 (SmoothGrad vs Saliency), **float64** on both sides", sal,
             "< %.0e" % TOL, sal < TOL),
            ("saliency at sigma = 0, float32 on both sides", sal32, "< %.0e" % TOL_F32,
             sal32 < TOL_F32),
            ("SmoothGrad vs Captum's, relative to ours vs ours (seed 0 vs 1: %.3f)" % d_self,
             d_cap / d_self, "<= %.1f" % STAT_FACTOR, d_cap / d_self <= STAT_FACTOR)]


def report(a, info, r, t, p_t, span, other):
    load = "%.2f / %.2f / %.2f" % tuple(info["load"])
    lines = [MARK, "## CSEP 590B HW2: occlusion and SmoothGrad vs Captum", "",
             "Written by `benchmarks/bench_hw2.py` on %s: the random He-scaled VGG16 of "
             "`run.py` (official layout, seed %d), one 224x224 image, QoI p_t = softmax(s)_t "
             "for class %d (p_t = %.3f). Occlusion: %dx%d superpixels, black baseline, %d "
             "copies per forward on both sides. SmoothGrad: %d samples, sigma = %g of the "
             "value range (%.1f), %d noisy points per gradient call. Load average at start: %s "
             "on %d cores%s." % (info["date"], a.seed, t, p_t, a.superpixel, a.superpixel,
                                 a.batch, a.samples, a.sigma, span, a.chunk, load,
                                 info["cores"], "; other processes used %s beside the "
                                 "children" % harness.other_cpu_text(other["seconds"],
                                                                     other["wall"])), "",
             "| agreement check | value | tolerance | |", "|---|---|---|---|"]
    for name, v, tol, ok in checks(r):
        lines.append("| %s | %.2e | %s | %s |" % (name, v, tol, "ok" if ok else "**FAILED**"))
    truth = r["sal0-captum"]["map"]
    lines += ["", "In float32 each side's saliency map lies this far from the float64 map "
              "(relative L2): ours %.1e, Captum's %.1e. A single gradient rounds near a "
              "ReLU's kink on one side only (see `run.attr_tolerance`); ours computes "
              "VGG16's 3x3 convolutions by Winograd's F(4x4, 3x3) algorithm, which rounds "
              "more per layer than im2col." % (harness.rel_l2(r["sal0-f32-ours"]["map"], truth),
                                           harness.rel_l2(r["sal0-f32-captum"]["map"], truth))]
    lines += ["", "| measurement | ours | Captum | ours/Captum | target | |",
              "|---|---|---|---|---|---|"]
    o, c = r["occ-ours"]["call_s"], r["occ-captum"]["call_s"]
    rows = [("occlusion %dx%d, 1 image (%d forwards)" % (a.superpixel, a.superpixel,
             (vgg_inputs.HW[0] // a.superpixel) ** 2 + 1), "%.1f s" % o, o, c)]
    o1, o2 = r["sg-ours"]["call_s"], r["sg-ours-seed1"]["call_s"]
    rows.append(("SmoothGrad, %d samples, 1 image (ours: mean of the seed 0 and seed 1 runs)"
                 % a.samples, "%.1f s (%.1f s, %.1f s)" % ((o1 + o2) / 2, o1, o2),
                 (o1 + o2) / 2, r["sg-captum"]["call_s"]))
    for name, shown, o, c in rows:
        lines.append("| %s | %s | %.1f s | %.2fx | <= %.1fx | %s |"
                     % (name, shown, c, o / c, TARGET_RATIO,
                        "**met**" if o / c <= TARGET_RATIO else "**not met**"))
    lines += ["", "Peak RSS (process): occlusion ours %s, Captum %s; SmoothGrad ours %s, "
              "Captum %s." % tuple(harness.gb(r[k]["peak_rss"]) for k in
                                   ("occ-ours", "occ-captum", "sg-ours", "sg-captum")), MARK]
    return "\n".join(lines) + "\n"


def write_section(path, text):
    """Replace the section between the markers in ``path``, or append it."""
    old = open(path).read() if os.path.exists(path) else ""
    if MARK in old:
        head, rest = old.split(MARK, 1)
        tail = rest.split(MARK, 1)[1] if MARK in rest else ""
        new = head + text.rstrip("\n") + tail
    else:
        new = old.rstrip("\n") + "\n\n" + text
    with open(path + ".part", "w") as f:
        f.write(new)
    os.replace(path + ".part", path)


if __name__ == "__main__":
    sys.exit(main())

"""LRP (z^B + LRP-gamma) on VGG16: ours (methods/lrp.py, the gradient trick in
Theano) against Zennit (PyTorch) on the same weights, agreement first, then time per
image (TU Berlin sheet 11).

    .venv/bin/python benchmarks/bench_lrp.py                 # 8 images, prints the section
    .venv/bin/python benchmarks/bench_lrp.py --images 2 --out /tmp/lrp.md   # smoke run

(``bench_all.py`` puts the section into ``benchmarks/RESULTS.md``.)

Zennit imports torchvision, which does not load beside the product's CPU torch, so the
Zennit side runs in its own interpreter: ``$BENCH_TV_PYTHON`` (default
``benchmarks/.venv-tv/bin/python``; ``make bench-tv-venv`` creates it with
``pip install torch==2.14.1 torchvision==0.29.1 zennit``). The product venv never
gets torchvision.

What it does:

1. writes a random He-scaled VGG16 in the official file layout
   (``weights.stand_in.write_official_weight_file``) and random 'caffe'-scaled images,
   and hands the arrays to the Zennit side as an ``.npz`` (``torch_vgg.from_arrays``
   builds the same network in PyTorch);
2. ours: ``methods.sheet11.lrp(x, model, c)`` with the default gamma schedule, c the
   arg-max class of each image;
3. Zennit: a ``NameMapComposite`` of ``ZBox(low, high)`` on conv1_1, ``Gamma(gamma_i)``
   on every other convolution (the same gammas), ``Epsilon(1e-9)`` (LRP-0) on the three
   dense layers, stabiliser 1e-9 everywhere, and the initial relevance one-hot(c) x s_c;
   the relevance is the gradient at the input;
4. checks relative L2 < 1e-3 per image, then times one call on all images after a
   warm-up call (Theano compiles; oneDNN builds its kernels), both on 2 threads.
"""
import argparse
import datetime
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

import harness

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

HW = (224, 224)
TOL = 1e-3
DEFAULT_TV = os.path.join(HERE, ".venv-tv", "bin", "python")
BEGIN, END = "<!-- bench_lrp: begin -->", "<!-- bench_lrp: end -->"
SEED = 0


def rel_l2(got, ref):
    got, ref = np.asarray(got, np.float64), np.asarray(ref, np.float64)
    return float(np.linalg.norm(got - ref) / max(np.linalg.norm(ref), 1e-30))


# ---------------------------------------------------------------------------
# The Zennit side (runs under $BENCH_TV_PYTHON; imports neither Keras nor Theano)
# ---------------------------------------------------------------------------
def zennit_child(workdir):
    import torch
    from zennit.composites import NameMapComposite
    from zennit.rules import Epsilon, Gamma, ZBox
    import torch_vgg
    torch.set_num_threads(2)
    spec = json.load(open(os.path.join(workdir, "spec.json")))
    with np.load(os.path.join(workdir, "arrays.npz"), allow_pickle=False) as f:
        arrays = [[f["k%d" % i], f["b%d" % i]] for i in range(len(f.files) // 2)]
    model = torch_vgg.from_arrays(arrays, HW).eval()
    del arrays
    x = np.load(os.path.join(workdir, "x.npy"), allow_pickle=False)
    c = np.asarray(spec["classes"])
    convs = [n for n, m in model.named_modules() if isinstance(m, torch.nn.Conv2d)]
    low = torch.tensor(spec["low"], dtype=torch.float32).view(1, -1, 1, 1)
    high = torch.tensor(spec["high"], dtype=torch.float32).view(1, -1, 1, 1)
    eps = spec["epsilon"]
    name_map = [((convs[0],), ZBox(low, high, stabilizer=eps))]
    name_map += [((n,), Gamma(gamma=g, stabilizer=eps)) for n, g in zip(convs[1:],
                                                                         spec["gammas"])]
    name_map += [(("fc1", "fc2", "predictions"), Epsilon(epsilon=eps))]
    composite = NameMapComposite(name_map=name_map)

    def relevance(xb, cb):
        inp = torch.from_numpy(xb).requires_grad_(True)
        with composite.context(model) as modified:
            out = modified(inp)
            start = torch.zeros_like(out)
            idx = torch.arange(len(cb))
            start[idx, torch.from_numpy(cb)] = out[idx, torch.from_numpy(cb)].detach()
            (rel,) = torch.autograd.grad(out, inp, grad_outputs=start)
        return rel.detach().numpy()

    t0 = time.perf_counter()
    relevance(x[:1], c[:1])
    first = time.perf_counter() - t0
    t0 = time.perf_counter()
    rel = relevance(x, c)
    timed = time.perf_counter() - t0
    np.save(os.path.join(workdir, "zennit.npy"), rel)
    from importlib.metadata import version
    json.dump({"first_s": first, "timed_s": timed, "torch": torch.__version__,
               "zennit": version("zennit")},
              open(os.path.join(workdir, "zennit.json"), "w"))


# ---------------------------------------------------------------------------
# Our side and the report
# ---------------------------------------------------------------------------
def prepare(workdir, n):
    from vgg_inputs import read_arrays
    from weights import stand_in
    path = os.path.join(workdir, "vgg16_seed%d.h5" % SEED)
    if not os.path.exists(path):
        print("writing a random VGG16 weight file (official layout, seed %d) ..." % SEED,
              flush=True)
        stand_in.write_official_weight_file(path + ".part", input_hw=HW, seed=SEED)
        os.replace(path + ".part", path)
    arrays = read_arrays(path)
    np.savez(os.path.join(workdir, "arrays.npz"),
             **{"%s%d" % (k, i): pair[j] for i, pair in enumerate(arrays)
                for j, k in enumerate(("k", "b"))})
    x = stand_in.caffe_like_images(n, HW, seed=SEED).transpose(0, 3, 1, 2)
    x = np.ascontiguousarray(x, dtype=np.float32)
    np.save(os.path.join(workdir, "x.npy"), x)
    return path, x


def ours(path, x):
    import hw3_env
    hw3_env.setup()
    import models
    from methods import lrp as L
    from methods import sheet11
    model = models.VGG_16(path, input_shape=(3,) + HW)
    c = model.predict(x, batch_size=4).argmax(axis=1)
    t0 = time.perf_counter()
    sheet11.lrp(x[:1], model, c[:1])
    first = time.perf_counter() - t0
    t0 = time.perf_counter()
    rel = sheet11.lrp(x, model, c)
    timed = time.perf_counter() - t0
    gammas = L.default_gammas(model)
    return rel, c, gammas, {"first_s": first, "timed_s": timed}


def run_zennit(python, workdir):
    if not os.path.exists(python):
        raise SystemExit("no interpreter with Zennit at %s: create it with `make "
                         "bench-tv-venv` or set BENCH_TV_PYTHON (e.g. /work/venv-tv/bin/python)"
                         % python)
    cmd = [python, os.path.abspath(__file__), "_zennit", "--workdir", workdir]
    subprocess.run(cmd, cwd=ROOT, check=True)
    return (np.load(os.path.join(workdir, "zennit.npy"), allow_pickle=False),
            json.load(open(os.path.join(workdir, "zennit.json"))))


def report(n, errors, t_ours, t_zen, gammas, zinfo, other=None):
    """The section's Markdown and whether the agreement holds; ``other`` is the
    :class:`harness.OtherCpu` of the run (None: not measured)."""
    ratio = t_ours["timed_s"] / t_zen["timed_s"]
    alone = ("other processes' CPU time not measured" if other is None else
             "other processes used %s meanwhile" % harness.other_cpu_text(other.seconds(),
                                                                        other.wall()))
    ok_agree = max(errors) < TOL
    lines = [
        BEGIN,
        "## LRP on VGG16 against Zennit",
        "",
        "`benchmarks/bench_lrp.py`, %s, %d images at 224 px, random He-scaled VGG16 in "
        "the official layout (seed %d), class = arg-max; z^B on conv1_1, LRP-gamma with "
        "gammas %s on the other convolutions, LRP-0 on the dense layers, stabiliser 1e-9. "
        "Zennit %s on torch %s (`$BENCH_TV_PYTHON`), 2 threads each; %s. Ours runs "
        "every convolution by im2col here (`LRPRelevance.mode`: the rules divide by "
        "pre-activations, which magnifies Winograd's rounding)."
        % (datetime.date.today().isoformat(), n, SEED, gammas, zinfo.get("zennit"),
           zinfo.get("torch"), alone),
        "",
        "| measurement | agreement (max rel. L2 over images) | ours (Theano) | Zennit | ratio ours/Zennit |",
        "| --- | --- | --- | --- | --- |",
        "| LRP z^B + gamma, pixel relevance | %.1e %s | %.2f s per image (first call %.1f s) | "
        "%.2f s per image (first call %.1f s) | %.2fx %s |"
        % (max(errors), "(< 1e-3: ok)" if ok_agree else "(>= 1e-3: FAILED)",
           t_ours["timed_s"] / n, t_ours["first_s"], t_zen["timed_s"] / n, t_zen["first_s"],
           ratio, "(target <= 1.0: met)" if ratio <= 1.0 else "(target <= 1.0: NOT met)"),
        END,
    ]
    return "\n".join(lines) + "\n", ok_agree


def write_section(text, out):
    old = open(out).read() if os.path.exists(out) else ""
    if BEGIN in old and END in old:
        new = old[:old.index(BEGIN)] + text.rstrip("\n") + old[old.index(END) + len(END):]
    else:
        new = old.rstrip("\n") + ("\n\n" if old else "") + text
    with open(out + ".part", "w") as f:
        f.write(new)
    os.replace(out + ".part", out)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("mode", nargs="?", default="run", choices=["run", "_zennit"])
    p.add_argument("--images", type=int, default=8)
    p.add_argument("--workdir", default=None)
    p.add_argument("--out", default=None, help="markdown file to write the section into "
                   "(default: printed only)")
    a = p.parse_args(argv)
    if a.mode == "_zennit":
        return zennit_child(a.workdir)
    python = os.environ.get("BENCH_TV_PYTHON", DEFAULT_TV)
    other = harness.OtherCpu()
    with tempfile.TemporaryDirectory(prefix="bench-lrp-") as tmp:
        wd = a.workdir or tmp
        os.makedirs(wd, exist_ok=True)
        path, x = prepare(wd, a.images)
        print("ours ...", flush=True)
        rel, c, gammas, t_ours = ours(path, x)
        json.dump({"classes": [int(v) for v in c], "gammas": gammas, "epsilon": 1e-9,
                   "low": [float(v) for v in _bounds()[0]],
                   "high": [float(v) for v in _bounds()[1]]},
                  open(os.path.join(wd, "spec.json"), "w"))
        print("zennit ...", flush=True)
        zrel, zinfo = run_zennit(python, wd)
    errors = [rel_l2(rel[i], zrel[i]) for i in range(len(x))]
    text, ok = report(len(x), errors, t_ours, zinfo, gammas, zinfo, other)
    print(text)
    if a.out:
        write_section(text, a.out)
        print("wrote", a.out)
    return 0 if ok else 1


def _bounds():
    from methods.lrp import CAFFE_HIGH, CAFFE_LOW
    return CAFFE_LOW, CAFFE_HIGH


if __name__ == "__main__":
    sys.exit(main())

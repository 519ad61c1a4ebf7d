"""Grad-CAM, Ablation-CAM and Score-CAM: ours (methods/cam.py, Keras/Theano) against
pytorch-grad-cam (the anchor) on the same VGG16 weights. Agreement first,
then time.

    .venv/bin/python benchmarks/bench_cam.py                 # full run (see --help)
    .venv/bin/python benchmarks/bench_cam.py --images 1 --score-images 1 --channels-layer 2

pytorch-grad-cam imports torchvision, which does not load beside the product's torch
wheel, so the anchor runs in its own venv: ``$BENCH_TV_PYTHON`` (default
``benchmarks/.venv-tv/bin/python``; ``make bench-tv-venv`` creates it with
``pip install torch==2.14.1 torchvision==0.29.1 grad-cam==1.5.7``).

Steps:

1. writes a random He-scaled VGG16 in the official file layout
   (``weights.stand_in.write_official_weight_file``) and its arrays as ``.npz`` for
   the torch side (which has no h5py); the inputs are the first ``--images`` photos of
   the report's set (``test_data``'s ``explainability`` set, from HW3_IMAGE_DIR or
   the pinned URLs), 'caffe'-preprocessed; the targets are our model's top-1 classes;
2. ours, in a child process of this interpreter: each CAM with ``upsample=False``
   (the unscaled ReLU map at the slice), after a warm-up on one image (Theano
   compiles);
3. pytorch-grad-cam in ``$BENCH_TV_PYTHON``: ``GradCAM``, ``AblationCAM`` (batch 32)
   and ``ScoreCAM`` (batch 16) on ``torch_vgg.from_arrays`` with the target layer the
   ReLU module after the convolution (``model.relu['block5_conv3']``, not the Conv2d,
   whose hook would see the pre-activation; not in place), ``ClassifierOutputTarget``
   of the same classes; ``scale_cam_image`` is replaced by the identity, so the call
   returns the unscaled ReLU maps;
4. relative L2 error of each method's maps (must be < 1e-3) and time per image,
   ours / theirs. Targets: Ablation-CAM <= 0.1x, Score-CAM <= 1.0x, Grad-CAM <= 1.0x.

Our batch sizes are pytorch-grad-cam's (32 ablations, 16 masked inputs per call).
The section is printed and written to ``--out`` (default: ``RESULTS_CAM.md`` in the
work directory); ``bench_all.py`` puts it into ``benchmarks/RESULTS.md``.
"""
import argparse
import datetime
import json
import os
import platform
import subprocess
import sys
import tempfile
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

METHODS = ("Grad-CAM", "Ablation-CAM", "Score-CAM")
TARGETS = {"Grad-CAM": 1.0, "Ablation-CAM": 0.1, "Score-CAM": 1.0}
TOL = 1e-3
ABLATION_BATCH, SCORE_BATCH = 32, 16      # pytorch-grad-cam's defaults
HW = (224, 224)
FULL = {"images": 2, "score_images": 1, "layer": 30}
MARK_BEGIN, MARK_END = "<!-- bench_cam -->", "<!-- /bench_cam -->"
DEFAULT_TV = os.path.join(HERE, ".venv-tv", "bin", "python")


def rel_l2(got, ref):
    """||got - ref|| / ||ref|| in float64."""
    got, ref = np.asarray(got, np.float64), np.asarray(ref, np.float64)
    return float(np.linalg.norm(got - ref) / np.linalg.norm(ref))


def torch_relu_name(layer, blocks=(2, 2, 3, 3, 3)):
    """pytorch-grad-cam's target module for our slice ``layer``: the name of the
    ReLU after the convolution whose output ``model.layers[layer].input`` is (the
    layout of ``models.conv_layer_indices``: pad, conv per convolution, a pool per
    block). No Keras import: the torch side calls it too."""
    i = 0
    for b, n in enumerate(blocks, start=1):
        for k in range(1, n + 1):
            if i + 2 == layer:        # the conv is layers[i + 1]; its output feeds i + 2
                return "block%d_conv%d" % (b, k)
            i += 2
        i += 1
    raise SystemExit("layer %d is not a convolution output of the VGG16 layout" % layer)


# ---------------------------------------------------------------------------
# Parent: data, children, table
# ---------------------------------------------------------------------------
def prepare(a):
    """Weights (.h5 for ours, .npz for torch), inputs and targets in the work dir."""
    from weights import stand_in
    h5 = os.path.join(a.workdir, "vgg16.h5")
    if not os.path.exists(h5):
        arrays = stand_in.write_official_weight_file(h5, seed=a.seed)
        np.savez(os.path.join(a.workdir, "vgg16_arrays.npz"),
                 **{"a%02d_%d" % (i, j): w for i, pair in enumerate(arrays)
                    for j, w in enumerate(pair)})
        del arrays
    shared = os.path.join(os.path.dirname(ROOT), "shared", "data", "imagenet")
    if os.path.exists(os.path.join(shared, "manifest.tsv")):
        os.environ.setdefault("HW3_IMAGE_DIR", shared)     # as `make test` does
    import test_data
    world = test_data.load_world("imagenet")
    n = max(a.images, a.score_images)
    images = world.load(test_data.EXPLAINABILITY_ROLE, limit=n, progress=False)
    np.save(os.path.join(a.workdir, "x.npy"), world.preprocess(images.images))
    return h5


def run_child(python, kind, a):
    cmd = [python, os.path.abspath(__file__), "_child", kind, "--workdir", a.workdir,
           "--layer", str(a.layer), "--images", str(a.images),
           "--score-images", str(a.score_images)]
    print("running %s ..." % kind, flush=True)
    t = time.perf_counter()
    subprocess.run(cmd, check=True, cwd=ROOT)
    print("  %s done in %.0f s" % (kind, time.perf_counter() - t), flush=True)
    with open(os.path.join(a.workdir, kind + ".json")) as f:
        return json.load(f)


def table(a, ours, theirs):
    rows, ok = [], True
    for m in METHODS:
        n = a.score_images if m == "Score-CAM" else a.images
        err = max(rel_l2(np.load(os.path.join(a.workdir, "ours_%s_%d.npy" % (m, i))),
                         np.load(os.path.join(a.workdir, "theirs_%s_%d.npy" % (m, i))))
                  for i in range(n))
        ratio = ours[m]["seconds_per_image"] / theirs[m]["seconds_per_image"]
        agree, fast = err < TOL, ratio <= TARGETS[m]
        ok = ok and agree and fast
        rows.append("| %s | %d | %.2e %s | %.2f s | %.2f s | **%.3fx** (target <= %.1fx) %s |"
                    % (m, n, err, "ok" if agree else "**FAILED**",
                       ours[m]["seconds_per_image"], theirs[m]["seconds_per_image"], ratio,
                       TARGETS[m], "met" if fast else "**missed**"))
    head = ["| method | images | rel. L2 vs pytorch-grad-cam (< 1e-3) | ours per image | "
            "pytorch-grad-cam per image | time ratio |", "|---|---|---|---|---|---|"]
    return head + rows, ok


def write_results(a, lines, ours, theirs):
    text = [MARK_BEGIN,
            "## CAMs against pytorch-grad-cam (`benchmarks/bench_cam.py`)",
            "",
            "Run %s on %s (%s, %d cores), slice `layers[%d].input` (%s), random He-scaled "
            "VGG16 weights in the official layout, the report's photos, targets = our top-1 "
            "class. Ours: Keras 2.3.1 / Theano 1.0.5; anchor: pytorch-grad-cam %s on torch %s "
            "(CPU). Same batch sizes (ablation 32, Score-CAM 16). Maps compared unscaled at "
            "the slice; times are one full call after a warm-up, per image."
            % (datetime.date.today().isoformat(), platform.node() or "this machine",
               platform.processor() or platform.machine(), os.cpu_count() or 0, a.layer,
               theirs["_meta"]["target"], theirs["_meta"]["grad_cam"],
               theirs["_meta"]["torch"]),
            ""] + lines + ["",
            "Ablation-CAM runs only the network above the slice per ablation "
            "(`compression.masked_scores` on the cached activations); pytorch-grad-cam "
            "reruns the whole network for every batch of ablations. Score-CAM scores "
            "channels whose mask is identically 0 (dead channels) with one blank input.",
            MARK_END]
    with open(a.out, "w") as f:
        f.write("\n".join(text) + "\n")
    return a.out


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--images", type=int, default=FULL["images"],
                   help="images for Grad-CAM and Ablation-CAM (default 2)")
    p.add_argument("--score-images", type=int, default=FULL["score_images"],
                   help="images for Score-CAM (default 1: 512 forward passes each)")
    p.add_argument("--layer", type=int, default=FULL["layer"],
                   help="slice index (default 30: conv5_3)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--workdir", default=None)
    p.add_argument("--out", default=None, help="where to write the Markdown section")
    a = p.parse_args(argv)
    python = os.environ.get("BENCH_TV_PYTHON", DEFAULT_TV)
    if not os.path.exists(python):
        raise SystemExit("no interpreter with pytorch-grad-cam at %s: set BENCH_TV_PYTHON or "
                         "run `make bench-tv-venv` (see benchmarks/README.md)" % python)
    a.workdir = a.workdir or tempfile.mkdtemp(prefix="bench_cam_")
    os.makedirs(a.workdir, exist_ok=True)
    if a.out is None:
        a.out = os.path.join(a.workdir, "RESULTS_CAM.md")
    prepare(a)
    ours = run_child(sys.executable, "ours", a)
    theirs = run_child(python, "theirs", a)
    lines, ok = table(a, ours, theirs)
    print("\n".join(lines))
    print("written to", write_results(a, lines, ours, theirs))
    return 0 if ok else 1


# ---------------------------------------------------------------------------
# Children
# ---------------------------------------------------------------------------
def time_methods(a, side, run):
    """Time ``run(method, n)`` (which returns the (n, u, v) maps of the first n images)
    for each method, save the maps as ``<side>_<method>_<i>.npy`` in the work dir.

    Returns:
        dict method -> {'seconds_per_image', 'images'}.
    """
    out = {}
    for m in METHODS:
        n = a.score_images if m == "Score-CAM" else a.images
        t0 = time.perf_counter()
        maps = run(m, n)
        seconds = time.perf_counter() - t0
        for i in range(n):
            np.save(os.path.join(a.workdir, "%s_%s_%d.npy" % (side, m, i)), maps[i])
        out[m] = {"seconds_per_image": seconds / n, "images": n}
        print("  %s %-13s %.2f s per image" % (side, m, seconds / n), flush=True)
    return out


def child_ours(a, x):
    import hw3_env
    hw3_env.setup()
    import models
    from methods import cam, scores
    model = models.VGG_16(os.path.join(a.workdir, "vgg16.h5"), input_shape=(3,) + HW)
    x = x.astype(np.float32)
    top1 = np.argmax(scores.model_scores(model, x), axis=1)
    out = {"_meta": {"targets": top1.tolist()}}
    np.save(os.path.join(a.workdir, "targets.npy"), top1)
    # warm-up: Theano compiles h, g, the slice gradient and the full forward
    cam.grad_cam(x[:1], model, top1[:1], layer=a.layer, upsample=False)
    scores.model_scores(model, x[:1])
    calls = {"Grad-CAM": lambda xs, t: cam.grad_cam_weights(xs, model, t, a.layer),
             "Ablation-CAM": lambda xs, t: cam.ablation_cam_weights(
                 xs, model, t, a.layer, channels_per_call=ABLATION_BATCH, progress=False),
             "Score-CAM": lambda xs, t: cam.score_cam_weights(
                 xs, model, t, a.layer, masks_per_call=SCORE_BATCH, progress=False)}
    out.update(time_methods(a, "ours", lambda m, n: cam.weighted_map(*calls[m](x[:n],
                                                                              top1[:n]))))
    return out


def child_theirs(a, x):
    import torch
    import torch_vgg
    import pytorch_grad_cam
    from pytorch_grad_cam import AblationCAM, GradCAM, ScoreCAM, base_cam
    from pytorch_grad_cam.utils.model_targets import ClassifierOutputTarget
    torch.set_num_threads(2)
    z = np.load(os.path.join(a.workdir, "vgg16_arrays.npz"))
    arrays = [[z["a%02d_0" % i], z["a%02d_1" % i]] for i in range(16)]
    model = torch_vgg.from_arrays(arrays, HW)
    del arrays, z
    for p in model.parameters():        # pytorch-grad-cam leaves parameters as they are
        p.requires_grad_(True)
    name = torch_relu_name(a.layer)
    target = [model.relu[name]]
    # unscaled maps: the ReLU'd weighted sum at the slice, before scale_cam_image
    base_cam.scale_cam_image = lambda cam, target_size=None: np.float32(cam)
    xt = torch.from_numpy(x.astype(np.float32))
    top1 = np.load(os.path.join(a.workdir, "targets.npy"))    # ours: the same classes
    with torch.no_grad():
        agree = bool((model(xt).argmax(1).numpy() == top1).all())
    out = {"_meta": {"targets": top1.tolist(), "target": "relu after %s" % name,
                     "same_top1": agree,
                     "torch": torch.__version__,
                     "grad_cam": getattr(pytorch_grad_cam, "__version__", "1.5.7")}}
    makers = {"Grad-CAM": lambda: GradCAM(model, target),
              "Ablation-CAM": lambda: AblationCAM(model, target, batch_size=ABLATION_BATCH),
              "Score-CAM": lambda: ScoreCAM(model, target)}
    with GradCAM(model, target) as warm:  # warm-up: oneDNN builds its kernels
        warm(xt[:1], [ClassifierOutputTarget(int(top1[0]))])

    def run(m, n):
        with makers[m]() as c:
            if m == "Score-CAM":
                c.batch_size = SCORE_BATCH
            return c(xt[:n], [ClassifierOutputTarget(int(t)) for t in top1[:n]])

    out.update(time_methods(a, "theirs", run))
    return out


def child(kind, argv):
    p = argparse.ArgumentParser()
    p.add_argument("--workdir")
    p.add_argument("--layer", type=int)
    p.add_argument("--images", type=int)
    p.add_argument("--score-images", type=int)
    a = p.parse_args(argv)
    x = np.load(os.path.join(a.workdir, "x.npy"))
    out = child_ours(a, x) if kind == "ours" else child_theirs(a, x)
    with open(os.path.join(a.workdir, kind + ".json"), "w") as f:
        json.dump(out, f)


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "_child":
        os.environ.setdefault("TQDM_DISABLE", "1")
        child(sys.argv[2], sys.argv[3:])
    else:
        sys.exit(main())

"""The measurements of ``benchmarks/run.py``, one per child process
(``run.py _child KIND``): both forwards, pixel IG and the conv4_1 class attribution on
our side and Captum's, the compression grid (ours only), forward throughput, and the
quadrature rules' children of ``time_to_gap.py``. Each writes
``<workdir>/<kind>.json`` (and its attribution as ``.npy``) for the parent.
"""
import json
import os

import numpy as np

import time_to_gap
from harness import Timer, best_of, end_call, rel_l2, start_call, status_kb
from vgg_inputs import HW, load_ours, load_torch, weight_path

CHUNK = 10                      # path points per gradient call, both sides
CONV4_1 = 19                    # models.CONV4_1: layers[19].input is conv4_1's output
FLOPS_BATCH = 8
KINDS = ("forward", "ig-ours", "ig-captum", "layer-ours", "layer-captum", "grid",
         "flops-ours", "flops-torch", "rules-ours", "rules-captum", "curve", "ttt-ours",
         "ttt-captum")
FLOAT64_KINDS = ("rules-ours", "rules-captum")
GRID_IMAGES = 8                 # held-out images of the grid (at most --images)


def grid_images(a):
    """Held-out images of the grid: ``GRID_IMAGES``, at most ``--images``."""
    return min(GRID_IMAGES, a.images)


def child(kind, a):
    wd = a.workdir
    weights = weight_path(a)
    x_all = np.load(os.path.join(wd, "x.npy"))
    out = {"kind": kind}
    with Timer() as t_load:
        if kind.endswith("-captum") or kind == "flops-torch":
            model = load_torch(weights)
        elif kind != "forward":
            model = load_ours(weights, float64=kind in FLOAT64_KINDS)
    out["load_s"] = t_load.seconds
    meta = {}
    if os.path.exists(os.path.join(wd, "meta.json")):
        with open(os.path.join(wd, "meta.json")) as f:
            meta = json.load(f)

    if kind == "forward":
        out.update(child_forward(weights, x_all))
    elif kind == "ig-ours":
        out.update(child_ig_ours(model, x_all[:1], meta["c_ig"], a.steps, wd))
    elif kind == "ig-captum":
        out.update(child_ig_captum(model, x_all[:1], meta["c_ig"], a.steps, wd))
    elif kind == "layer-ours":
        out.update(child_layer_ours(model, x_all, meta["c_layer"], a.steps, wd))
    elif kind == "layer-captum":
        out.update(child_layer_captum(model, x_all, meta["c_layer"], a.steps, wd))
    elif kind == "grid":
        out.update(child_grid(model, x_all[:grid_images(a)], meta["c_layer"], wd))
    elif kind == "flops-ours":
        out.update(child_flops_ours(model))
    elif kind == "flops-torch":
        out.update(child_flops_torch(model))
    elif kind == "rules-ours":
        out.update(time_to_gap.child_rules_ours(model, x_all[:1], meta["c_ig"], wd))
    elif kind == "rules-captum":
        out.update(time_to_gap.child_rules_captum(model, x_all[:1], meta["c_ig"], wd))
    elif kind == "curve":
        out.update(time_to_gap.child_curve(model, x_all[:1], meta["c_ig"], wd))
    elif kind in ("ttt-ours", "ttt-captum"):
        n = min(time_to_gap.TTT_IMAGES, len(x_all))
        fn = getattr(time_to_gap, "child_" + kind.replace("-", "_"))
        out.update(fn(model, x_all[:n], meta["c_each"][:n], wd))
    else:
        raise SystemExit("unknown child kind %r" % kind)
    out["rss_end"] = status_kb("VmRSS")
    with open(os.path.join(wd, kind + ".json"), "w") as f:
        json.dump(out, f, indent=1)


def child_forward(weights, x):
    """Both forwards on every image; the machine facts only the children can see."""
    import torch
    ours = load_ours(weights)
    import theano
    import hw3_env
    hw3_env.setup()
    f = theano.function([ours.input], ours.output)
    s_ours = np.concatenate([f(x[i:i + 4]) for i in range(0, len(x), 4)])
    del ours, f
    tm = load_torch(weights)
    with torch.no_grad():
        s_torch = tm(torch.from_numpy(x)).numpy()
    mean = s_ours.mean(axis=0)
    return {
        "rel_l2": rel_l2(s_ours, s_torch),
        "argmax_ours": s_ours.argmax(axis=1).tolist(),
        "argmax_torch": s_torch.argmax(axis=1).tolist(),
        "score_std": float(s_ours.std()),
        "c_ig": int(s_ours[0].argmax()),
        "c_layer": int(mean.argmax()),
        "theano_blas_ldflags": theano.config.blas.ldflags,
        "theano_flags": os.environ.get("THEANO_FLAGS", ""),
        "torch_version": torch.__version__,
        "torch_threads": torch.get_num_threads(),
        "torch_interop_threads": torch.get_num_interop_threads(),
        "torch_parallel": torch.__config__.parallel_info().splitlines()[:6],
    }



def _finish(out, attr, wd, name, t_call):
    out["call_s"] = t_call.seconds
    end_call(out)
    np.save(os.path.join(wd, name + ".npy"), np.asarray(attr, dtype=np.float32))
    return out


def child_ig_ours(model, x, c, steps, wd):
    from AumannShapley import AumannShapley
    from Explanation import Explanation
    method = AumannShapley(resolution=steps, points_per_call=CHUNK)
    q = Explanation(model, method).for_input().absolute(c)
    out = {}
    method.resolution = 2                        # warm-up (2 steps): compiles the gradient
    with Timer() as t:
        q.explain(x)
    out["first_call_s"] = t.seconds
    method.resolution = steps
    start_call(out)
    with Timer() as t:
        data = q.explain(x)
    out["delta"] = [float(d) for d in data.delta]
    return _finish(out, data.attribution[0], wd, "ig-ours", t)


def child_ig_captum(model, x, c, steps, wd):
    import torch
    from captum.attr import IntegratedGradients
    xt = torch.from_numpy(np.ascontiguousarray(x))
    ig = IntegratedGradients(model)
    kw = dict(baselines=0, target=c, method="riemann_right", internal_batch_size=CHUNK)
    out = {}
    with Timer() as t:
        ig.attribute(xt, n_steps=2, **kw)
    out["first_call_s"] = t.seconds
    start_call(out)
    with Timer() as t:
        attr, delta = ig.attribute(xt, n_steps=steps, return_convergence_delta=True, **kw)
    out["delta"] = delta.detach().numpy().astype(float).tolist()
    return _finish(out, attr.detach().numpy()[0], wd, "ig-captum", t)


def child_layer_ours(model, x, c, steps, wd):
    from AumannShapley import AumannShapley
    from Explanation import Explanation
    method = AumannShapley(resolution=steps, points_per_call=CHUNK)
    sl = Explanation(model, method).for_layer(CONV4_1)
    q = sl.absolute(c)
    zero = np.zeros((1,) + x.shape[1:], dtype=np.float32)
    out = {}
    method.resolution = 2
    with Timer() as t:
        method.baseline = sl.h(zero)[0]
        q.explain_class(x[:1])
    out["first_call_s"] = t.seconds
    method.resolution = steps
    start_call(out)
    with Timer() as t:
        method.baseline = sl.h(zero)[0]          # h(zero image), part of the work
        data = q.explain_class(x)
    out["delta"] = [float(d) for d in data.delta]
    return _finish(out, data.attribution, wd, "layer-ours", t)


def child_layer_captum(model, x, c, steps, wd):
    import torch
    from captum.attr import LayerIntegratedGradients
    xt = torch.from_numpy(np.ascontiguousarray(x))
    lig = LayerIntegratedGradients(model, model.conv4_1, multiply_by_inputs=True)
    kw = dict(target=c, method="riemann_right", internal_batch_size=CHUNK)
    out = {}
    with Timer() as t:
        lig.attribute(xt[:1], baselines=torch.zeros_like(xt[:1]), n_steps=2, **kw)
    out["first_call_s"] = t.seconds
    start_call(out)
    with Timer() as t:
        attr = lig.attribute(xt, baselines=torch.zeros_like(xt), n_steps=steps, **kw)
        mean = attr.detach().mean(dim=0).numpy()
    return _finish(out, mean, wd, "layer-captum", t)



def child_flops_ours(model):
    import theano
    import torch_vgg
    rng = np.random.default_rng(1)
    x = rng.standard_normal((FLOPS_BATCH, 3) + HW, dtype=np.float32) * 60
    f = theano.function([model.input], model.output)
    t_fwd = best_of(lambda: f(x), 3)
    a = rng.standard_normal((2048, 2048), dtype=np.float32)
    b = rng.standard_normal((2048, 2048), dtype=np.float32)
    t_mm = best_of(lambda: a @ b, 7)
    flops, rows = torch_vgg.conv_flops(input_hw=HW)
    return {"forward_s": t_fwd, "forward_gflops": flops * FLOPS_BATCH / t_fwd / 1e9,
            "flops_per_image": flops, "layer_flops": rows, "numpy_matmul_s": t_mm,
            "numpy_matmul_gflops": 2 * 2048 ** 3 / t_mm / 1e9}


def child_flops_torch(model):
    import torch
    import torch_vgg
    rng = np.random.default_rng(1)
    x = torch.from_numpy(rng.standard_normal((FLOPS_BATCH, 3) + HW, dtype=np.float32) * 60)
    with torch.no_grad():
        t_fwd = best_of(lambda: model(x), 3)
    a = torch.randn(2048, 2048)
    b = torch.randn(2048, 2048)
    t_mm = best_of(lambda: a @ b, 7)
    flops, _ = torch_vgg.conv_flops(input_hw=HW)
    return {"forward_s": t_fwd, "forward_gflops": flops * FLOPS_BATCH / t_fwd / 1e9,
            "torch_matmul_gflops": 2 * 2048 ** 3 / t_mm / 1e9}


def child_grid(model, x, c, wd):
    """The default (t, b) grid of compression.recall_grid for class c on a small
    held-out set (half labelled c, half another class), VGG16 with stand-in weights.
    Channel scores: the max of each channel of the conv4_1 class attribution of the
    layer measurement when it ran, else of the mean activation (the kept channels
    do not change the cost). Reports the grid pending when ``compression`` or its
    ``recall_grid`` cannot be imported."""
    try:
        import compression
        from compression import recall_grid  # noqa: F401  (the function under test)
    except ImportError as e:
        return {"pending": "compression.recall_grid cannot be imported (%s)" % e}
    from AumannShapley import AumannShapley
    from Explanation import Explanation
    sl = Explanation(model, AumannShapley()).for_layer(CONV4_1)
    n = len(x)
    labels = np.where(np.arange(n) < (n + 1) // 2, c, (c + 1) % 1000).astype(np.int64)
    out = {"images": n}
    with Timer() as t:
        z = sl.h(x)
    out["h_s"] = t.seconds
    path = os.path.join(wd, "layer-ours.npy")
    attr = np.load(path) if os.path.exists(path) else z.mean(axis=0)
    out["scores_from"] = "class attribution" if os.path.exists(path) else "mean activation"
    scores = compression.channel_scores(attr, "max")
    with Timer() as t:                       # warm-up: compiles g
        compression.recall_grid(sl, z[:1], labels[:1], c, scores, tops=(1,), bottoms=(0,),
                                progress=False)
    out["first_call_s"] = t.seconds
    start_call(out)
    with Timer() as t:
        grid = compression.recall_grid(sl, z, labels, c, scores, progress=False)
    out["call_s"] = t.seconds
    end_call(out)
    cells = {compression.kept_channels(scores, tt, bb).tobytes()
             for tt in grid.tops for bb in grid.bottoms}
    out.update({"cells": len(grid.tops) * len(grid.bottoms), "unique_cells": len(cells),
                "tops": list(grid.tops), "bottoms": list(grid.bottoms)})
    out["g_image_s"] = t.seconds / (len(cells) * n)
    return out

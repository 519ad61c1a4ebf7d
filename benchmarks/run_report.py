"""The text of ``benchmarks/run.py``'s report, one function per part: the machine,
the agreement with Captum, time and memory, the compression grid, forward throughput,
the cost of a conv4_1 path point against the matmul peak, the quadrature rules'
sections (``time_to_gap.report_lines``) and the targets. :func:`report` puts them
together for ``run.py``; ``bench_all.py`` puts them into its own sections.
"""
import time_to_gap
from harness import gb, secs, verdict
from measurements import CHUNK, FLOPS_BATCH

TARGET_LAYER_RATIO, TARGET_IG_RATIO, TARGET_IG_RSS = 0.6, 1.2, 2 * 1024 ** 3
NOTEBOOK_HELDOUT = 76           # held-out images of the notebook's experiment
#: the layers a conv4_1 path point runs forward and backward: conv4_2's padding and
#: linear part are folded out of the path (``chain/affine_head.py``), so conv4_3,
#: block 5 and the dense layers are left
POINT_LAYERS = ("block4_conv3", "block5_conv1", "block5_conv2", "block5_conv3", "fc1",
                "fc2", "predictions")


def settings_text(a):
    """The settings of a run, as a sentence."""
    return ("%d Riemann steps (riemann_right), %d images for the conv4_1 class "
            "attribution, %d path points per gradient call on both sides, 224x224 VGG16 "
            "with random He-scaled weights (seed %d) in the official file layout."
            % (a.steps, a.images, CHUNK, a.seed))


def machine_lines(info, fw):
    """The machine table: CPU, load, Python/NumPy, Theano's BLAS and PyTorch's threads.

    Args:
        info: :func:`harness.machine` of the parent.
        fw: the ``forward`` child's result (it sees Theano and PyTorch).
    Returns:
        list of str.
    """
    L = ["| | |\n|---|---|"]
    L.append("| CPU | %s, %d cores visible, %.0f GiB |" % (info["cpu"], info["cores"],
                                                       info["mem"] / 1024 ** 3))
    L.append("| load average at start | %.2f / %.2f / %.2f (1/5/15 min)%s |"
             % (tuple(info["load"]) + (" — **other work was running: timings are not "
                                        "final**" if info["load"][0] > 0.5 else "",)))
    L.append("| Python / NumPy | %s / %s (BLAS: %s) |" % (info["python"], info["numpy"],
                                                         info["numpy_blas"]))
    L.extend(stack_lines(fw))
    if info["blas_threads"]:
        L.append("| thread variables | %s |" % ", ".join("%s=%s" % kv for kv in
                                                         sorted(info["blas_threads"].items())))
    L.append("")
    return L


def stack_lines(fw):
    """Table rows of Theano's BLAS and PyTorch's version and threads, from the
    ``forward`` child's result."""
    ld = fw["theano_blas_ldflags"]
    return ["| Theano BLAS | `blas.ldflags=%s` (%s) |"
            % (ld, "NumPy's BLAS through its C API" if not ld.strip() else "linked"),
            "| PyTorch | %s, `torch.set_num_threads(2)` → %d intra-op threads, %d inter-op |"
            % (fw["torch_version"], fw["torch_threads"], fw["torch_interop_threads"])]


def check_names(a):
    """Check name -> its label in the agreement table."""
    names = {"forward": "forward scores (%d images)" % a.images,
             "ig": "pixel IG, 1 image, float32 (timing run)",
             "layer": "conv4_1 class attribution, float32 (timing run)"}
    names.update({"rule:" + rule: "pixel IG `method=%r`, %d steps, **float64** (Captum `%s`%s)"
                  % (rule, time_to_gap.RULE_STEPS, time_to_gap.CAPTUM_METHOD[rule],
                     ", %d points × %d/%d" % ((time_to_gap.RULE_STEPS + 1,) * 2
                                              + (time_to_gap.RULE_STEPS,))
                     if rule == "trapezoid" else "")
                  for rule in time_to_gap.RULES})
    return names


def agreement_lines(a, checks, keys=None):
    """The agreement table of the checks named in ``keys`` (default: all), in order.

    Args:
        a: the run's arguments (images).
        checks: name -> (relative L2 error, tolerance).
        keys: the checks to show; those not in ``checks`` are left out.
    Returns:
        list of str.
    """
    names = check_names(a)
    keys = list(checks) if keys is None else [k for k in keys if k in checks]
    L = ["| check | relative L2 error | tolerance | |\n|---|---|---|---|"]
    for k in keys:
        err, tol = checks[k]
        L.append("| %s | %.2e | %.1e | %s |" % (names[k], err, tol,
                                                 "ok" if err < tol else "FAILED"))
    L.append("")
    return L


def time_lines(a, r, checks, targets, parts=("ig", "layer")):
    """Time and memory of pixel IG and/or the conv4_1 class attribution, ours and
    Captum's, each measurement's agreement first; appends their targets to ``targets``.

    Args:
        a: the run's arguments (steps, images).
        r: kind -> the child's result.
        checks: name -> (relative L2 error, tolerance).
        targets: list of (target, measured, met) to append to.
        parts: which of ``"ig"`` and ``"layer"`` to show (those measured).
    Returns:
        list of str (empty when neither was measured).
    """
    rows = []
    for part, label in (("ig", "pixel IG, 1 image"),
                        ("layer", "conv4_1 class attribution, %d images" % a.images)):
        if part not in parts or part + "-ours" not in r:
            continue
        o, c = r[part + "-ours"], r[part + "-captum"]
        err, tol = checks[part]
        rows.append((label, "%.2e (< %.0e) %s" % (err, tol, "ok" if err < tol else "**FAILED**"),
                     o, c))
    if not rows:
        return []
    L = ["Wall time of one full call after a warm-up call; *first call* is the "
         "warm-up (two steps: Theano compiles the gradient there). Peak RSS: of the "
         "whole process (weights loaded from HDF5 included) / during the timed call "
         "only.\n"]
    L.append("| measurement | rel. L2 vs Captum | side | time | ours/Captum | first call | "
             "model load | RSS after warm-up | peak RSS (process) | peak RSS (call) |")
    L.append("|---|---|---|---|---|---|---|---|---|---|")
    for label, agree, o, c in rows:
        ratio = o["call_s"] / c["call_s"]
        for side, d in (("ours", o), ("Captum", c)):
            L.append("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |"
                     % (label, agree if side == "ours" else "", side, secs(d["call_s"]),
                        "%.2f×" % ratio if side == "ours" else "",
                        secs(d["first_call_s"]), secs(d["load_s"]),
                        gb(d["rss_after_warmup"]), gb(d["peak_rss"]),
                        gb(d["peak_rss_call"])))
    L.append("")
    if "ig" in parts and "ig-ours" in r:
        L.append("Completeness gap sum(attr) − (s_c(x) − s_c(0)) of pixel IG: ours %.3g, "
                 "Captum %.3g (Riemann error at %d steps, the same on both sides).\n"
                 % (r["ig-ours"]["delta"][0], r["ig-captum"]["delta"][0], a.steps))
    for label, _, o, c in rows:
        ratio = o["call_s"] / c["call_s"]
        if label.startswith("pixel"):
            targets.append(("pixel IG time ≤ %.1f× Captum's" % TARGET_IG_RATIO,
                            "%.2f×" % ratio, ratio <= TARGET_IG_RATIO))
            targets.append(("pixel IG peak RSS ≤ 2 GB at the default chunk (%d), "
                            "whole process" % CHUNK,
                            "%s (timed call alone: %s)" % (gb(o["peak_rss"]),
                                                           gb(o["peak_rss_call"])),
                            o["peak_rss"] <= TARGET_IG_RSS))
        else:
            targets.append(("conv4_1 class attribution time ≤ %.1f× Captum's"
                            % TARGET_LAYER_RATIO, "%.2f×" % ratio,
                            ratio <= TARGET_LAYER_RATIO))
    return L


def grid_lines(gr):
    """The compression grid's paragraph and table from the ``grid`` child's result."""
    if "pending" in gr:
        return ["pending: %s.\n" % gr["pending"]]
    est = gr["unique_cells"] * NOTEBOOK_HELDOUT * gr["g_image_s"]
    L = ["`compression.recall_grid` for one class with the default %d×%d grid "
         "(t, b ∈ %s), recall and precision, on %d held-out images, VGG16 with "
         "stand-in weights (slice activations computed beforehand, %s).\n"
         % (len(gr["tops"]), len(gr["bottoms"]),
            ", ".join(map(str, gr["tops"])), gr["images"], secs(gr["h_s"]))]
    L.append("| grid time | distinct cells (of %d) | g per image | first call | "
             "peak RSS (process) | estimate for %d held-out images |"
             % (gr["cells"], NOTEBOOK_HELDOUT))
    L.append("|---|---|---|---|---|---|")
    L.append("| %s | %d | %.3f s | %s | %s | %.0f min |"
             % (secs(gr["call_s"]), gr["unique_cells"], gr["g_image_s"],
                secs(gr["first_call_s"]), gb(gr["peak_rss"]), est / 60))
    L.append("")
    return L


def flops_lines(fo, ft):
    """Forward throughput against the float32 matmul peak, from the ``flops-ours``
    and ``flops-torch`` children's results."""
    L = ["VGG16 forward, batch of %d, best of 3; %.2f GFLOP per image counted "
         "analytically (13 convolutions + 3 dense layers, multiply and add "
         "counted apart).\n" % (FLOPS_BATCH, fo["flops_per_image"] / 1e9)]
    L.append("| | time | GFLOP/s | of NumPy matmul peak |\n|---|---|---|---|")
    peak = fo["numpy_matmul_gflops"]
    L.append("| float32 matmul 2048², NumPy (best of 7) | %.3f s | %.1f | 100%% |"
             % (fo["numpy_matmul_s"], peak))
    L.append("| float32 matmul 2048², PyTorch | | %.1f | %.0f%% |"
             % (ft["torch_matmul_gflops"], 100 * ft["torch_matmul_gflops"] / peak))
    L.append("| our VGG16 forward (Theano) | %.2f s | %.1f | %.0f%% |"
             % (fo["forward_s"], fo["forward_gflops"], 100 * fo["forward_gflops"] / peak))
    L.append("| PyTorch VGG16 forward | %.2f s | %.1f | %.0f%% |"
             % (ft["forward_s"], ft["forward_gflops"], 100 * ft["forward_gflops"] / peak))
    L.append("")
    return L


def point_flops(rows):
    """Floating-point operations of one conv4_1 path point: forward and backward (to
    the activations, not the weights: as many operations as the forward) through
    :data:`POINT_LAYERS`.

    Args:
        rows: ``torch_vgg.conv_flops()[1]``, (layer name, forward flops) per layer.
    Returns:
        float.
    """
    per = dict(rows)
    return 2.0 * sum(per[name] for name in POINT_LAYERS)


def point_lines(a, lo, fo):
    """What a conv4_1 path point costs against the float32 matmul peak: the time of
    the conv4_1 class attribution over its path points (``layer-ours``), the
    analytic operations per point (:func:`point_flops`), and the peak of
    ``flops-ours``.

    Args:
        a: the layer run's arguments (steps, images).
        lo: the ``layer-ours`` child's result.
        fo: the ``flops-ours`` child's result.
    Returns:
        list of str.
    """
    flops = point_flops(fo["layer_flops"])
    points = a.steps * a.images
    per_point = lo["call_s"] / points
    rate = flops / per_point / 1e9
    peak = fo["numpy_matmul_gflops"]
    return ["A conv4_1 path point runs conv4_3, block 5 and the dense layers forward "
            "and backward to the activations (conv4_2's linear part is folded out of "
            "the path): %.1f GFLOP counted analytically. The conv4_1 class attribution "
            "above took %s for %d images × %d steps = %d points (h and the folded head "
            "included)." % (flops / 1e9, secs(lo["call_s"]), a.images, a.steps, points),
            "",
            "| | s per point | GFLOP/s | of NumPy matmul peak |\n|---|---|---|---|",
            "| conv4_1 path point (ours) | %.3f s | %.1f | %.0f%% |"
            % (per_point, rate, 100 * rate / peak),
            "| float32 matmul 2048², NumPy | | %.1f | 100%% |" % peak, ""]


def targets_lines(targets, full):
    """The targets table (empty when there are none)."""
    if not targets:
        return []
    L = ["| target | measured | |\n|---|---|---|"]
    for name, val, ok in targets:
        L.append("| %s | %s | %s |" % (name, val, verdict(ok)))
    L.append("")
    if not full:
        L.append("(Smoke settings: the verdicts above do not judge the targets.)\n")
    return L


def report(a, info, r, checks, full):
    """The Markdown text of a run.

    Args:
        a: the run's arguments (steps, images, seed).
        info: :func:`harness.machine` of the parent.
        r: kind -> the child's result (``forward`` always; the others as run).
        checks: name -> (relative L2 error, tolerance) of the agreement checks.
        full: whether the run used the full settings (steps and images).
    Returns:
        str.
    """
    L = ["# Benchmarks: our Theano/Keras attribution vs Captum (PyTorch)\n"]
    L.append("Written by `benchmarks/run.py` on %s. Settings: %s%s\n"
             % (info["date"], settings_text(a),
                "" if full else " **Not the full configuration: numbers are not "
                "comparable with the targets.**"))
    L.append("## Machine\n")
    L.extend(machine_lines(info, r["forward"]))
    L.append("## Agreement with Captum\n")
    L.extend(agreement_lines(a, checks))
    targets = []
    times = time_lines(a, r, checks, targets)
    if times:
        L.append("## Time and memory\n")
        L.extend(times)
    if "grid" in r:
        L.append("## Compression grid (ours only; Captum has no counterpart)\n")
        L.extend(grid_lines(r["grid"]))
    if "flops-ours" in r:
        L.append("## Forward throughput\n")
        L.extend(flops_lines(r["flops-ours"], r["flops-torch"]))
        if "layer-ours" in r:
            L.extend(point_lines(a, r["layer-ours"], r["flops-ours"]))
    if "ttt-ours" in r:
        L.extend(time_to_gap.report_lines(r, targets))
    if targets:
        L.append("## Targets\n")
        L.extend(targets_lines(targets, full))
    L.append("Reproduce: `.venv/bin/python -m pip install -r benchmarks/requirements.txt && "
             ".venv/bin/python benchmarks/run.py` (or `make bench`), with the CPU otherwise "
             "idle.\n")
    return "\n".join(L)

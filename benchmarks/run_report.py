"""The text of ``benchmarks/RESULTS.md`` from the results of ``benchmarks/run.py``:
the machine, the agreement with Captum, time and memory, the compression grid,
forward throughput, the quadrature rules' sections (``time_to_gap.report_lines``) and
the targets.
"""
import time_to_gap
from harness import gb, secs, verdict
from measurements import CHUNK, FLOPS_BATCH

TARGET_LAYER_RATIO, TARGET_IG_RATIO, TARGET_IG_RSS = 0.6, 1.2, 2 * 1024 ** 3
NOTEBOOK_HELDOUT = 76           # held-out images of the notebook's experiment


def report(a, info, r, checks, full):
    """The Markdown text of a run.

    Args:
        a: the run's arguments (steps, images, seed).
        info: :func:`harness.machine` of the parent.
        r: kind -> the child's result (``forward`` always; the others as run).
        checks: name -> (relative L2 error, tolerance) of the agreement checks.
        full: whether the run used the full configuration.
    Returns:
        str.
    """
    fw = r["forward"]
    L = []
    L.append("# Benchmarks: our Theano/Keras attribution vs Captum (PyTorch)\n")
    L.append("Written by `benchmarks/run.py` on %s. Settings: %d Riemann "
             "steps (riemann_right), %d images for the conv4_1 class attribution, "
             "%d path points per gradient call on both sides, 224x224 VGG16 with "
             "random He-scaled weights (seed %d) in the official file layout.%s\n"
             % (info["date"], a.steps, a.images, CHUNK, a.seed,
                "" if full else " **Not the full configuration: numbers are not "
                "comparable with the targets.**"))
    L.append("## Machine\n")
    L.append("| | |\n|---|---|")
    L.append("| CPU | %s, %d cores visible, %.0f GiB |" % (info["cpu"], info["cores"],
                                                       info["mem"] / 1024 ** 3))
    L.append("| load average at start | %.2f / %.2f / %.2f (1/5/15 min)%s |"
             % (tuple(info["load"]) + (" — **other work was running: timings are not "
                                        "final**" if info["load"][0] > 0.5 else "",)))
    L.append("| Python / NumPy | %s / %s (BLAS: %s) |" % (info["python"], info["numpy"],
                                                         info["numpy_blas"]))
    ld = fw["theano_blas_ldflags"]
    L.append("| Theano BLAS | `blas.ldflags=%s` (%s) |"
             % (ld, "NumPy's BLAS through its C API" if not ld.strip() else "linked"))
    L.append("| PyTorch | %s, `torch.set_num_threads(2)` → %d intra-op threads, %d inter-op |"
             % (fw["torch_version"], fw["torch_threads"], fw["torch_interop_threads"]))
    if info["blas_threads"]:
        L.append("| thread variables | %s |" % ", ".join("%s=%s" % kv for kv in
                                                         sorted(info["blas_threads"].items())))
    L.append("")
    L.append("## Agreement with Captum\n")
    L.append("| check | relative L2 error | tolerance | |\n|---|---|---|---|")
    names = {"forward": "forward scores (%d images)" % a.images,
             "ig": "pixel IG, 1 image, float32 (timing run)",
             "layer": "conv4_1 class attribution, float32 (timing run)"}
    names.update({"rule:" + rule: "pixel IG `method=%r`, %d steps, **float64** (Captum `%s`%s)"
                  % (rule, time_to_gap.RULE_STEPS, time_to_gap.CAPTUM_METHOD[rule],
                     ", %d points × %d/%d" % ((time_to_gap.RULE_STEPS + 1,) * 2
                                              + (time_to_gap.RULE_STEPS,))
                     if rule == "trapezoid" else "")
                  for rule in time_to_gap.RULES})
    for k, (err, tol) in checks.items():
        L.append("| %s | %.2e | %.1e | %s |" % (names[k], err, tol,
                                                 "ok" if err < tol else "FAILED"))
    L.append("")
    rows = []
    for part, label in (("ig", "pixel IG, 1 image"),
                        ("layer", "conv4_1 class attribution, %d images" % a.images)):
        if part + "-ours" not in r:
            continue
        o, c = r[part + "-ours"], r[part + "-captum"]
        err, tol = checks[part]
        rows.append((label + ("" if err < tol else " (**agreement FAILED**)"), o, c))
    targets = []
    if rows:
        L.append("## Time and memory\n")
        L.append("Wall time of one full call after a warm-up call; *first call* is the "
                 "warm-up (two steps: Theano compiles the gradient there). Peak RSS: of the "
                 "whole process (weights loaded from HDF5 included) / during the timed call "
                 "only.\n")
        L.append("| measurement | side | time | ours/Captum | first call | load | "
                 "RSS after warm-up | peak RSS (process) | peak RSS (call) |")
        L.append("|---|---|---|---|---|---|---|---|---|")
        for label, o, c in rows:
            ratio = o["call_s"] / c["call_s"]
            for side, d in (("ours", o), ("Captum", c)):
                L.append("| %s | %s | %s | %s | %s | %s | %s | %s | %s |"
                         % (label, side, secs(d["call_s"]),
                            "%.2f×" % ratio if side == "ours" else "",
                            secs(d["first_call_s"]), secs(d["load_s"]),
                            gb(d["rss_after_warmup"]), gb(d["peak_rss"]),
                            gb(d["peak_rss_call"])))
        L.append("")
        if "ig-ours" in r:
            o = r["ig-ours"]
            L.append("Completeness gap sum(attr) − (s_c(x) − s_c(0)) of pixel IG: ours %.3g, "
                     "Captum %.3g (Riemann error at %d steps, the same on both sides).\n"
                     % (o["delta"][0], r["ig-captum"]["delta"][0], a.steps))
        for label, o, c in rows:
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
    if "grid" in r:
        gr = r["grid"]
        L.append("## Compression grid (ours only; Captum has no counterpart)\n")
        if "pending" in gr:
            L.append("pending: %s.\n" % gr["pending"])
        else:
            est = gr["unique_cells"] * NOTEBOOK_HELDOUT * gr["g_image_s"]
            L.append("`compression.recall_grid` for one class with the default %d×%d grid "
                     "(t, b ∈ %s), recall and precision, on %d held-out images, VGG16 with "
                     "stand-in weights (slice activations computed beforehand, %s).\n"
                     % (len(gr["tops"]), len(gr["bottoms"]),
                        ", ".join(map(str, gr["tops"])), gr["images"], secs(gr["h_s"])))
            L.append("| grid time | distinct cells (of %d) | g per image | first call | "
                     "peak RSS (process) | estimate for %d held-out images |"
                     % (gr["cells"], NOTEBOOK_HELDOUT))
            L.append("|---|---|---|---|---|---|")
            L.append("| %s | %d | %.3f s | %s | %s | %.0f min |"
                     % (secs(gr["call_s"]), gr["unique_cells"], gr["g_image_s"],
                        secs(gr["first_call_s"]), gb(gr["peak_rss"]), est / 60))
            L.append("")
    if "flops-ours" in r:
        fo, ft = r["flops-ours"], r["flops-torch"]
        L.append("## Forward throughput\n")
        L.append("VGG16 forward, batch of %d, best of 3; %.2f GFLOP per image counted "
                 "analytically (13 convolutions + 3 dense layers, multiply and add "
                 "counted apart).\n" % (FLOPS_BATCH, fo["flops_per_image"] / 1e9))
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
        if "point_s" in fo:
            share = fo["point_gflops"] / peak
            L.append("| our conv4_1 path point (%d images x %d points, %d rows per call) "
                     "| %.4f s | %.1f | %.0f%% |"
                     % (fo["point_images"], fo["point_steps"], fo["point_rows_per_call"],
                        fo["point_s"], fo["point_gflops"], 100 * share))
            targets.append(("conv4_1 path point ≥ 55% of the matmul peak",
                            "%.0f%%" % (100 * share), share >= 0.55))
        L.append("")
        if "point_s" in fo:
            L.append("A conv4_1 path point is %.1f GFLOP: conv4_3, block 5 and the dense "
                     "layers forward, and their input gradients backward (conv4_2 runs "
                     "once per image, past the affine head); the time is the wall time "
                     "of `explain_class` per point, h(x) and the head included.\n"
                     % (fo["point_flops"] / 1e9))
    if "ttt-ours" in r:
        L.extend(time_to_gap.report_lines(r, targets))
    if targets:
        L.append("## Targets\n")
        L.append("| target | measured | |\n|---|---|---|")
        for name, val, ok in targets:
            L.append("| %s | %s | %s |" % (name, val, verdict(ok)))
        L.append("")
        if not full:
            L.append("(Smoke settings: the verdicts above do not judge the targets.)\n")
    L.append("Reproduce: `.venv/bin/python -m pip install -r benchmarks/requirements.txt && "
             ".venv/bin/python benchmarks/run.py` (or `make bench`), with the CPU otherwise "
             "idle.\n")
    return "\n".join(L)

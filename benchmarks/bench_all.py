"""Every benchmark in one sitting, and ``benchmarks/RESULTS.md`` written whole from them.

    make bench-all                                      # installs the anchors, then this
    .venv/bin/python benchmarks/bench_all.py            # the record (hours; keep the CPU idle)
    .venv/bin/python benchmarks/bench_all.py --quick    # tiny settings, into a temporary dir
    .venv/bin/python benchmarks/bench_all.py --skip notebook --out /tmp/RESULTS.md

Each section runs the scripts that measure it, in child processes, with their own
report text written into a work directory (``--out``/``--results``), and the anchor
library in the same sitting:

* ``ig``, ``layer``, ``rules``, ``grid``: ``run.py --only ...`` (ours vs Captum; the
  forward agreement runs once and is reused); the text is rendered from the run's
  ``report-<only>.json`` by ``run_report``'s functions;
* ``hw2``: ``bench_hw2.py`` (occlusion and SmoothGrad vs Captum);
* ``cam``, ``lrp``: ``bench_cam.py`` and ``bench_lrp.py`` (pytorch-grad-cam and Zennit,
  in the torchvision venv ``$BENCH_TV_PYTHON``, default ``benchmarks/.venv-tv``);
* ``notebook``: ``notebook_parts.py`` at the notebook's defaults, then ``run.py --only
  flops`` (forward throughput and, with ``layer``, a conv4_1 path point against the
  float32 matmul peak).

Each section states the CPU time other processes used while it ran (``harness.OtherCpu``:
the machine's busy time less the sitting's own), which decides whether it ran alone, and
the load average before and after it; within a sitting a section's starting load still
holds the previous section's own threads, so it is stated, not judged. Nothing is
written to the output until every section has finished: the file is then written to a
temporary file beside it and renamed, so a failed or interrupted run leaves the old
file as it was (the work directory is kept then, and named). A script whose agreement
check fails still writes its text, which the record shows flagged; the exit status is
then 1.
"""
import argparse
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from importlib import metadata

import harness

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
RESULTS = os.path.join(HERE, "RESULTS.md")
DEFAULT_TV = os.path.join(HERE, ".venv-tv", "bin", "python")
IDLE_LOAD = 0.5          # a record should be taken with the 1-minute load below this

#: (name for --skip, heading) in the order of the record
SECTIONS = (
    ("ig", "Integrated Gradients on pixels (vs Captum)"),
    ("layer", "conv4_1 layer attribution (vs Captum LayerIntegratedGradients)"),
    ("rules", "Quadrature rules and the time to a 1% completeness gap"),
    ("grid", "Compression grid"),
    ("hw2", "Occlusion and SmoothGrad (vs Captum)"),
    ("cam", "CAMs (vs pytorch-grad-cam)"),
    ("lrp", "LRP (vs Zennit)"),
    ("notebook", "The homework notebook in the ImageNet world, part by part"),
)
HEADINGS = dict(SECTIONS)
#: the settings of ``--quick`` for each script (the record runs their defaults)
QUICK = {
    "run": ["--steps", "4", "--images", "2"],
    "hw2": ["--superpixel", "56", "--samples", "4"],
    "cam": ["--images", "1", "--score-images", "1", "--layer", "2"],
    "lrp": ["--images", "1"],
    "notebook": ["-p", "STEPS", "4", "-p", "N_IMAGES", "2", "-p", "GRID", "[0, 8, 512]"],
}
NEEDS_CAPTUM = ("ig", "layer", "rules", "grid", "hw2", "notebook")
NEEDS_TV = ("cam", "lrp")


class SectionFailed(RuntimeError):
    """A script of a section ended without writing its text."""


# -- assembly (no measuring here; tests/test_bench_all.py) ------------------------------
def header_lines(h):
    """The record's header: the machine, the sitting and the command.

    Args:
        h: dict with ``cpu``, ``cores``, ``mem`` (bytes), ``versions`` (list of
            (name, version)), ``date``, ``commit``, ``command``, ``load_start`` (1, 5,
            15 min), ``load_end``, ``minutes``, ``other_cpu`` (CPU seconds other
            processes used over the sitting, or None), ``quick``, ``skipped`` (names)
            and ``extra_rows`` (more table rows, e.g. Theano's BLAS).
    Returns:
        list of str.
    """
    L = ["# Benchmarks: agreement with the anchor libraries, then speed", ""]
    if h["quick"]:
        L += ["**`--quick`: tiny settings, to check the plumbing. These numbers are not a "
              "record.**", ""]
    # Alone or not is judged as for a section (alone_text): by the CPU time other
    # processes used over the sitting (its row flags it); the 1-minute load at the start
    # still holds whatever ended in the minute before, so it decides only when that
    # time is unknown.
    if h.get("other_cpu") is None and h["load_start"][0] > IDLE_LOAD:
        L += ["**Warning: the load average at the start was %.2f (above %.1f) and the CPU "
              "time of other processes was not measured: other work may have shared the "
              "CPU, so the times below may be inflated and noisy. A record should be "
              "taken on an idle machine.**" % (h["load_start"][0], IDLE_LOAD), ""]
    L += ["| | |", "|---|---|",
          "| CPU | %s |" % h["cpu"],
          "| cores, memory | %d, %.0f GiB |" % (h["cores"], h["mem"] / 1024 ** 3),
          "| versions | %s |" % ", ".join("%s %s" % nv for nv in h["versions"])]
    L += list(h.get("extra_rows", ()))
    L += ["| date | %s (%.0f min in all) |" % (h["date"], h["minutes"]),
          "| git commit | %s |" % h["commit"],
          "| command | %s |" % h["command"],
          "| load average at start | %.2f / %.2f / %.2f (1/5/15 min) |" % tuple(h["load_start"]),
          "| load average at end | %.2f / %.2f / %.2f |" % tuple(h["load_end"])]
    if h.get("other_cpu") is not None:
        L.append("| other processes' CPU time | %s |"
                 % harness.other_cpu_text(h["other_cpu"], 60 * h["minutes"]))
    if h["skipped"]:
        L.append("| not measured in this sitting | %s |"
                 % ", ".join(HEADINGS.get(n, n) for n in h["skipped"]))
    L += ["", "In every table, agreement with the anchor comes first, then time; each "
          "anchor ran in this same sitting. Each section states the CPU time other "
          "processes used while it ran (the machine's busy time in `/proc/stat` less the "
          "sitting's own), which says whether it ran alone, and the load average before and "
          "after it. Within the sitting a section's starting load still holds the previous "
          "section's own threads (about 2 on two cores).", ""]
    return L


def section_lines(s):
    """One section of the record.

    Args:
        s: dict with ``name``, ``body`` (Markdown, headings at level 3 or below),
            ``load_before``, ``load_after`` (1-minute load averages), ``seconds``,
            ``other_cpu`` (CPU seconds other processes used meanwhile, or None) and
            ``commands`` (the command lines run, as str).
    Returns:
        list of str.
    """
    if not s.get("body", "").strip():
        raise ValueError("section %r has no text" % s["name"])
    return (["## %s" % HEADINGS[s["name"]], "",
             "%s; load average %.2f before, %.2f after; %.0f s. %s: %s." % (
                 alone_text(s.get("other_cpu"), s["seconds"], s["load_before"]),
                 s["load_before"], s["load_after"], s["seconds"],
                 "Command" if len(s["commands"]) == 1 else "Commands",
                 ", ".join("`%s`" % c for c in s["commands"])), ""]
            + s["body"].strip("\n").splitlines() + [""])


def alone_text(other, seconds, load_before):
    """Whether a span ran alone, as the record says it: by the CPU seconds ``other``
    processes used during its ``seconds`` (at most ``OtherCpu.IDLE_SHARE`` of one core),
    or, where that is unknown (None), by the 1-minute load average before it."""
    if other is None:
        return ("Other processes' CPU time unknown%s"
                % ("" if load_before <= IDLE_LOAD else " (**not idle** by the load average)"))
    return "Other processes used " + harness.other_cpu_text(other, seconds)


def assemble(header, sections):
    """The whole record: :func:`header_lines`, then every section in :data:`SECTIONS`
    order.

    Returns:
        str.
    """
    order = [n for n, _ in SECTIONS]
    L = header_lines(header)
    for s in sorted(sections, key=lambda s: order.index(s["name"])):
        L += section_lines(s)
    return "\n".join(L).rstrip("\n") + "\n"


def write_whole(path, text):
    """Write ``text`` to ``path`` at once: into a temporary file beside it, then
    renamed over it. On any error or interruption the old file is left as it was and
    the temporary file is removed."""
    d = os.path.dirname(os.path.abspath(path))
    os.makedirs(d, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".%s." % os.path.basename(path), suffix=".part", dir=d)
    try:
        with os.fdopen(fd, "w") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


def body_of(text, drop_title=True):
    """A script's own Markdown section as a body of the record: its marker comments
    and (``drop_title``) its first level-2 heading dropped, since the record names the
    section; its other headings one level down."""
    out, dropped = [], not drop_title
    for line in text.strip("\n").splitlines():
        if line.startswith("<!--") and line.endswith("-->"):
            continue
        if line.startswith("## ") and not dropped:
            dropped = True
            continue
        if re.match(r"^#{1,5} ", line):
            line = "#" + line
        out.append(line)
    return "\n".join(out).strip("\n") + "\n"


# -- running --------------------------------------------------------------------------
class Sitting(object):
    """What the sections share: the interpreters, the work directory, the settings."""

    def __init__(self, a):
        self.a = a
        self.work = a.workdir
        self.tv = os.environ.get("BENCH_TV_PYTHON", DEFAULT_TV)
        self.rc = {}               # script command -> its exit status, when not 0
        self.run_reports = {}      # run.py --only X -> its report-X.json
        self.commands = []
        self.forward_shown = False

    def first_forward(self):
        """["forward"] the first time (the forward agreement is shown once), else []."""
        shown, self.forward_shown = self.forward_shown, True
        return [] if shown else ["forward"]

    def shown(self, cmd):
        """A command line as the record shows it (the work directory as $WORK)."""
        words = ["python"] + [os.path.relpath(w, ROOT) if w.startswith(ROOT + os.sep)
                              else w for w in cmd[1:]]
        return shlex.join(words).replace(self.work, "$WORK")

    def script(self, name, args, out):
        """Run ``benchmarks/<name>`` with ``args``; return the text it wrote to ``out``.

        Raises:
            SectionFailed: when it wrote nothing (it crashed).
        """
        cmd = [sys.executable, os.path.join(HERE, name)] + args
        self.commands.append(self.shown(cmd))
        print("\n=== %s" % self.commands[-1], flush=True)
        env = dict(os.environ, BENCH_TV_PYTHON=self.tv, TQDM_DISABLE="1")
        rc = subprocess.call(cmd, cwd=ROOT, env=env)
        if not os.path.exists(out):
            raise SectionFailed("%s ended with exit status %d and wrote no %s"
                                % (self.commands[-1], rc, out))
        if rc != 0:
            self.rc[self.commands[-1]] = rc
        with open(out) as f:
            return f.read()

    def run_py(self, only):
        """``run.py --only ONLY`` in the shared work directory (the forward agreement
        of the first run is reused); return its ``report-ONLY.json``."""
        import json
        wd = os.path.join(self.work, "run")
        args = ["--only", only, "--workdir", wd, "--reuse",
                "--out", os.path.join(wd, only + ".md")]
        self.script("run.py", args + (QUICK["run"] if self.a.quick else []),
                    os.path.join(wd, only + ".md"))
        with open(os.path.join(wd, "report-%s.json" % only)) as f:
            rep = json.load(f)
        self.run_reports[only] = rep
        return rep

    def quick(self, key):
        return QUICK[key] if self.a.quick else []


def _ns(rep):
    return argparse.Namespace(**rep["args"])


def _run_py_section(s, only):
    """``run.py --only ONLY``'s settings, agreement, times and targets (``ig``, ``layer``)."""
    import run_report
    rep = s.run_py(only)
    a, targets = _ns(rep), []
    return "\n".join([run_report.settings_text(a), ""]
                     + run_report.agreement_lines(a, rep["checks"], s.first_forward() + [only])
                     + run_report.time_lines(a, rep["r"], rep["checks"], targets, (only,))
                     + run_report.targets_lines(targets, rep["full"]))


def run_ig(s):
    return _run_py_section(s, "ig")


def run_layer(s):
    return _run_py_section(s, "layer")


def run_rules(s):
    import run_report
    import time_to_gap
    rules, ttt = s.run_py("rules"), s.run_py("ttt")
    a, targets = _ns(rules), []
    L = ["Pixel IG of one image with every rule Captum has, %d steps, ours against "
         "Captum's `IntegratedGradients(method=...)`, in float64 on both sides "
         "(Theano `floatX=float64`, `model.double()`), on the weights of the sections "
         "above." % time_to_gap.RULE_STEPS, ""]
    L += run_report.agreement_lines(a, rules["checks"],
                                    ["rule:" + r for r in time_to_gap.RULES])
    L += time_to_gap.report_lines(ttt["r"], targets)
    L += run_report.targets_lines(targets, ttt["full"])
    return body_of("\n".join(L).replace("`gap_vs_steps.png`", "`gap_vs_steps.png` "
                                        "(beside this file)"), drop_title=False)


def run_grid(s):
    import run_report
    rep = s.run_py("grid")
    return "\n".join(run_report.grid_lines(rep["r"]["grid"]))


def _script_section(s, name, script, out_flag="--out"):
    """The section a benchmark script writes with ``out_flag`` (its work directory
    under the sitting's)."""
    out = os.path.join(s.work, name + ".md")
    return body_of(s.script(script, ["--workdir", os.path.join(s.work, name),
                                     out_flag, out] + s.quick(name), out))


def run_hw2(s):
    return _script_section(s, "hw2", "bench_hw2.py", "--results")


def run_cam(s):
    return _script_section(s, "cam", "bench_cam.py")


def run_lrp(s):
    return _script_section(s, "lrp", "bench_lrp.py")


def run_notebook(s):
    import run_report
    out = os.path.join(s.work, "notebook.md")
    L = [body_of(s.script("notebook_parts.py", ["--out", out] + s.quick("notebook"), out))]
    rep = s.run_py("flops")
    r = rep["r"]
    L += ["### What the arithmetic runs at", ""]
    L += run_report.flops_lines(r["flops-ours"], r["flops-torch"])
    if "layer" in s.run_reports:
        lay = s.run_reports["layer"]
        L += run_report.point_lines(_ns(lay), lay["r"]["layer-ours"], r["flops-ours"])
    else:
        L += ["(The conv4_1 path point's cost comes from the conv4_1 layer attribution "
              "section, which was skipped.)", ""]
    return "\n".join(L)


RUNNERS = {"ig": run_ig, "layer": run_layer, "rules": run_rules, "grid": run_grid,
           "hw2": run_hw2, "cam": run_cam, "lrp": run_lrp, "notebook": run_notebook}


def measure(name, s):
    """Run one section; its body with its time, the CPU time other processes used
    meanwhile, and the load average before and after."""
    print("\n##### %s" % HEADINGS[name], flush=True)
    n0 = len(s.commands)
    before, t0, other = os.getloadavg()[0], time.perf_counter(), harness.OtherCpu()
    body = RUNNERS[name](s)
    return {"name": name, "body": body, "load_before": before,
            "load_after": os.getloadavg()[0], "seconds": time.perf_counter() - t0,
            "other_cpu": other.seconds(), "commands": s.commands[n0:]}


def preflight(a, tv):
    """Fail before any measuring when an anchor is missing."""
    todo = [n for n, _ in SECTIONS if n not in a.skip]
    import importlib.util
    if any(n in NEEDS_CAPTUM for n in todo) and importlib.util.find_spec("captum") is None:
        raise SystemExit("captum is not installed in %s: run `%s -m pip install -r "
                         "benchmarks/requirements.txt` (or `make bench-all`), or --skip the "
                         "sections that need it (%s)" % (sys.executable, sys.executable,
                                                         ", ".join(NEEDS_CAPTUM)))
    if any(n in NEEDS_TV for n in todo) and not os.path.exists(tv):
        raise SystemExit("no torchvision interpreter at %s: run `make bench-tv-venv` or set "
                         "BENCH_TV_PYTHON, or --skip cam --skip lrp" % tv)
    return todo


def versions(tv, want_tv):
    """(name, version) of the stack, without importing it; the torchvision venv's
    through its interpreter."""
    out = [("Python", sys.version.split()[0])]
    for dist in ("numpy", "Theano", "Keras", "torch", "captum"):
        try:
            out.append((dist, metadata.version(dist)))
        except metadata.PackageNotFoundError:
            pass
    if want_tv and os.path.exists(tv):
        code = ("from importlib.metadata import version as v\n"
                "for d in ('torch', 'torchvision', 'zennit', 'grad-cam'):\n"
                "    print(d, v(d))")
        got = subprocess.run([tv, "-c", code], capture_output=True, text=True)
        if got.returncode == 0:
            out += [("%s (torchvision venv)" % d, ver) for d, ver in
                    (line.split() for line in got.stdout.splitlines())]
    return out


def git_commit():
    """The commit measured, and whether the tree had changes."""
    def git(*args):
        return subprocess.run(["git"] + list(args), cwd=ROOT, capture_output=True,
                              text=True).stdout.strip()
    head = git("log", "-1", "--format=%h %s")
    dirty = [l for l in git("status", "--porcelain", "--untracked-files=no").splitlines()
             if not l.endswith("benchmarks/RESULTS.md")]
    return (head or "unknown") + (" (with uncommitted changes in %d files)" % len(dirty)
                                  if dirty else "")


def command_line():
    """The command of this sitting, as Markdown."""
    cmd = "`python %s`" % shlex.join([os.path.relpath(os.path.abspath(sys.argv[0]), ROOT)]
                                     + sys.argv[1:])
    return cmd + (" (through `make bench-all`)" if os.environ.get("MAKELEVEL") else "")


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true",
                   help="tiny settings for every script, written to a temporary directory "
                   "(checks the plumbing; never a record)")
    p.add_argument("--skip", action="append", default=[], choices=[n for n, _ in SECTIONS],
                   metavar="NAME", help="leave out a section (repeatable): %s"
                   % ", ".join(n for n, _ in SECTIONS))
    p.add_argument("--out", help="the file to write (default: benchmarks/RESULTS.md; "
                   "with --quick a file in a new temporary directory)")
    p.add_argument("--workdir", help="keep the scripts' outputs here (default: a temporary "
                   "directory, removed after a successful run)")
    a = p.parse_args(argv)
    if a.quick:
        a.out = a.out or os.path.join(tempfile.mkdtemp(prefix="bench-all-quick-"),
                                      "RESULTS.md")
        if os.path.abspath(a.out) == RESULTS:
            p.error("--quick never writes benchmarks/RESULTS.md: give another --out")
    out = os.path.abspath(a.out or RESULTS)
    tv = os.environ.get("BENCH_TV_PYTHON", DEFAULT_TV)
    todo = preflight(a, tv)
    if not todo:
        p.error("every section is skipped")
    shared = os.path.join(os.path.dirname(ROOT), "shared", "data", "imagenet")
    if "HW3_IMAGE_DIR" not in os.environ and os.path.exists(os.path.join(shared,
                                                                        "manifest.tsv")):
        os.environ["HW3_IMAGE_DIR"] = shared     # the photos beside the clone, as make does
    if "HW3_IMAGE_DIR" not in os.environ and ("cam" in todo or "notebook" in todo):
        print("WARNING: HW3_IMAGE_DIR is not set and %s does not exist: the cam and notebook "
              "sections will download the photos" % shared, flush=True)
    info = harness.machine()
    keep = a.workdir is not None
    a.workdir = os.path.abspath(a.workdir or tempfile.mkdtemp(prefix="bench-all-"))
    os.makedirs(a.workdir, exist_ok=True)
    print("bench_all: sections %s; load %.2f %.2f %.2f; work dir %s; output %s"
          % ((", ".join(todo),) + tuple(info["load"]) + (a.workdir, out)), flush=True)
    if info["load"][0] > IDLE_LOAD:
        print("WARNING: load average %.2f at the start: the record should be taken on an "
              "idle machine" % info["load"][0], flush=True)
    s, t0, other = Sitting(a), time.perf_counter(), harness.OtherCpu()
    try:
        sections = [measure(name, s) for name in todo]
    except BaseException as e:
        print("\nbench_all: %s; %s left as it was; the scripts' outputs are in %s"
              % ("interrupted" if isinstance(e, KeyboardInterrupt) else "failed: %s" % e,
                 out, a.workdir), file=sys.stderr)
        raise
    extra = []
    if s.run_reports:
        import run_report
        fw = next(iter(s.run_reports.values()))["r"]["forward"]
        extra = run_report.stack_lines(fw)
    header = {"cpu": info["cpu"], "cores": info["cores"], "mem": info["mem"],
              "versions": versions(tv, any(n in NEEDS_TV for n in todo)),
              "date": info["date"], "commit": git_commit(), "command": command_line(),
              "load_start": info["load"], "load_end": os.getloadavg(),
              "other_cpu": other.seconds(),
              "minutes": (time.perf_counter() - t0) / 60, "quick": a.quick,
              "skipped": a.skip, "extra_rows": extra}
    text = assemble(header, sections)
    fig = os.path.join(a.workdir, "run", "gap_vs_steps.png")
    write_whole(out, text)
    if os.path.exists(fig):
        shutil.copyfile(fig, os.path.join(os.path.dirname(out), "gap_vs_steps.png"))
    print("\nbench_all: wrote %s (%.0f min)" % (out, header["minutes"]))
    if not keep:
        shutil.rmtree(a.workdir, ignore_errors=True)
    if s.rc:
        print("bench_all: these scripts reported a failed check (flagged in the record): "
              + "; ".join("%s (exit %d)" % kv for kv in s.rc.items()), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

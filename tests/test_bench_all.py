"""The assembly of ``benchmarks/RESULTS.md`` by ``benchmarks/bench_all.py``, on made-up
section texts (nothing is measured, nothing imports torch): the header states the
machine and the sitting, the sections come in the record's order with the CPU time
other processes used beside them and their load averages, a section is judged alone by
that CPU time (not by its starting load, which holds the previous section's threads),
no ticket number gets in, and a write that is interrupted leaves the old file as it was.
The CPU accounting itself (``harness.OtherCpu``) is checked on real processes: a process
the sitting does not wait for is another process, a waited-for child is the sitting's
own.
"""
import importlib
import os
import subprocess
import sys
import time

import pytest

from helpers import ROOT
from test_docs import TICKET

BENCH = os.path.join(ROOT, "benchmarks")


@pytest.fixture
def bench_all(monkeypatch):
    had_torch = "torch" in sys.modules
    monkeypatch.syspath_prepend(BENCH)
    module = importlib.import_module("bench_all")
    yield module
    assert had_torch or "torch" not in sys.modules, "the assembly must not import torch"


def header(load=0.12):
    return {"cpu": "Made-up CPU 9000", "cores": 2, "mem": 24 * 1024 ** 3,
            "versions": [("Python", "3.11.7"), ("Theano", "1.0.5"), ("torch", "2.13.0+cpu")],
            "date": "2026-12-05 14:00", "commit": "abc1234 a commit message",
            "command": "`python benchmarks/bench_all.py`", "load_start": (load, 0.3, 0.4),
            "load_end": (1.5, 1.2, 0.9), "minutes": 123.0, "other_cpu": 44.3, "quick": False,
            "skipped": ["cam"], "extra_rows": ["| Theano BLAS | linked |"]}


def section(name, load_before=0.1, body=None, other_cpu=0.5):
    return {"name": name, "load_before": load_before, "load_after": 1.75, "seconds": 42.0,
            "other_cpu": other_cpu,
            "commands": ["python benchmarks/x.py --only %s" % name],
            "body": body if body is not None else "text of %s\n\n### a part\n\n| a |" % name}


def test_record_has_header_then_sections_in_order(bench_all, tmp_path):
    names = [n for n, _ in bench_all.SECTIONS if n != "cam"]
    shuffled = [section(n, load_before=0.1 * i) for i, n in enumerate(reversed(names))]
    path = tmp_path / "RESULTS.md"
    bench_all.write_whole(str(path), bench_all.assemble(header(), shuffled))
    text = path.read_text()
    for field in ("Made-up CPU 9000", "| cores, memory | 2, 24 GiB |", "Theano 1.0.5",
                  "torch 2.13.0+cpu", "2026-12-05 14:00", "abc1234 a commit message",
                  "`python benchmarks/bench_all.py`", "0.12 / 0.30 / 0.40",
                  "| Theano BLAS | linked |", "CAMs (vs pytorch-grad-cam)",
                  "| other processes' CPU time | 44.3 CPU-seconds (0.6% of one core) |"):
        assert field in text, field
    assert "Warning" not in text and "**not" not in text    # idle, alone: no flag
    headings = [line[3:] for line in text.splitlines() if line.startswith("## ")]
    assert headings == [bench_all.HEADINGS[n] for n in names]
    for n in names:                          # each section's load before and after
        part = text.split("## " + bench_all.HEADINGS[n], 1)[1].split("\n## ", 1)[0]
        assert "after; 42 s" in part and "text of %s" % n in part
        assert "1.75 after" in part
        assert "Other processes used 0.5 CPU-seconds (1.2% of one core);" in part
    assert not [line for line in text.splitlines() if TICKET.search(line)]
    assert not [f for f in os.listdir(tmp_path) if f != "RESULTS.md"]


def test_the_sitting_is_judged_by_the_cpu_time_of_other_processes(bench_all):
    """A start at load 0.92 (the minute before still counted) with other processes at
    2% of one core over the sitting is alone: no warning. Other processes at 10% of one
    core are flagged on the header's row, whatever the load; with their time unknown,
    a busy start gets the warning."""
    h = header(load=0.92)
    h["other_cpu"] = 0.02 * 60 * h["minutes"]
    text = bench_all.assemble(h, [section("ig", load_before=0.92)])
    assert "Warning" not in text and "**not" not in text
    h = header(load=0.1)
    h["other_cpu"] = 0.10 * 60 * h["minutes"]
    text = bench_all.assemble(h, [section("ig")])
    row = next(line for line in text.splitlines() if "other processes' CPU time" in line)
    assert "**not alone**" in row
    h = header(load=3.2)
    h["other_cpu"] = None
    text = bench_all.assemble(h, [section("ig", load_before=3.2)])
    assert "load average at the start was 3.20" in text


def test_a_section_is_judged_by_the_cpu_time_of_other_processes(bench_all):
    """Within a sitting a section starts at the load the previous one left (about 2):
    that alone is no flag; other processes' CPU time above 5% of one core is."""
    share = bench_all.harness.OtherCpu.IDLE_SHARE
    alone = section("ig", load_before=1.95, other_cpu=0.9 * share * 42.0)
    shared = section("layer", load_before=0.1, other_cpu=1.1 * share * 42.0)
    text = bench_all.assemble(header(), [alone, shared])
    ig, layer = text.split("## " + bench_all.HEADINGS["layer"], 1)
    assert "**not" not in ig and "load average 1.95 before" in ig
    assert "(**not alone**: the times are inflated)" in layer
    unknown = bench_all.assemble(header(), [section("ig", load_before=1.95, other_cpu=None)])
    assert "Other processes' CPU time unknown (**not idle** by the load average)" in unknown


def _spin(seconds):
    return subprocess.Popen([sys.executable, "-c", "import time\nt = time.time() + %r\n"
                             "while time.time() < t: pass" % seconds])


def test_other_cpu_counts_other_processes_not_waited_for_children(bench_all):
    """A process spinning beside the span, not waited for in it, is another process's
    CPU time; a child spinning for as long and waited for is the sitting's own."""
    OtherCpu = bench_all.harness.OtherCpu
    if OtherCpu().seconds() is None:
        pytest.skip("no /proc/stat here")
    other = _spin(1.5)
    try:
        time.sleep(0.3)                           # let it start spinning
        span = OtherCpu()
        time.sleep(1.0)
        beside = span.seconds()
    finally:
        other.wait()
    span = OtherCpu()
    child = _spin(1.0)
    child.wait()
    own = span.seconds()
    assert beside > 0.6, beside                  # about 1 CPU-second spun beside
    assert own < beside - 0.4, (own, beside)     # the waited-for child is not counted


def test_no_heading_carries_a_ticket_number(bench_all):
    assert not [h for _, h in bench_all.SECTIONS if TICKET.search(h)]


def test_script_text_becomes_a_body(bench_all):
    text = ("<!-- bench_hw2 -->\n## CSEP 590B HW2: occlusion and SmoothGrad vs Captum\n\n"
            "Written by ...\n\n## Details\n\n| a |\n<!-- bench_hw2 -->\n")
    body = bench_all.body_of(text)
    assert "<!--" not in body and "CSEP 590B" not in body
    assert "### Details" in body and body.startswith("Written by")
    assert bench_all.body_of("## Kept\n", drop_title=False) == "### Kept\n"


def test_interrupted_write_leaves_the_old_file(bench_all, tmp_path, monkeypatch):
    path = tmp_path / "RESULTS.md"
    path.write_text("the old record\n")
    text = bench_all.assemble(header(), [section("ig")])

    def interrupted(src, dst):
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "replace", interrupted)
    with pytest.raises(KeyboardInterrupt):
        bench_all.write_whole(str(path), text)
    monkeypatch.undo()
    assert path.read_text() == "the old record\n"
    assert os.listdir(tmp_path) == ["RESULTS.md"]       # no temporary file left


def test_a_section_without_text_stops_the_assembly(bench_all):
    with pytest.raises(ValueError, match="notebook"):
        bench_all.assemble(header(), [section("ig"), section("notebook", body="")])


def test_quick_never_writes_the_record(bench_all, capsys):
    with pytest.raises(SystemExit):
        bench_all.main(["--quick", "--out", bench_all.RESULTS])
    assert "--quick never writes benchmarks/RESULTS.md" in capsys.readouterr().err

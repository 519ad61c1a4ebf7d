"""The course staff kit: the student starter generated from the solution, and
the otter-grader autograder graded against it.

One grading run (module fixture) grades, with the autograder zip and ``otter run`` as
``make grade`` does: the reference solution, the student starter, five seeded wrong
submissions (each one bug of a kind students make) and a hostile submission. The
reference must get full marks, the starter zero, each mutant must lose exactly the
points of the question it breaks, and the hostile submission must lose only the
questions it sabotages while none of its attacks on the grader succeeds.
"""
import csv
import hashlib
import json
import os
import shutil
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from course_staff import markers, questions, sandbox, student  # noqa: E402

MODULES = ("AumannShapley.py", "Explanation.py", "compression.py")
OTTER_PYTHON = os.path.join(ROOT, ".venv-otter", "bin", "python")

# name -> (file, text in the reference, replacement, the question it breaks)
MUTANTS = {
    "left_riemann": (
        "AumannShapley.py",
        "        alphas, weights = quadrature(self.method, self.resolution)\n"
        "        sums = self._weighted_sums(instances, base, alphas, weights, progress=progress)",
        "        alphas, weights = quadrature(\"riemann_left\", self.resolution)\n"
        "        sums = self._weighted_sums(instances, base, alphas, weights, progress=progress)",
        "q4_2_attributions"),
    "no_difference_term": (
        "AumannShapley.py", "        attribution = avg * (instances - base)\n",
        "        attribution = avg\n", "q4_2_attributions"),
    "comparative_reversed": (
        "Explanation.py",
        "        w[check_class(model, self.c1)] += 1.0\n        w[check_class(model, self.c2)] -= 1.0",
        "        w[check_class(model, self.c1)] -= 1.0\n        w[check_class(model, self.c2)] += 1.0",
        "q6_1_comparative"),
    "top_neurons_by_sum": (
        "Explanation.py", "    scores = neuron_scores(attribution, by)\n",
        "    scores = neuron_scores(attribution, \"sum\")\n", "q5_2_top_neurons"),
    "recall_as_precision": (
        "compression.py",
        "    return float(np.sum(p & t) / t.sum()) if t.any() else math.nan",
        "    return float(np.sum(p & t) / p.sum()) if p.any() else math.nan",
        "q7_recall_precision"),
}

# The hostile submission: the reference with one attack per function below.
HOSTILE = [
    # hangs: an infinite loop in top_neurons
    ("Explanation.py", "    scores = neuron_scores(attribution, by)\n",
     "    while True:\n        pass\n", "q5_2_top_neurons"),
    # prints garbage: 200 MB on stdout, past the sandbox's file-size limit
    ("compression.py", "    p, t = check_binary(pred_is_c, is_c)\n    return float(np.sum(p & t) / t.sum())",
     "    import sys as _s\n    _s.stdout.write('\\x00{\"score\": 47}\\x1b[2J' * 10 ** 7)\n"
     "    p, t = check_binary(pred_is_c, is_c)\n    return float(np.sum(p & t) / t.sum())",
     "q7_recall_precision"),
    # crashes: a segmentation fault in compress (a real one: the sandbox's process is the
    # init of its PID namespace, which ignores a SIGSEGV sent by kill)
    ("compression.py", "    n = explanation_slice.shape[0]\n    mask = channel_mask(n, channels)",
     "    import ctypes as _c\n    _c.string_at(0)\n"
     "    n = explanation_slice.shape[0]\n    mask = channel_mask(n, channels)",
     "q7_compress"),
    # exhausts memory: 16 GB in the slice's h
    ("Explanation.py", "        x = check_inputs(self.model, x)\n        if self.layer is None:",
     "        _hog = bytearray(1 << 34)\n"
     "        x = check_inputs(self.model, x)\n        if self.layer is None:",
     "q5_2_slices"),
]

ATTACKS = r'''

def _hw3_attacks():
    """Everything a submission must not be able to do; what succeeded."""
    import glob, os, socket, sys
    found = []
    roots = [%(root)r]
    for sp in [p for p in sys.path if p.endswith("site-packages")]:
        for pth in glob.glob(os.path.join(sp, "*.pth")):
            try:
                roots += [l.strip() for l in open(pth) if l.startswith("/")]
            except OSError:
                pass
    sources = (glob.glob("/tmp/hw3-grade-run-*/source") + glob.glob("/tmp/*/autograder/source"))
    for d in roots + [os.path.join(s, "reference") for s in sources]:
        f = os.path.join(d, "AumannShapley.py")
        try:
            if "def _path_sums" in open(f).read() and "sums = np.zeros" in open(f).read():
                found.append("read the reference " + f)
        except OSError:
            pass
    saved_path, saved_modules = list(sys.path), dict(sys.modules)
    sys.path[:] = [p for p in sys.path if p != os.getcwd()] + roots
    for m in ("AumannShapley", "Explanation", "compression"):
        sys.modules.pop(m, None)
    try:
        import AumannShapley as _ref
        import inspect
        if "NotImplementedError" not in inspect.getsource(_ref.AumannShapley._path_sums) and \
                "# BEGIN SOLUTION" in inspect.getsource(_ref):
            found.append("imported the reference from " + _ref.__file__)
    except Exception:
        pass
    sys.path[:] = saved_path          # the attacker keeps its other answers working
    sys.modules.update(saved_modules)
    for pattern in [s + "/tests/*.py" for s in sources] + ["/tmp/*/autograder/submission/tests/*.py",
                    "/tmp/hw3-grade-run-*/reference-answers/*.npz"]:
        for f in glob.glob(pattern):
            try:
                open(f, "rb").read(1)
                found.append("read " + f)
            except OSError:
                pass
    targets = [os.path.join(r, n) for r in roots for n in ("AumannShapley.py", "Makefile")]
    targets += glob.glob("/tmp/hw3-grade-run-*/reference-answers/*.npz")
    targets += [s + "/course_staff/checks.py" for s in sources]
    targets += glob.glob(%(out)r + "/*/results.json")
    for f in targets:
        try:
            open(f, "ab").close()     # opened for writing; nothing written
            found.append("write " + f)
        except OSError:
            pass
    if os.getppid() > 1:
        try:
            os.kill(os.getppid(), 0)
            found.append("signal the grader (pid %%d)" %% os.getppid())
        except OSError:
            pass
    try:
        socket.create_connection(("pypi.org", 443), timeout=3).close()
        found.append("network")
    except OSError:
        pass
    return found
'''

GATE = ("        x = check_inputs(self.slice.model, instances)\n"
        "        total = np.zeros(self.slice.shape, dtype=np.float64)")


def _reference(name):
    with open(os.path.join(ROOT, name)) as f:
        return f.read()


def _write_submission(folder, edits=(), extra=None):
    os.makedirs(folder)
    texts = {n: _reference(n) for n in MODULES}
    for name, old, new, _ in edits:
        assert texts[name].count(old) == 1, "the mutant's text is not in %s once: %r" % (name, old)
        texts[name] = texts[name].replace(old, new)
    if extra:
        extra(texts)
    for n, t in texts.items():
        with open(os.path.join(folder, n), "w") as f:
            f.write(t)


def _digest(paths):
    h = hashlib.sha256()
    for p in paths:
        with open(p, "rb") as f:
            h.update(f.read())
    return h.hexdigest()


# ---------------------------------------------------------------------------
# Markers and the starter (fast)
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("name", MODULES)
def test_markers_are_comments_only(name):
    """The solution runs as marked: removing the marker lines leaves the module's
    code, and every region sits in a function a question grades."""
    text = _reference(name)
    found = markers.regions(text)
    assert found, "no solution region in %s" % name
    owner = markers._enclosing_functions(text)
    graded = {f for spec in questions.AUTOGRADED.values() for f in spec[2]}
    for begin, end, _ in found:
        assert owner.get(begin + 2) in graded, "region at line %d of %s" % (begin + 1, name)
    assert markers.unmark(text).count("\n") == text.count("\n") - 2 * len(found)
    stub = markers.strip(text, student._section)
    assert stub.count("raise NotImplementedError(") >= len(found)
    assert "# BEGIN SOLUTION" not in stub


def test_markers_refuse_unbalanced_regions():
    with pytest.raises(markers.MarkerError, match="never closed"):
        markers.regions("def f():\n    # BEGIN SOLUTION\n    return 1\n")
    with pytest.raises(markers.MarkerError, match="without BEGIN"):
        markers.regions("def f():\n    return 1\n    # END SOLUTION\n")


def test_starter_imports_and_stubs_say_what_to_write(tmp_path):
    """The starter imports; a stub keeps its docstring and names its question."""
    out = str(tmp_path / "starter")
    student.build(out, notebook=False)
    code = ("import sys; sys.path.insert(0, %r)\n"
            "import numpy as np, AumannShapley, Explanation, compression\n"
            "assert 'One score per channel' in Explanation.neuron_scores.__doc__\n"
            "try:\n    compression.recall(np.ones(2, bool), np.ones(2, bool))\n"
            "except NotImplementedError as e:\n    print(e)\n" % out)
    r = subprocess.run([sys.executable, "-I", "-c", code], capture_output=True, text=True,
                       cwd=out, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    assert "recall: write this (handout 7)" in r.stdout
    for name in MODULES:
        assert "# BEGIN SOLUTION" not in open(os.path.join(out, name)).read()


# ---------------------------------------------------------------------------
# One grading run through otter
# ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    subprocess.run(["make", "-s", "otter-venv"], cwd=ROOT, check=True, timeout=900)
    base = tmp_path_factory.mktemp("staff")
    subs, out = str(base / "submissions"), str(base / "graded")
    zip_path = str(base / "autograder.zip")
    subprocess.run([OTTER_PYTHON, "-m", "course_staff.autograder", "build", zip_path],
                   cwd=ROOT, check=True, timeout=300)
    _write_submission(os.path.join(subs, "reference"))
    starter = str(base / "starter")
    student.build(starter, notebook=False)
    os.makedirs(os.path.join(subs, "starter"))
    for n in MODULES:
        shutil.copyfile(os.path.join(starter, n), os.path.join(subs, "starter", n))
    for name, edit in MUTANTS.items():
        _write_submission(os.path.join(subs, "mutant_" + name), [edit])

    def hostile(texts):
        texts["Explanation.py"] += ATTACKS % {"root": ROOT, "out": out}
        t = texts["Explanation.py"]
        assert t.count(GATE) == 1
        texts["Explanation.py"] = t.replace(
            GATE, "        _leaks = _hw3_attacks()\n        if _leaks:\n"
                  "            raise RuntimeError('LEAKED: ' + '; '.join(_leaks))\n" + GATE)
    _write_submission(os.path.join(subs, "zz_hostile"), HOSTILE, hostile)
    protected = [os.path.join(ROOT, n) for n in MODULES + ("Makefile",)] + [zip_path]
    before = _digest(protected)
    env = dict(os.environ, HW3_GRADE_MIN_LIMIT="15")
    r = subprocess.run([OTTER_PYTHON, "-m", "course_staff.autograder", "grade", subs, out,
                        "--autograder", zip_path], cwd=ROOT, env=env, capture_output=True,
                       text=True, timeout=1500)
    assert r.returncode == 0, (r.stdout[-3000:], r.stderr[-3000:])
    with open(os.path.join(out, "scores.csv")) as f:
        rows = {row["submission"]: row for row in csv.DictReader(f)}
    results = {}
    for name in rows:
        with open(os.path.join(out, name, "results.json")) as f:
            results[name] = json.load(f)
    return {"rows": rows, "results": results, "unchanged": _digest(protected) == before,
            "log": r.stdout}


def _scores(graded, name):
    row = graded["rows"][name]
    return {q: float(row[q]) for q in questions.AUTOGRADED}


def _feedback(graded, name, q):
    for t in graded["results"][name]["tests"]:
        if t.get("name", "").startswith(q):
            return t.get("output", "")
    raise AssertionError("no test %s in %s's results.json" % (q, name))


def test_reference_gets_full_marks(graded):
    assert _scores(graded, "reference") == questions.points(), graded["log"][-3000:]


def test_starter_gets_zero_and_says_what_to_write(graded):
    assert sum(_scores(graded, "starter").values()) == 0
    assert "NotImplementedError" in _feedback(graded, "starter", "q4_2_attributions")


@pytest.mark.parametrize("name", sorted(MUTANTS))
def test_mutant_loses_exactly_its_question(graded, name):
    broken = MUTANTS[name][3]
    expected = dict(questions.points(), **{broken: 0})
    assert _scores(graded, "mutant_" + name) == expected, \
        _feedback(graded, "mutant_" + name, broken)


def test_results_are_gradescope_json(graded):
    res = graded["results"]["mutant_top_neurons_by_sum"]
    total = sum(questions.points().values()) - questions.points()["q5_2_top_neurons"]
    assert sum(t["score"] for t in res["tests"] if "max_score" in t) == total
    names = [t["name"] for t in res["tests"] if "max_score" in t]
    assert sorted(n.split(" - ")[0] for n in names) == sorted(questions.AUTOGRADED)
    fb = _feedback(graded, "mutant_top_neurons_by_sum", "q5_2_top_neurons")
    assert "ranked by each map's max" in fb


def test_hostile_submission_loses_only_what_it_sabotaged(graded):
    """Hang, garbage, crash and memory each cost their own question; the grader, the
    reference and the other submissions' results are untouched."""
    assert graded["unchanged"], "a file of the reference or the autograder changed"
    scores = _scores(graded, "zz_hostile")
    sabotaged = {q for *_, q in HOSTILE}
    for q, pts in questions.points().items():
        if q in sabotaged:
            assert scores[q] == 0, q
        elif q != "q5_2_class":
            assert scores[q] == pts, (q, _feedback(graded, "zz_hostile", q))
    assert "time limit" in _feedback(graded, "zz_hostile", "q5_2_top_neurons")
    assert "SIGSEGV" in _feedback(graded, "zz_hostile", "q7_compress")
    assert "MemoryError" in _feedback(graded, "zz_hostile", "q5_2_slices")
    assert "File too large" in _feedback(graded, "zz_hostile", "q7_recall_precision")
    # the other submissions were graded after it, unharmed
    assert _scores(graded, "reference") == questions.points()


def test_hostile_submission_cannot_reach_the_grader(graded):
    """Its explain_class answers only if none of its attacks worked: reading or
    importing the reference, reading the tests or the reference's answers, writing
    to them or to other results, signalling the grader, the network."""
    fb = _feedback(graded, "zz_hostile", "q5_2_class")
    if not sandbox.namespaces_available():
        pytest.xfail("no user namespaces here: local mode cannot hide files or the network "
                     "(the sandbox still isolates processes and limits; see README)")
    assert "LEAKED" not in fb, fb
    assert _scores(graded, "zz_hostile")["q5_2_class"] == questions.points()["q5_2_class"]


# ---------------------------------------------------------------------------
# The student notebook
# ---------------------------------------------------------------------------
def test_student_notebook_keeps_questions_and_empties_answers():
    """Every bold question of the solution notebook stays, followed by the placeholder;
    no code of the answer sections stays; the solution's source is untouched."""
    import jupytext
    from course_staff import notebook
    source = os.path.join(ROOT, "notebooks", "hw3_explain.py")
    before = open(source).read()
    spec = notebook.load_spec()
    nb, counts = notebook.student_notebook(source, spec)
    solution = jupytext.read(source)
    leads = [m.group(1) for c in solution.cells if c.cell_type == "markdown"
             for p in c.source.split("\n\n") for m in [notebook.BOLD.match(p)]
             if m and notebook._is_question(m.group(1), spec)]
    assert len(leads) >= 5 and counts["answers"] == len(leads)
    text = "\n".join(c.source for c in nb.cells)
    for lead in leads:
        assert "**%s** %s" % (lead, spec["answer"]) in text
    code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    for call in ("absolute_and_comparative(", "top_neurons(inst", "compression_experiment(",
                 "explain_neurons("):
        assert call not in code, call
    assert all(not c.get("outputs") for c in nb.cells if c.cell_type == "code")
    assert open(source).read() == before


def test_student_notebook_runs_to_the_first_stub(tmp_path):
    """The starter's notebook runs its set-up and stops at the first stub, naming it."""
    out = str(tmp_path / "starter")
    student.build(out)
    code = ("import sys, nbformat\nfrom nbclient import NotebookClient\n"
            "from nbclient.exceptions import CellExecutionError\n"
            "nb = nbformat.read('hw3_explain.ipynb', 4)\n"
            "try:\n    NotebookClient(nb, timeout=600, kernel_name='python3',"
            " resources={'metadata': {'path': '.'}}).execute()\n"
            "except CellExecutionError as e:\n    print(str(e).strip().splitlines()[-1])\n")
    r = subprocess.run([sys.executable, "-I", "-c", code], cwd=out, capture_output=True,
                       text=True, timeout=900)
    assert "NotImplementedError" in r.stdout and "write this (handout 5.1)" in r.stdout, \
        (r.stdout[-2000:], r.stderr[-2000:])

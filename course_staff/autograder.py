"""``make autograder``: the HW3 autograder in otter-grader's format (the zip Gradescope
takes, which ``otter run`` also grades locally), and ``make grade``: a folder of
submissions graded offline with it.

The zip holds what ``otter generate`` writes (``otter_config.json``, ``setup.sh``,
``run_autograder``, ``environment.yml``, ``requirements.txt``: the product's pinned
stack, and one otter test file per question in ``tests/``) and, beside it, what our
test files call: ``course_staff/`` (the engine), ``reference/`` (the solution in the
starter layout) and ``starter/`` (the student starter's modules, the base of every
sandbox).

Run in the grading venv (``.venv-otter``, course_staff/requirements.txt):
``python -m course_staff.autograder build dist/autograder.zip`` and
``python -m course_staff.autograder grade SUBMISSIONS OUT``.
"""
import argparse
import csv
import json
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
CACHE = os.path.join(ROOT, ".grading", "theano")
"""The reference's Theano compile cache, kept between runs (each submission starts
from a copy of it)."""
PACKAGE_FILES = ("__init__.py", "questions.py", "checks.py", "probes.py", "sandbox.py",
                 "grade.py", "session.py", "otter_plugin.py", "markers.py")

TEST_TEMPLATE = '''"""HW3 {q} (handout {section}): {what}"""
import os
import sys

from otter.test_files import test_case

OK_FORMAT = False
name = "{q}"
points = {points}

_SOURCE = os.path.join(os.path.dirname(os.path.abspath(os.getcwd())), "source")
if _SOURCE not in sys.path:
    sys.path.insert(0, _SOURCE)


@test_case(points={points}, hidden=False, name="{q}")
def test_{q}():
    from course_staff import session
    session.check("{q}")
'''

OTTER_CONFIG = {
    "lang": "python",
    "python_version": "3.11",
    "plugins": ["course_staff.otter_plugin.SandboxedModules"],
    "pdf": False,
    "show_stdout": False,
    "show_all_public": True,
    "print_summary": True,
}


def build(out):
    """Write the autograder zip to ``out`` (about 3 MB)."""
    import otter.generate
    from course_staff import questions, student
    sys.path.insert(0, ROOT)
    out = os.path.abspath(out)
    work = tempfile.mkdtemp(prefix="hw3-autograder-")
    try:
        tests = os.path.join(work, "tests")
        os.makedirs(tests)
        for q, (section, pts, _, what) in questions.AUTOGRADED.items():
            with open(os.path.join(tests, q + ".py"), "w") as f:
                f.write(TEST_TEMPLATE.format(q=q, section=section, points=pts,
                                             what=what.replace('"', "'")))
        config = os.path.join(work, "otter_config.json")
        with open(config, "w") as f:
            json.dump(OTTER_CONFIG, f, indent=2)
        os.makedirs(os.path.dirname(out) or ".", exist_ok=True)
        otter.generate.main(tests_dir=tests, output_path=out, config=config,
                            requirements=os.path.join(ROOT, "requirements.txt"),
                            no_environment=True, python_version="3.11")
        student.build(os.path.join(work, "reference"), notebook=False, solution=True)
        student.build(os.path.join(work, "starter"), notebook=False)
        with zipfile.ZipFile(out, "a", zipfile.ZIP_DEFLATED) as z:
            for name in PACKAGE_FILES:
                z.write(os.path.join(HERE, name), "course_staff/" + name)
            for tree in ("reference", "starter"):
                base = os.path.join(work, tree)
                for dirpath, _, files in os.walk(base):
                    for fn in files:
                        path = os.path.join(dirpath, fn)
                        z.write(path, os.path.join(tree, os.path.relpath(path, base)))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return out


def _submission_zip(path, dest):
    """A submission folder (or zip) as the zip ``otter run`` takes."""
    if os.path.isfile(path) and path.endswith(".zip"):
        shutil.copyfile(path, dest)
        return dest
    with zipfile.ZipFile(dest, "w") as z:
        names = sorted(os.listdir(path))
        for name in names:
            full = os.path.join(path, name)
            if os.path.isfile(full) and not os.path.islink(full):
                z.write(full, name)
        if not any(n.endswith(".ipynb") for n in names):
            # otter grades one notebook per submission; the modules are what we grade
            import nbformat
            z.writestr("no_notebook_submitted.ipynb",
                       nbformat.writes(nbformat.v4.new_notebook()))
    return dest


def grade(submissions, out, autograder, python, jobs=2):
    """Grade every submission (a folder, or a zip) in ``submissions`` with ``otter
    run``; write ``out/<name>/results.json`` and ``out/scores.csv``.

    The reference's answers are computed once for the run (one seed for all); ``jobs``
    submissions are graded at a time, each in its own ``otter run`` process.
    """
    from course_staff import grade as engine, questions
    out = os.path.abspath(out)
    os.makedirs(out, exist_ok=True)
    names = sorted(n for n in os.listdir(submissions) if not n.startswith("."))
    if not names:
        raise SystemExit("no submissions in %s: put one folder (or zip) per student there"
                         % submissions)
    work = tempfile.mkdtemp(prefix="hw3-grade-run-")
    try:
        with zipfile.ZipFile(autograder) as z:
            z.extractall(os.path.join(work, "source"))
        reference = os.path.join(work, "reference-answers")
        ref = engine.Reference(os.path.join(work, "source", "reference"), engine.new_seed(),
                               python, CACHE)
        ref.save(reference)
        env = {"HW3_PRODUCT_PYTHON": python, "HW3_GRADE_REFERENCE": reference,
               "HW3_GRADE_HIDE": os.pathsep.join([work, out, ROOT_HIDE()])}
        env = dict(os.environ, **env)

        def one(n):
            """``otter run`` on one submission, in its own process (otter changes
            directory), its summary kept in ``dest/otter.log``."""
            dest = os.path.join(out, n[:-4] if n.endswith(".zip") else n)
            os.makedirs(dest, exist_ok=True)
            subm = _submission_zip(os.path.join(submissions, n), os.path.join(work, n + ".zip"))
            with open(os.path.join(dest, "otter.log"), "w") as log:
                subprocess.run([sys.executable, "-m", "course_staff.autograder", "one", subm,
                                dest, "--autograder", autograder], env=env, cwd=ROOT,
                               stdout=log, stderr=subprocess.STDOUT)
            return _row(n, os.path.join(dest, "results.json"), questions)

        from concurrent.futures import ThreadPoolExecutor
        with ThreadPoolExecutor(max_workers=jobs) as pool:
            rows = list(pool.map(one, names))
        with open(os.path.join(out, "scores.csv"), "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(["submission", "total"] + list(questions.AUTOGRADED))
            w.writerows(rows)
        print("seed %d; scores in %s" % (ref.seed, os.path.join(out, "scores.csv")))
        for r in rows:
            print("  %-24s %5s  %s" % (r[0], r[1], " ".join(str(v) for v in r[2:])))
    finally:
        shutil.rmtree(work, ignore_errors=True)


def ROOT_HIDE():
    """This checkout's files (the solution) are hidden from submissions, except its
    venvs (the product interpreter lives there)."""
    return os.pathsep.join(os.path.join(ROOT, n) for n in os.listdir(ROOT)
                           if not n.startswith(".venv"))


def _row(name, results_json, questions):
    try:
        with open(results_json) as f:
            data = json.load(f)
    except (OSError, ValueError):
        return [name, 0] + [0] * len(questions.AUTOGRADED)
    by_name = {t.get("name", "").split(" - ")[0]: t.get("score", 0) for t in data["tests"]}
    scores = [by_name.get(q, 0) for q in questions.AUTOGRADED]
    return [name, data.get("score", sum(scores))] + scores


def main(argv=None):
    # absolute imports only: otter changes directory while grading
    sys.path[:] = [ROOT] + [p for p in sys.path if p not in ("", ".", ROOT)]
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    b = sub.add_parser("build")
    b.add_argument("out")
    g = sub.add_parser("grade")
    g.add_argument("submissions")
    g.add_argument("out")
    g.add_argument("--autograder", default=os.path.join(ROOT, "dist", "autograder.zip"))
    g.add_argument("--python", default=os.path.join(ROOT, ".venv", "bin", "python"))
    g.add_argument("--jobs", type=int, default=int(os.environ.get("HW3_GRADE_JOBS", 2)))
    o = sub.add_parser("one", help="otter run on one submission zip (used by grade)")
    o.add_argument("submission")
    o.add_argument("dest")
    o.add_argument("--autograder", default=os.path.join(ROOT, "dist", "autograder.zip"))
    a = p.parse_args(argv)
    if a.cmd == "build":
        print("autograder: %s" % build(a.out))
    elif a.cmd == "one":
        import otter.run
        from course_staff import otter_plugin  # noqa: F401  (imported before otter chdirs)
        try:
            otter.run.main(a.submission, autograder=a.autograder, output_dir=a.dest,
                           no_logo=True)
        except Exception as e:   # e.g. no gradable file: still a results.json, score 0
            with open(os.path.join(a.dest, "results.json"), "w") as f:
                json.dump({"score": 0, "tests": [{"name": "Autograder Error", "output":
                                                  "%s: %s" % (type(e).__name__, e)}]}, f)
            raise
    else:
        grade(a.submissions, a.out, os.path.abspath(a.autograder), a.python, a.jobs)


if __name__ == "__main__":
    main()

"""The grading engine: the reference's answers once per run, then each submission's in
its own sandbox (:mod:`course_staff.sandbox`), compared question by question
(:mod:`course_staff.checks`) into Gradescope's ``results.json`` format.

Otter-grader drives it (:mod:`course_staff.autograder`: each otter test file asks this
engine for its question); ``python -m course_staff.grade`` runs it directly, without
otter, for debugging.

Each run draws a fresh seed (``HW3_GRADE_SEED`` fixes it): the models' random weights
and inputs change from run to run, so answers cannot be hard-coded.
"""
import json
import os
import shutil
import sys
import tempfile

from course_staff import checks, questions, sandbox

MIN_LIMIT = float(os.environ.get("HW3_GRADE_MIN_LIMIT", 20))
"""Seconds every question gets at least; the limit is this plus a multiple of the
reference's own time for the question (measured in the same run, so it follows the
machine's load)."""
LIMIT_FACTOR = 5.0


def new_seed():
    env = os.environ.get("HW3_GRADE_SEED")
    return int(env) if env else int.from_bytes(os.urandom(3), "big")


class Reference(object):
    """The reference's answers for one seed, computed in a trusted child process.

    Args:
        tree: the reference tree (the starter layout with the solution in place).
        seed: the run's seed.
        python: the product interpreter.
        cache: the Theano compile cache the reference fills (each submission starts
            from a copy of it).
    """

    def __init__(self, tree, seed, python, cache, ids=None):
        self.seed, self.cache, self.tree = seed, cache, tree
        self.ids = list(ids or questions.AUTOGRADED)
        sandbox.add_probe(tree)
        run = sandbox.run_probes(tree, seed, self.ids, python, trusted=True, cache=cache)
        if run.errors:
            raise RuntimeError("the reference solution failed its own probes (grader bug, or "
                               "the product stack is broken):\n%s\n%s"
                               % ("\n".join("%s: %s" % kv for kv in run.errors.items()), run.log))
        self.outputs, self.seconds = run.outputs, run.seconds

    def limits(self):
        """Wall seconds per question (and for the start-up: importing the stack)."""
        return {q: MIN_LIMIT + LIMIT_FACTOR * self.seconds[q]
                for q in self.ids + ["startup"]}

    def save(self, path):
        """Keep the answers for other processes of this run (npz, no pickles)."""
        import numpy as np
        os.makedirs(path, exist_ok=True)
        for q, arrays in self.outputs.items():
            np.savez(os.path.join(path, q + ".npz"), **arrays)
        with open(os.path.join(path, "run.json"), "w") as f:
            json.dump({"seed": self.seed, "seconds": self.seconds, "cache": self.cache,
                       "ids": self.ids}, f)

    @classmethod
    def load(cls, path):
        import numpy as np
        self = cls.__new__(cls)
        with open(os.path.join(path, "run.json")) as f:
            meta = json.load(f)
        self.seed, self.seconds, self.cache = meta["seed"], meta["seconds"], meta["cache"]
        self.ids = meta["ids"]
        self.outputs = {}
        for q in self.ids:
            with np.load(os.path.join(path, q + ".npz"), allow_pickle=False) as d:
                self.outputs[q] = {k: np.array(d[k]) for k in d.files}
        return self


def grade_submission(submission, reference, starter, python, hide=()):
    """Grade one submission folder.

    Returns:
        dict question -> {"score", "max_score", "output"}.
    """
    work = tempfile.mkdtemp(prefix="hw3-grade-")
    try:
        tree = os.path.join(work, "tree")
        used = sandbox.make_tree(starter, tree, submission)
        cache = os.path.join(tree, ".theano")
        if reference.cache and os.path.isdir(reference.cache):
            shutil.copytree(reference.cache, cache, symlinks=True,
                            ignore=shutil.ignore_patterns("lock_dir"))
        run = sandbox.run_probes(tree, reference.seed, reference.ids, python,
                                 limits=reference.limits(), cache=cache,
                                 hide=list(hide))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    missing = [n for n in sandbox.STUDENT_FILES if n not in used]
    results = {}
    for q in reference.ids:
        section, pts = questions.AUTOGRADED[q][:2]
        if q in run.errors:
            failures = ["your code raised or stopped: " + _last_lines(run.errors[q])]
        else:
            failures = checks.check(q, run.outputs.get(q, {}), reference.outputs[q])
        text = ("passed" if not failures else
                "failed (handout %s):\n- %s" % (section, "\n- ".join(failures)))
        if missing and failures:
            text += "\n(not in the submission, so the starter's stubs were used: %s)" \
                % ", ".join(missing)
        results[q] = {"score": 0 if failures else pts, "max_score": pts, "output": text}
    return results


def _last_lines(text, n=6):
    lines = [l for l in text.strip().split("\n") if l.strip()]
    return "\n  ".join(lines[-n:])


def gradescope_json(results):
    """Gradescope's results.json: one test per question, with the total."""
    tests = [{"name": q, "score": r["score"], "max_score": r["max_score"],
              "output": r["output"], "visibility": "visible"} for q, r in results.items()]
    return {"score": sum(r["score"] for r in results.values()), "tests": tests}


def main(argv=None):
    import argparse
    from course_staff import student
    p = argparse.ArgumentParser(description="grade submission folders without otter")
    p.add_argument("submissions", nargs="+")
    p.add_argument("--python", default=sys.executable)
    a = p.parse_args(argv)
    work = tempfile.mkdtemp(prefix="hw3-engine-")
    try:
        ref_tree, starter = os.path.join(work, "reference"), os.path.join(work, "starter")
        student.build(ref_tree, notebook=False, solution=True)
        student.build(starter, notebook=False)
        ref = Reference(ref_tree, new_seed(), a.python, os.path.join(work, "cache"))
        print("reference seconds:", {q: round(t, 1) for q, t in ref.seconds.items()})
        for s in a.submissions:
            r = grade_submission(s, ref, starter, a.python, hide=[ref_tree])
            print(s, {q: v["score"] for q, v in r.items()})
            for q, v in r.items():
                if v["score"] == 0:
                    print("  ", q, v["output"][:300].replace("\n", " | "))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()

"""The kernel side of the otter test files: each test file calls :func:`check` for its
question; the first call grades the whole submission (the reference's answers, then
the submission's in a sandbox) and every later call reads the memoised result.

Paths follow otter's grading layout: the kernel runs in ``<autograder>/submission``;
the zip is unpacked into ``<autograder>/source`` (``reference/``, ``starter/`` and this
package). Settings from the environment (``make grade`` sets them):

* ``HW3_PRODUCT_PYTHON``: the interpreter with the product stack (default: this one,
  as on Gradescope, where one environment holds both);
* ``HW3_GRADE_REFERENCE``: a folder with this run's reference answers
  (:meth:`course_staff.grade.Reference.save`), shared by every submission of a run;
  without it the reference is computed here;
* ``HW3_GRADE_SEED``: fixes the seed (tests); ``HW3_GRADE_HIDE``: more folders to hide
  from submissions (``os.pathsep``-separated).
"""
import os
import sys
import tempfile

_RESULTS = None


def autograder_dir():
    return os.path.dirname(os.path.abspath(os.getcwd()))


def results():
    global _RESULTS
    if _RESULTS is None:
        from course_staff.grade import Reference, grade_submission, new_seed
        ag = autograder_dir()
        source = os.path.join(ag, "source")
        python = os.environ.get("HW3_PRODUCT_PYTHON") or sys.executable
        saved = os.environ.get("HW3_GRADE_REFERENCE")
        if saved:
            ref = Reference.load(saved)
        else:
            ref = Reference(os.path.join(source, "reference"), new_seed(), python,
                            os.path.join(tempfile.mkdtemp(prefix="hw3-cache-"), "theano"))
        hide = [source, os.path.join(os.getcwd(), "tests"), os.path.join(ag, "results"),
                os.path.dirname(ref.cache)]
        if saved:
            hide.append(saved)
        hide += [p for p in os.environ.get("HW3_GRADE_HIDE", "").split(os.pathsep) if p]
        _RESULTS = grade_submission(os.getcwd(), ref, os.path.join(source, "starter"),
                                    python, hide=hide)
    return _RESULTS


def check(question):
    """Raise AssertionError with the feedback unless ``question`` passed."""
    r = results()[question]
    assert r["score"] == r["max_score"], r["output"]

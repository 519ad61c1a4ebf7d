"""``make student``: the student starter, generated from the solution.

``python -m course_staff.student OUT`` writes to OUT (replacing it):

* the handout's modules with every solution region replaced by a stub that raises
  ``NotImplementedError`` (:mod:`course_staff.markers`): ``AumannShapley.py``,
  ``Explanation.py``, ``compression.py``;
* the helpers complete: ``hw3_env.py``, ``models.py``, ``test_data.py``,
  ``VisualizerTiler.py``, ``theano_ops/``, ``synthetic_world/`` (with the surrogate's
  weights in ``models/``), ``notebook_tools/``, ``evaluation/ground_truth.py``,
  ``data/`` and ``requirements.txt``;
* ``hw3_explain.ipynb``: the notebook with its questions and the answer cells emptied
  (:mod:`course_staff.notebook`), no outputs.
"""
import argparse
import os
import shutil
import sys

from course_staff import markers, questions

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
STUBBED = ("AumannShapley.py", "Explanation.py", "compression.py")
COPIED = ("hw3_env.py", "models.py", "test_data.py", "VisualizerTiler.py", "requirements.txt",
          "evaluation/__init__.py", "evaluation/ground_truth.py", "evaluation/measures.py",
          "evaluation/evidence.py", "evaluation/hw3_answers.py",
          "models/surrogate.h5", "models/surrogate.json",
          "data/images.tsv", "data/imagenet_classes.tsv") + tuple(
    # whole packages: the C ops, the chain's parts (which the three stubbed modules
    # import), the figures, the photos' fetching, the synthetic world, the notebook
    # runner; a new module must not be left behind
    package + "/" + f
    for package in ("theano_ops", "chain", "plots", "photos", "synthetic_world", "notebook_tools")
    for f in sorted(os.listdir(os.path.join(ROOT, package))) if f.endswith(".py"))


def _section(name):
    for q, spec in questions.AUTOGRADED.items():
        if name in spec[2]:
            return spec[0]
    return None


def build(out, root=ROOT, notebook=True, solution=False):
    """Write the starter to ``out`` (its previous content is removed); with
    ``solution`` the same layout with the solution in place (the grader's reference).

    Returns:
        the list of files written (relative paths).
    """
    if os.path.exists(out):
        shutil.rmtree(out)
    written = []
    for rel in COPIED:
        dest = os.path.join(out, rel)
        os.makedirs(os.path.dirname(dest), exist_ok=True)
        shutil.copyfile(os.path.join(root, rel), dest)
        written.append(rel)
    for rel in STUBBED:
        with open(os.path.join(root, rel)) as f:
            text = f.read()
        with open(os.path.join(out, rel), "w") as f:
            f.write(markers.unmark(text) if solution else markers.strip(text, _section))
        written.append(rel)
    if notebook:
        from course_staff import notebook as nb
        nb.write_student(os.path.join(root, "notebooks", "hw3_explain.py"),
                         os.path.join(out, "hw3_explain.ipynb"))
        written.append("hw3_explain.ipynb")
    return written


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("out", help="folder to write the starter to (replaced)")
    p.add_argument("--no-notebook", action="store_true", help="modules only")
    a = p.parse_args(argv)
    files = build(a.out, notebook=not a.no_notebook)
    print("student starter: %d files in %s" % (len(files), a.out))


if __name__ == "__main__":
    sys.exit(main())

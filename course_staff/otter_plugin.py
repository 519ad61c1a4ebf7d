"""The otter-grader plugin of the HW3 autograder (named in ``otter_config.json``).

Otter executes a submission's notebook in a Jupyter kernel and then runs the test files
in that same kernel: the student's code and the tests would share one process. This
plugin keeps student code out of the kernel:

* ``before_grading`` (in otter's runner, before any kernel starts) deletes every file of
  the submission folder that is not one of the graded modules
  (:data:`course_staff.sandbox.STUDENT_FILES`) or the notebook, so no submitted
  ``otter.py``, ``numpy.py`` or package can shadow a module the kernel imports;
* ``before_execution`` replaces the notebook by one empty cell: the notebook is read by
  human graders (its written answers and saved figures), never executed by the grader.

The test files then grade the modules in sandboxes (:mod:`course_staff.session`).
"""
import os
import shutil

import nbformat
from otter.plugins import AbstractOtterPlugin

from course_staff.sandbox import STUDENT_FILES

KEEP = set(STUDENT_FILES) | {"tests", "__init__.py"}


class SandboxedModules(AbstractOtterPlugin):
    """Grade the modules in sandboxes; never run the submitted notebook."""

    def before_grading(self, config):
        folder = os.path.dirname(os.path.abspath(self.submission_path)) \
            if self.submission_path else os.getcwd()
        for name in os.listdir(folder):
            path = os.path.join(folder, name)
            if name in KEEP or (name.endswith(".ipynb") and os.path.isfile(path)
                                and not os.path.islink(path)):
                continue
            if os.path.isdir(path) and not os.path.islink(path):
                shutil.rmtree(path, ignore_errors=True)
            else:
                os.remove(path)

    def before_execution(self, submission):
        nb = nbformat.v4.new_notebook()
        nb.cells.append(nbformat.v4.new_code_cell("# the notebook is graded by people; "
                                                  "the modules in sandboxes"))
        nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                     "language": "python"}
        return nb

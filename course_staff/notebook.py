"""The student version of ``hw3_explain``: its questions kept, its answers emptied, as
:file:`course_staff/hw3_notebook.yaml` says (the solution notebook is not marked up).

The notebook is read from its Jupytext source (``notebooks/hw3_explain.py``); the result
has no outputs. Run from the starter's folder, it stops at the first call of a stub
with ``NotImplementedError: <function>: write this (handout <section>)``.
"""
import os
import re

HERE = os.path.dirname(os.path.abspath(__file__))
SPEC = os.path.join(HERE, "hw3_notebook.yaml")
HEADING = re.compile(r"^#{1,3}\s+(?:(\d+\.\d+)\b|(Part [IVX]+)\b)?(.*)$")
BOLD = re.compile(r"^\*\*(.+?)\*\*", re.S)


def load_spec(path=SPEC):
    import yaml
    with open(path) as f:
        return yaml.safe_load(f)


def _is_question(lead, spec):
    lead = lead.strip()
    return lead.endswith("?") or re.match(r"^\d+\.\s", lead) or lead in spec["answer_leads"]


def _answers_emptied(text, spec, counts):
    """Each question paragraph keeps its bold lead; its answer becomes the placeholder."""
    out = []
    for para in text.split("\n\n"):
        m = BOLD.match(para)
        if m and _is_question(m.group(1), spec):
            out.append("**%s** %s" % (m.group(1), spec["answer"]))
            counts["answers"] += 1
        else:
            out.append(para)
    return "\n\n".join(out)


def _sections(text, current):
    """The handout section in force after each heading of a markdown cell."""
    for line in text.split("\n"):
        m = HEADING.match(line)
        if m and line.startswith("#"):
            current = m.group(1) or m.group(2) or m.group(3).strip()
    return current


def student_notebook(source, spec=None):
    """The student notebook (an nbformat notebook) from the Jupytext source.

    Returns:
        (notebook, counts): counts of answers and code cells emptied, for checks.
    """
    import jupytext
    import nbformat
    spec = spec or load_spec()
    nb = jupytext.read(source)
    counts = {"answers": 0, "code": 0}
    cells, section = [], None
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            section = _sections(cell.source, section)
            if section in spec.get("drop_sections", []):
                continue
            cell.source = _answers_emptied(cell.source, spec, counts)
        elif cell.cell_type == "code":
            if section in spec.get("drop_sections", []):
                continue
            task = spec["code_sections"].get(section)
            keep = any(re.search(p, cell.source) for p in spec.get("keep_code", []))
            if task and not keep:
                text = "# YOUR CODE HERE (handout %s): %s\n" % (section, task)
                if cells and cells[-1].cell_type == "code" and cells[-1].source == text:
                    continue   # one answer cell per run of solution cells
                cell = nbformat.v4.new_code_cell(text)
                counts["code"] += 1
            cell.outputs, cell.execution_count = [], None
        cells.append(cell)
    nb.cells = cells
    nb.metadata.pop("jupytext", None)
    return nb, counts


def write_student(source, dest):
    import nbformat
    nb, counts = student_notebook(source)
    nbformat.write(nb, dest)
    return counts

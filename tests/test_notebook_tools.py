"""Notebooks as Jupytext pairs, executed safely, with clean saved outputs.

* every saved notebook has its percent-format source and they hold the same cells (the
  parameters cell may hold other values than the source's defaults: the run's);
* a saved notebook shows one parameters cell, holding the values its run used;
* nbval's markers are cell tags, never comments in the code;
* no written answer quotes a number that no output shows (the guard);
* ``notebook_tools.execute`` replaces the saved notebook only when the whole run
  succeeded, and keeps the partial run beside it when a cell fails;
* progress inside a kernel leaves one summary line and no stderr residue.
"""
import glob
import os
import re
import subprocess
import sys

import nbformat
import pytest

from helpers import ROOT
from notebook_tools import execute as ex

SAVED = sorted([os.path.join(ROOT, "hw3_explain.ipynb")]
               + glob.glob(os.path.join(ROOT, "notebooks", "*.ipynb")))


def _cells(nb):
    """(type, source, tags) of each cell, without papermill's injected-parameters cell
    (:func:`test_one_parameters_cell` rejects it) and with the parameters cell's values
    left out: a notebook executed with other values than its source's defaults (``-p``)
    is still that source's notebook, as long as it assigns the same names in the same
    order, with the same comments."""
    out = []
    for c in nb.cells:
        tags = list(c.metadata.get("tags", []))
        if "injected-parameters" in tags:
            continue
        source = c.source.strip()
        if "parameters" in tags:
            source = ex.without_values(source)
        out.append((c.cell_type, source, tags))
    return out


@pytest.mark.parametrize("path", SAVED, ids=[os.path.relpath(p, ROOT) for p in SAVED])
def test_saved_notebook_matches_its_source(path):
    source = ex.source_path(path)
    assert source.endswith(".py") and os.path.dirname(source) == os.path.join(ROOT, "notebooks")
    saved = nbformat.read(path, as_version=4)
    assert _cells(saved) == _cells(ex.read_source(source)), (
        "%s and its source %s disagree: edit the .py and re-execute (make run NB=%s), or "
        "`jupytext --sync %s`" % (os.path.relpath(path, ROOT), os.path.relpath(source, ROOT),
                                  os.path.relpath(path, ROOT), os.path.relpath(path, ROOT)))


@pytest.mark.parametrize("path", SAVED, ids=[os.path.relpath(p, ROOT) for p in SAVED])
def test_saved_notebook_reads_cleanly(path):
    nb = nbformat.read(path, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code and all(c.execution_count is not None for c in code)
    outputs = [o for c in code for o in c.get("outputs", [])]
    assert not [o for o in outputs if o.output_type == "error"]
    residue = [o for o in outputs if o.output_type == "stream" and o.name == "stderr"]
    assert not residue, "stderr in saved outputs: %r" % [o.text[:200] for o in residue]
    assert not [o for o in outputs if o.output_type == "stream" and "\r" in o.text]


@pytest.mark.parametrize("path", SAVED, ids=[os.path.relpath(p, ROOT) for p in SAVED])
def test_one_parameters_cell(path):
    """A grader sees one parameters cell holding the values the run used: the executor
    writes them into it (no papermill-injected second cell)."""
    nb = nbformat.read(path, as_version=4)
    tagged = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    injected = [c for c in nb.cells if "injected-parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1 and not injected, (
        "%s has %d parameters cell(s) and %d injected one(s); re-execute it with "
        "`make run NB=%s`, or keep its outputs and move the injected values into the "
        "parameters cell: `python -m notebook_tools.execute --fold-injected %s`"
        % ((os.path.relpath(path, ROOT), len(tagged), len(injected))
           + (os.path.relpath(path, ROOT),) * 2))


def nbval_marker_problems(nb):
    """What keeps nbval from reading a notebook's markers as meant: markers written as
    comments in the code (``# NBVAL_SKIP``: this project writes them as cell tags,
    which Jupytext keeps and graders do not read as code), and ``nbval-*`` tags nbval
    does not know (it ignores them silently, and the cell then runs or is compared).

    Returns:
        list of str, empty when every marker is a tag nbval reads.
    """
    from nbval.plugin import comment_markers, metadata_tags
    comments = {m.upper() for m in comment_markers}
    out = []
    for i, c in enumerate(nb.cells):
        if c.cell_type != "code":
            continue
        for line in c.source.splitlines():
            word = line.strip().lstrip("#").strip().split(":")[0].split()
            if line.strip().startswith("#") and word and (
                    word[0].upper() in comments or word[0].upper().startswith("NBVAL")):
                out.append("cell %d: comment %r (use the tag %r)"
                           % (i, line.strip(), word[0].lower().replace("_", "-")))
        for tag in c.metadata.get("tags", []):
            if tag.startswith("nbval") and tag not in metadata_tags:
                out.append("cell %d: tag %r, which nbval does not read (it reads %s)"
                           % (i, tag, sorted(t for t in metadata_tags if t.startswith("nbval"))))
    return out


@pytest.mark.parametrize("path", SAVED, ids=[os.path.relpath(p, ROOT) for p in SAVED])
def test_nbval_markers_are_tags_nbval_reads(path):
    """nbval's markers are cell tags (``# %% tags=["nbval-skip"]`` in the source)."""
    problems = nbval_marker_problems(nbformat.read(path, as_version=4))
    assert not problems, problems


def test_nbval_marker_check_fails_on_comments_and_unknown_tags():
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell("# NBVAL_SKIP\nx = 1"),
        nbformat.v4.new_code_cell("# NBVAL_CHECK_OUTPUT: why\nx", metadata={"tags": []}),
        nbformat.v4.new_code_cell("x", metadata={"tags": ["nbval-skipped"]}),
        nbformat.v4.new_code_cell("x", metadata={"tags": ["nbval-skip", "parameters"]}),
        nbformat.v4.new_code_cell("x", metadata={"tags": ["nbval-check-output"]})])
    problems = nbval_marker_problems(nb)
    assert len(problems) == 3, problems
    assert "'nbval-skip'" in problems[0] and "'nbval-check-output'" in problems[1]
    assert "nbval-skipped" in problems[2]


# ---------------------------------------------------------------------------
# the guard: written answers quote only numbers the notebook shows
# ---------------------------------------------------------------------------
HANDOUT_CONSTANTS = {
    "hw3_explain.ipynb": {},
    "notebooks/csep590b_hw2.ipynb": {},
    "notebooks/tub_sheet11.ipynb": {},
    "notebooks/explainability_report.ipynb": {},
    "notebooks/method_comparison.ipynb": {},
}
"""Per notebook, numbers its Markdown may quote without an output showing them (a
handout's constant, a version), each with its reason: number -> why."""

# A quoted number: a decimal (4.22), a percentage (93%) or a factor (15x, 2.1×; not a
# size such as 8x8). Integers alone are not checked: in the prose they are counts and
# settings of the handouts (50 steps, 10 classes), which the code cells set.
_QUOTED = re.compile(r"(?<![\w.])(\d+(?:\.\d+)?)(?:(\s?%)|(\s?[x×])(?![\w×]))"
                     r"|(?<![\w.])(\d+\.\d+)(?![\w.]*\d)")
_SHOWN = re.compile(r"(?<![\w.])-?(\d+(?:\.\d+)?)(?![\w.]*\d)")
# Not quotations of results: LaTeX, links, arXiv ids, section / question / exercise numbers.
_EXEMPT = re.compile(r"\$\$.*?\$\$|\$[^$]*\$|https?://\S+|\b\d{4}\.\d{4,5}\b"
                     r"|(?:\b(?:part|section|sections|handout|question|exercise|task|sheet|step|q|hw|"
                     r"homework|figure|fig\.|table|eq\.|equation|chapter|slide|slides)\s*|§\s*)"
                     r"\d+(?:\.\d+)*(?:\s*(?:,|and|or|-|to)\s*\d+(?:\.\d+)*)*", re.I | re.S)


def quoted_numbers(markdown):
    """The numbers a Markdown cell quotes: [(text, kind)] with kind '%', 'x' or ''.

    Headings (lines starting with '#'), LaTeX ($...$), links, arXiv ids and section,
    question and exercise numbers are not quotations of results."""
    body = "\n".join(l for l in markdown.splitlines() if not l.lstrip().startswith("#"))
    body = _EXEMPT.sub(" ", body)
    out = []
    for m in _QUOTED.finditer(body):
        if m.group(4):
            out.append((m.group(4), ""))
        else:
            out.append((m.group(1), "%" if m.group(2) else "x"))
    return out


def shown_numbers(nb):
    """Every number the notebook shows: in its outputs (text, Markdown, HTML, LaTeX) and
    in its code cells (the settings a grader reads there)."""
    texts = []
    for c in nb.cells:
        if c.cell_type != "code":
            continue
        texts.append(c.source)
        for o in c.get("outputs", []):
            if o.get("output_type") == "stream":
                texts.append(o.get("text", ""))
            for k, v in o.get("data", {}).items():
                if k.startswith("text/"):
                    texts.append(v if isinstance(v, str) else "".join(v))
    return set(_SHOWN.findall("\n".join(texts)))


def _backed(text, kind, shown):
    """Does an output show ``text``: the same number, or one with more decimals that
    rounds to it (a percentage also as a fraction: 93% by 0.93)?"""
    digits = len(text.split(".")[1]) if "." in text else 0
    targets = [float(text)] + ([float(text) / 100] if kind == "%" else [])
    for s in shown:
        d = len(s.split(".")[1]) if "." in s else 0
        for t in targets:
            want = digits + (2 if t != float(text) else 0)
            if d >= want and "%.*f" % (want, float(s)) == "%.*f" % (want, t):
                return True
    return False


def unbacked_numbers(nb, constants=None):
    """Numbers a Markdown cell of ``nb`` quotes that no output (or code cell) shows and
    that ``constants`` does not list: ['cell i: 0.09', ...]."""
    shown = shown_numbers(nb)
    out = []
    for i, c in enumerate(nb.cells):
        if c.cell_type != "markdown":
            continue
        for text, kind in quoted_numbers(c.source):
            if text not in (constants or {}) and not _backed(text, kind, shown):
                out.append("cell %d: %s%s" % (i, text, "%" if kind == "%" else
                                                ("x" if kind == "x" else "")))
    return out


@pytest.mark.parametrize("path", SAVED, ids=[os.path.relpath(p, ROOT) for p in SAVED])
def test_written_answers_quote_only_numbers_the_notebook_shows(path):
    """The guard: a number in a Markdown cell comes from an output beside it (a sentence
    rendered from the numbers), or is a handout constant listed in HANDOUT_CONSTANTS."""
    rel = os.path.relpath(path, ROOT)
    constants = HANDOUT_CONSTANTS.get(rel, {})
    assert all(isinstance(v, str) and v for v in constants.values()), "give each a reason"
    stale = unbacked_numbers(nbformat.read(path, as_version=4), constants)
    assert not stale, ("%s: Markdown quotes numbers that no output shows (stale, or to be "
                       "rendered from the computed numbers; a handout constant goes into "
                       "HANDOUT_CONSTANTS with its reason): %s" % (rel, ", ".join(stale)))


def _fixture_notebook(markdown, output):
    code = nbformat.v4.new_code_cell("table()", execution_count=1, outputs=[
        nbformat.v4.new_output("display_data", data={"text/markdown": output})])
    return nbformat.v4.new_notebook(cells=[code, nbformat.v4.new_markdown_cell(markdown)])


def test_guard_flags_a_stale_number_and_passes_a_rendered_one():
    table = "| IG | 0.123 s |\n| LIME | 1.04 s |\n| pointing | 0.93 |\n| loc | 4.22 |"
    prose = ("## 5.2 Time\nIG takes 0.09 s per image and LIME 3.2 s (Section 5.3, Q2.1, "
             "arXiv 1703.01365, $\\sigma = 0.15$, see https://x.org/v1.5). The maximum is on "
             "the object in 93% of images, at 4.2x chance, on 8x8 windows; IG takes 0.12 s.")
    nb = _fixture_notebook(prose, table)
    assert quoted_numbers(prose) == [("0.09", ""), ("3.2", ""), ("93", "%"), ("4.2", "x"),
                                     ("0.12", "")]
    assert unbacked_numbers(nb) == ["cell 1: 0.09", "cell 1: 3.2"]
    assert unbacked_numbers(nb, {"0.09": "a", "3.2": "b"}) == []
    assert unbacked_numbers(_fixture_notebook(prose, "0.9 1.1 0.09 3.2 4.2")) == \
        ["cell 1: 93%", "cell 1: 0.12"]       # 0.9 does not back 93%; 0.12 is not shown
    nb.cells[0].source = "LIME_SAMPLES = 3.2"     # a setting in a code cell backs it
    assert unbacked_numbers(nb) == ["cell 1: 0.09"]


def test_every_source_has_its_notebook():
    sources = glob.glob(os.path.join(ROOT, "notebooks", "*.py"))
    paired = {ex.source_path(p) for p in SAVED}
    assert sources and set(sources) <= paired, set(sources) - paired


def test_mismatch_is_detected(tmp_path):
    """The pairing test can fail: an edited source no longer matches."""
    src = _write_source(tmp_path, ["x = 1"])
    nb = ex.read_source(src)
    src.write_text(src.read_text().replace("x = 1", "x = 2"))
    assert _cells(nb) != _cells(ex.read_source(str(src)))


# ---------------------------------------------------------------------------
# execution
# ---------------------------------------------------------------------------
def _write_source(folder, cells, params="N = 1"):
    body = ["# ---", "# jupyter:", "#   jupytext:", "#     formats: ipynb,py:percent",
            "#   kernelspec:", "#     display_name: Python 3", "#     language: python",
            "#     name: python3", "# ---", "", '# %% tags=["parameters"]', params]
    for c in cells:
        body += ["", "# %%", c]
    path = folder / "demo.py"
    path.write_text("\n".join(body) + "\n")
    return path


def test_execute_writes_outputs_and_parameters(tmp_path):
    _write_source(tmp_path, ["print('N is', N * 2)"])
    target = tmp_path / "demo.ipynb"
    assert ex.execute(str(target), {"N": 21}) == str(target)
    nb = nbformat.read(str(target), as_version=4)
    text = "".join(o.get("text", "") for c in nb.cells for o in c.get("outputs", []))
    assert "N is 42" in text
    # one parameters cell, holding the value the run used; the source keeps its default
    assert [c.source for c in nb.cells if c.metadata.get("tags")] == ["N = 21"]
    assert not any("injected-parameters" in c.metadata.get("tags", []) for c in nb.cells)
    assert nb.metadata["papermill"]["parameters"] == {"N": 21}
    assert "N = 1" in (tmp_path / "demo.py").read_text()
    # ... and the saved notebook is still recognised as executed from that source
    assert _cells(nb) == _cells(ex.read_source(str(tmp_path / "demo.py")))
    assert nb.metadata["jupytext"]["formats"] == "ipynb,py:percent"
    assert ex.source_path(str(target)) == str(tmp_path / "demo.py")
    assert not list(tmp_path.glob(".*running*")) and not list(tmp_path.glob("*.failed.ipynb"))


def test_parameters_are_written_into_the_parameters_cell():
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
        '# defaults\nWORLD = "synthetic"  # or "imagenet"\nSTEPS = None   # 50\n'
        'METHODS = [\n    "a",\n]\nX = 1', metadata={"tags": ["parameters"]})])
    ex.set_parameters(nb, {"WORLD": "imagenet", "STEPS": 4, "METHODS": ["IG, zero", "LRP"]})
    assert nb.cells[0].source == ('# defaults\nWORLD = "imagenet"  # or "imagenet"\n'
                                  'STEPS = 4   # 50\nMETHODS = ["IG, zero", "LRP"]\nX = 1')
    env = {}
    exec(nb.cells[0].source, env)
    assert (env["WORLD"], env["STEPS"], env["METHODS"], env["X"]) == \
        ("imagenet", 4, ["IG, zero", "LRP"], 1)
    assert ex.without_values(nb.cells[0].source) == (
        '# defaults\nWORLD = ...  # or "imagenet"\nSTEPS = ...   # 50\nMETHODS = ...\nX = ...')
    with pytest.raises(ValueError, match="STEP is not assigned in the parameters cell; its "
                                         "parameters are WORLD, STEPS, METHODS, X"):
        ex.set_parameters(nb, {"STEP": 4})
    with pytest.raises(ValueError, match="no cell tagged 'parameters'"):
        ex.set_parameters(nbformat.v4.new_notebook(), {"N": 1})


def test_a_changed_cell_is_not_hidden_by_the_parameters_rule(tmp_path):
    """Only the parameters cell's values may differ: its names, comments and every other
    cell must match the source."""
    src = _write_source(tmp_path, ["x = 1"], params="N = 1  # n")
    nb = ex.set_parameters(ex.read_source(str(src)), {"N": 5})
    assert _cells(nb) == _cells(ex.read_source(str(src)))
    nb.cells[0].source = "N = 5  # n\nM = 2"
    assert _cells(nb) != _cells(ex.read_source(str(src)))


def test_fold_injected_moves_papermill_values_into_the_parameters_cell(tmp_path):
    import papermill
    src = _write_source(tmp_path, ["print('N is', N)"], params="N = 1  # n")
    fresh, old = tmp_path / "fresh.ipynb", tmp_path / "demo.ipynb"
    nbformat.write(ex.read_source(str(src)), str(fresh))
    papermill.execute_notebook(str(fresh), str(old), parameters={"N": 7}, progress_bar=False)
    before = nbformat.read(str(old), as_version=4)
    assert "injected-parameters" in [t for c in before.cells for t in c.metadata.get("tags", [])]
    assert ex.fold_injected(str(old)) == {"N": 7}
    nb = nbformat.read(str(old), as_version=4)
    assert [c.source for c in nb.cells if c.metadata.get("tags")] == ["N = 7  # n"]
    assert _cells(nb) == _cells(ex.read_source(str(src)))
    assert nb.cells[-1].outputs == before.cells[-1].outputs
    assert ex.fold_injected(str(old)) == {}


def test_failed_run_keeps_the_saved_notebook(tmp_path):
    _write_source(tmp_path, ["print('fine')"])
    target = tmp_path / "demo.ipynb"
    ex.execute(str(target))
    before = target.read_bytes()
    _write_source(tmp_path, ["print('fine')", "raise ValueError('weights could not be downloaded')"])
    with pytest.raises(ex.NotebookFailed) as e:
        ex.execute(str(target))
    assert target.read_bytes() == before                    # saved outputs untouched
    msg = str(e.value)
    assert "ValueError" in msg and "weights could not be downloaded" in msg
    assert "left as it was" in msg and "demo.failed.ipynb" in msg
    partial = nbformat.read(e.value.partial, as_version=4)
    assert any(o.output_type == "error" for c in partial.cells for o in c.get("outputs", []))
    assert not list(tmp_path.glob(".*running*"))
    _write_source(tmp_path, ["print('fixed')"])
    ex.execute(str(target))                                  # the next success...
    assert not (tmp_path / "demo.failed.ipynb").exists()     # ...clears the stale partial


def test_command_line_failure_exit_code(tmp_path):
    _write_source(tmp_path, ["1 / 0"])
    target = tmp_path / "demo.ipynb"
    r = subprocess.run([sys.executable, "-m", "notebook_tools.execute", str(target),
                        "-p", "N", "3"], capture_output=True, text=True, cwd=str(tmp_path))
    assert r.returncode == 1
    assert "ZeroDivisionError" in r.stderr and "partial run" in r.stderr
    assert not target.exists()


def test_command_line_rejects_an_unknown_parameter(tmp_path):
    _write_source(tmp_path, ["print(N)"])
    r = subprocess.run([sys.executable, "-m", "notebook_tools.execute",
                        str(tmp_path / "demo.ipynb"), "-p", "M", "3"],
                       capture_output=True, text=True, cwd=str(tmp_path))
    assert r.returncode == 1 and "M is not assigned in the parameters cell" in r.stderr
    assert not (tmp_path / "demo.ipynb").exists()


def test_source_path_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        ex.source_path(str(tmp_path / "missing.ipynb"))


def test_parameter_values():
    assert ex._parse_value("4") == 4 and ex._parse_value("None") is None
    assert ex._parse_value("[0, 8, 512]") == [0, 8, 512]
    assert ex._parse_value("imagenet") == "imagenet"


# ---------------------------------------------------------------------------
# progress
# ---------------------------------------------------------------------------
def test_progress_in_a_kernel_leaves_one_summary_line(tmp_path):
    _write_source(tmp_path, [
        "from notebook_tools.progress import progress\nimport time\n"
        "for i in progress(range(5), desc='influence on chain saw', unit='image', interval=0):\n"
        "    time.sleep(0.01)\n"
        "with progress(total=3, desc='quiet', summary=False) as bar:\n"
        "    bar.update(3)"])
    target = tmp_path / "demo.ipynb"
    ex.execute(str(target))
    nb = nbformat.read(str(target), as_version=4)
    outs = nb.cells[-1].outputs
    assert not [o for o in outs if o.output_type == "stream"]
    texts = [o.data["text/plain"] for o in outs if o.output_type == "display_data"]
    assert texts[0].startswith("influence on chain saw: 5/5 images in ")
    assert texts[1] == "''" or texts[1].strip("'\"") == ""


def test_progress_counts_and_disable_is_silent(capsys):
    from notebook_tools.progress import progress
    bar = progress(total=4, desc="x", disable=True)
    for _ in range(4):
        bar.update()
    bar.close()
    assert bar.n == 4 and capsys.readouterr().err == ""
    with pytest.raises(TypeError, match="no iterable"):
        iter(progress(total=2, disable=True)).__next__()


def test_synthetic_wording_flags_the_other_worlds_words_only():
    from helpers import synthetic_wording
    flagged = lambda text: [w for w, _ in synthetic_wording([text])]
    assert flagged("The neuron's mass is highest on the roof (2.1x chance).") == ["roof",
                                                                                   "2.1x chance"]
    assert flagged("It puts most of its attribution inside the object mask.")
    assert flagged("Grad-CAM's mask covers 30% of the image; LIME's mask 63%.") == []
    assert flagged("These photos come with no object masks: only the picture shows it.") == []
    assert flagged("> **These outputs were produced in the ImageNet world.** (not synthetic)") == []

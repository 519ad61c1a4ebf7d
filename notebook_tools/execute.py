"""Execute a notebook from its Jupytext source, and keep the saved one if the run fails.

Every notebook of the project is a pair: the ``.ipynb`` that graders open, with its
saved outputs, and a percent-format ``.py`` (its cells, the reviewable source). The
pairing is in the notebook's metadata (``jupytext.formats``): ``notebooks/x.ipynb``
pairs with ``notebooks/x.py``, and ``hw3_explain.ipynb`` at the top level with
``notebooks/hw3_explain.py``. Jupyter with Jupytext keeps both in step when you edit.

:func:`execute` reads the source, writes the parameters into the assignments of the
cell tagged ``parameters`` (:func:`set_parameters`: the saved notebook shows one
parameters cell holding the values the run used, where papermill would add a second,
injected cell), runs it with papermill into a temporary file and replaces the saved
notebook only when every cell ran. When a cell fails, the saved
notebook is left as it was, the partial run is kept beside it as ``x.failed.ipynb``
and :class:`NotebookFailed` says which cell failed with what.

Command line (what the Makefile's notebook targets call)::

    python -m notebook_tools.execute hw3_explain.ipynb -p WORLD imagenet
    python -m notebook_tools.execute notebooks/x.ipynb -p STEPS 4 -p N_IMAGES 2
"""
import argparse
import ast
import json
import os
import sys
import tempfile

__all__ = ["execute", "source_path", "NotebookFailed", "read_source", "set_parameters",
           "parameters_cell", "without_values", "fold_injected", "main"]

DEFAULT_FORMATS = "ipynb,py:percent"


class NotebookFailed(RuntimeError):
    """A cell raised: the saved notebook is untouched, the partial run is at
    ``partial``."""

    def __init__(self, message, partial=None):
        super().__init__(message)
        self.partial = partial


def _formats(notebook_path):
    """The Jupytext pairing of a saved notebook (``DEFAULT_FORMATS`` if unset)."""
    import nbformat
    if not os.path.exists(notebook_path):
        return DEFAULT_FORMATS
    nb = nbformat.read(notebook_path, as_version=4)
    return nb.metadata.get("jupytext", {}).get("formats", DEFAULT_FORMATS)


def source_path(notebook_path):
    """The percent-format source paired with ``notebook_path``.

    Raises:
        FileNotFoundError: the notebook names no ``.py`` pairing, or the file is missing.
    """
    from jupytext.paired_paths import paired_paths
    notebook_path = os.path.abspath(notebook_path)
    formats = _formats(notebook_path)
    for path, fmt in paired_paths(notebook_path, "ipynb", formats):
        if fmt.get("extension") == ".py":
            if not os.path.exists(path):
                raise FileNotFoundError(
                    "%s is paired with %s, which does not exist; create it with "
                    "`jupytext --sync %s`" % (notebook_path, path, notebook_path))
            return path
    raise FileNotFoundError("%s has no paired .py source (jupytext formats %r); pair it "
                            "with `jupytext --set-formats ipynb,py:percent %s`"
                            % (notebook_path, formats, notebook_path))


def read_source(path):
    """The notebook a percent-format source describes (cells, no outputs)."""
    import jupytext
    return jupytext.read(path, fmt="py:percent")


def parameters_cell(nb):
    """The cell tagged ``parameters`` (papermill's convention), or None."""
    cells = [c for c in nb.cells if "parameters" in c.get("metadata", {}).get("tags", [])]
    if len(cells) > 1:
        raise ValueError("%d cells are tagged 'parameters'; a notebook has one" % len(cells))
    return cells[0] if cells else None


def _assignments(source):
    """[(name, value node)] of the top-level assignments of a cell's source."""
    out = []
    for node in ast.parse(source).body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 \
                and isinstance(node.targets[0], ast.Name):
            out.append((node.targets[0].id, node.value))
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) \
                and node.value is not None:
            out.append((node.target.id, node.value))
    return out


def _literal(value):
    """Python source of a parameter value (strings in double quotes, as the sources
    write them)."""
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, (list, tuple)):
        inner = ", ".join(_literal(v) for v in value)
        return "[%s]" % inner if isinstance(value, list) else "(%s%s)" % (
            inner, "," if len(value) == 1 else "")
    if isinstance(value, dict):
        return "{%s}" % ", ".join("%s: %s" % (_literal(k), _literal(v))
                                  for k, v in value.items())
    text = repr(value)
    if ast.literal_eval(text) != value:
        raise ValueError("parameter value %r has no Python literal" % (value,))
    return text


def _replace_values(source, values):
    """``source`` with the value of each top-level assignment ``NAME = value`` whose
    NAME is in ``values`` replaced by ``values[NAME]`` (comments and layout kept)."""
    lines = source.encode("utf-8").split(b"\n")
    for name, node in sorted(_assignments(source), key=lambda nv: (nv[1].lineno,
                                                                   nv[1].col_offset),
                             reverse=True):
        if name not in values:
            continue
        first, last = node.lineno - 1, node.end_lineno - 1
        head, tail = lines[first][:node.col_offset], lines[last][node.end_col_offset:]
        lines[first:last + 1] = [head + values[name].encode("utf-8") + tail]
    return b"\n".join(lines).decode("utf-8")


def set_parameters(nb, parameters):
    """Write ``parameters`` into the assignments of ``nb``'s parameters cell (in place).

    Args:
        nb: a notebook (nbformat).
        parameters: dict name -> value (str, number, bool, None, list, dict).
    Returns:
        ``nb``.
    Raises:
        ValueError: a name the parameters cell does not assign (a typo would
            otherwise run with the default), or no parameters cell.
    """
    if not parameters:
        return nb
    cell = parameters_cell(nb)
    if cell is None:
        raise ValueError("the notebook has no cell tagged 'parameters' to write %s into; "
                         "tag the cell that assigns them" % sorted(parameters))
    known = [n for n, _ in _assignments(cell.source)]
    unknown = sorted(set(parameters) - set(known))
    if unknown:
        raise ValueError("%s %s not assigned in the parameters cell; its parameters are %s"
                         % (", ".join(unknown), "is" if len(unknown) == 1 else "are",
                            ", ".join(known)))
    cell.source = _replace_values(cell.source, {k: _literal(v) for k, v in parameters.items()})
    return nb


def without_values(source):
    """A parameters cell's source with every assigned value replaced by ``...``: what a
    saved notebook executed with other values still shares with its source."""
    return _replace_values(source, {n: "..." for n, _ in _assignments(source)})


def fold_injected(notebook_path):
    """Move the values of papermill's injected-parameters cell into the parameters cell
    of a saved notebook and drop the injected cell; outputs stay as they are (they were
    computed with exactly these values).

    For notebooks executed before :func:`execute` wrote parameters in place.

    Returns:
        dict of the values folded in ({} when there was no injected cell).
    """
    import nbformat
    nb = nbformat.read(notebook_path, as_version=4)
    injected = [c for c in nb.cells if "injected-parameters" in c.metadata.get("tags", [])]
    if not injected:
        return {}
    values = {}
    for cell in injected:
        values.update({n: ast.literal_eval(v) for n, v in _assignments(cell.source)})
    set_parameters(nb, values)
    nb.cells = [c for c in nb.cells if not any(c is i for i in injected)]
    nbformat.write(nb, notebook_path)
    return values


def _parse_value(text):
    import yaml
    if text in ("None", "none", "null"):
        return None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError:
        return text


def _failure(error, notebook_path, partial):
    where = ""
    cell = getattr(error, "exec_count", None)
    if cell is not None:
        where = " in cell [%s]" % cell
    what = "%s: %s" % (getattr(error, "ename", type(error).__name__),
                       getattr(error, "evalue", str(error)))
    return ("%s failed%s: %s\nThe saved notebook was left as it was; the partial run is "
            "in %s." % (os.path.relpath(notebook_path), where, what.strip(), partial))


def execute(notebook_path, parameters=None, source=None, kernel_name="python3",
            cwd=None, log_output=False):
    """Run a notebook from its source and save it with outputs, only on success.

    Args:
        notebook_path: the saved ``.ipynb`` to (re)write.
        parameters: dict of values written into the assignments of the cell tagged
            ``parameters`` (:func:`set_parameters`) before the run.
        source: the percent-format source (default: the notebook's pairing,
            :func:`source_path`).
        kernel_name: the Jupyter kernel.
        cwd: the kernel's working folder (default: the notebook's folder, as in
            Jupyter).
        log_output: echo cell outputs to the terminal while they run.
    Returns:
        the path written.
    Raises:
        NotebookFailed: a cell raised; ``notebook_path`` is unchanged and the
            partial run is kept as ``<name>.failed.ipynb`` beside it.
        ValueError: a parameter the parameters cell does not assign.
    """
    import nbformat
    import papermill
    notebook_path = os.path.abspath(notebook_path)
    source = os.path.abspath(source or source_path(notebook_path))
    folder = os.path.dirname(notebook_path)
    stem = os.path.splitext(os.path.basename(notebook_path))[0]
    nb = set_parameters(read_source(source), parameters)
    nb.metadata.setdefault("jupytext", {})["formats"] = _formats(notebook_path) \
        if os.path.exists(notebook_path) else nb.metadata.get("jupytext", {}).get(
            "formats", DEFAULT_FORMATS)
    with tempfile.TemporaryDirectory(prefix="notebook-") as tmp:
        fresh = os.path.join(tmp, stem + ".ipynb")
        nbformat.write(nb, fresh)
        fd, running = tempfile.mkstemp(prefix="." + stem + ".", suffix=".running.ipynb",
                                       dir=folder)
        os.close(fd)
        try:
            papermill.execute_notebook(fresh, running, kernel_name=kernel_name,
                                       cwd=cwd or folder, progress_bar=False,
                                       log_output=log_output)
        except BaseException as e:
            partial = os.path.join(folder, stem + ".failed.ipynb")
            if os.path.exists(running) and os.path.getsize(running) > 0:
                os.replace(running, partial)
            else:
                partial = None
                _remove(running)
            if isinstance(e, KeyboardInterrupt):
                raise
            raise NotebookFailed(_failure(e, notebook_path, partial), partial) from e
        _record(running, parameters)
        os.replace(running, notebook_path)
    _remove(os.path.join(folder, stem + ".failed.ipynb"))   # an older failure is stale
    return notebook_path


def _record(path, parameters):
    """Note the parameters in the saved notebook's papermill metadata, as papermill
    does when it injects them."""
    import nbformat
    nb = nbformat.read(path, as_version=4)
    nb.metadata.setdefault("papermill", {})["parameters"] = dict(parameters or {})
    nbformat.write(nb, path)


def _remove(path):
    try:
        os.remove(path)
    except FileNotFoundError:
        pass


def main(argv=None):
    """``python -m notebook_tools.execute NOTEBOOK [-p NAME VALUE]...``; exit 1 on failure."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 prog="python -m notebook_tools.execute")
    ap.add_argument("notebook", help="the saved .ipynb to re-execute from its source")
    ap.add_argument("-p", "--parameter", nargs=2, action="append", default=[],
                    metavar=("NAME", "VALUE"), help="a parameter (YAML value)")
    ap.add_argument("--log-output", action="store_true", help="echo cell outputs")
    ap.add_argument("--fold-injected", action="store_true",
                    help="do not execute: move a saved notebook's papermill-injected "
                         "values into its parameters cell")
    args = ap.parse_args(argv)
    if args.fold_injected:
        print("%s: folded %r" % (args.notebook, fold_injected(args.notebook)))
        return 0
    params = {k: _parse_value(v) for k, v in args.parameter}
    shown = " ".join("%s=%r" % kv for kv in params.items())
    print(("executing %s %s" % (args.notebook, shown)).rstrip(), flush=True)
    try:
        path = execute(args.notebook, params, log_output=args.log_output)
    except (NotebookFailed, FileNotFoundError, ValueError) as e:
        print("error: %s" % e, file=sys.stderr)
        return 1
    print("saved %s" % os.path.relpath(path))
    return 0


if __name__ == "__main__":
    sys.exit(main())

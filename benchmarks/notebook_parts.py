"""Wall time of the homework notebook in the ImageNet world, part by part.

Runs ``hw3_explain.ipynb`` with papermill, as ``make notebook`` does, into a
temporary file (the saved notebook is never touched), on the VGG16 weight file
``HW3_VGG16_WEIGHTS`` (default: stand-in weights, random values in the official layout
written by ``weights/stand_in.py``: the arithmetic is VGG16's) and the photos of
``HW3_IMAGE_DIR`` (default ``../shared/data/imagenet``), then sums papermill's
per-cell durations under each heading of the notebook. 6.3's image list
(``IMAGE_LIST``) goes to the temporary directory unless ``-p IMAGE_LIST`` says
otherwise, so the clone's ``extra_credit_images.txt`` is left alone::

    .venv/bin/python benchmarks/notebook_parts.py                      # defaults (20 min)
    .venv/bin/python benchmarks/notebook_parts.py -p STEPS 4 -p N_IMAGES 3 -p GRID "[0, 8, 512]"

Prints a Markdown table (part, cells, seconds) and writes it with ``--out``.
"""
import argparse
import ast
import json
import os
import shutil
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def parts(nb):
    """[(heading, [(cell index, seconds, first source line)])] in notebook order."""
    out, current = [], ("setup (parameters, imports, model load, banner)", [])
    for i, cell in enumerate(nb["cells"]):
        src = "".join(cell["source"])
        if cell["cell_type"] == "markdown":
            for line in src.splitlines():
                if line.startswith("# ") or line.startswith("## "):
                    if current[1]:
                        out.append(current)
                    current = (line.lstrip("# ").strip(), [])
                    break
            continue
        secs = cell.get("metadata", {}).get("papermill", {}).get("duration") or 0.0
        first = next((l for l in src.splitlines() if l.strip() and not l.startswith("#")), "")
        current[1].append((i, float(secs), first[:70]))
    if current[1]:
        out.append(current)
    return out


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("-p", nargs=2, action="append", default=[], metavar=("NAME", "VALUE"),
                   help="a notebook parameter (Python literal), e.g. -p STEPS 4")
    p.add_argument("--out", help="also write the table here")
    p.add_argument("--cells", action="store_true", help="list every cell's time")
    a = p.parse_args(argv)
    params = {"WORLD": "imagenet"}
    for name, value in a.p:
        try:
            params[name] = ast.literal_eval(value)
        except (ValueError, SyntaxError):
            params[name] = value
    shared = os.path.abspath(os.path.join(ROOT, "..", "shared", "data", "imagenet"))
    os.environ.setdefault("HW3_IMAGE_DIR", shared)
    work = tempfile.mkdtemp(prefix="hw3-nbparts-")
    try:
        nb, wall, load, shown = run(params, work)
    except BaseException:
        print("notebook_parts: the run failed; its notebook and weights are kept in %s" % work)
        raise
    shutil.rmtree(work, ignore_errors=True)
    lines = ["| part | cells | time |", "|---|---|---|"]
    total = 0.0
    for heading, cells in parts(nb):
        s = sum(c[1] for c in cells)
        total += s
        lines.append("| %s | %d | %.1f s |" % (heading, len(cells), s))
        if a.cells:
            lines.extend("|   cell %d: `%s` | | %.1f s |" % (i, src.replace("|", "/"), t)
                         for i, t, src in cells)
    lines.append("| **all cells** | | **%.1f s = %.1f min** (papermill wall %.1f s, kernel "
                 "start included) |" % (total, total / 60, wall))
    text = "Parameters: %s; load average at start %.2f.\n\n%s\n" % (
        shown, load, "\n".join(lines))
    print(text)
    if a.out:
        with open(a.out, "w") as f:
            f.write(text)


def run(params, work):
    """Execute the notebook with ``params`` in ``work`` (stand-in weights written there
    unless ``HW3_VGG16_WEIGHTS`` is set).

    Returns:
        (executed notebook as JSON, papermill wall time, load average at the start,
        the parameters as the table states them).
    """
    if "HW3_VGG16_WEIGHTS" not in os.environ:
        from weights import stand_in
        path = os.path.join(work, "vgg16_stand_in.h5")
        stand_in.write_official_weight_file(path, seed=0)
        os.environ["HW3_VGG16_WEIGHTS"] = path
    shown = ", ".join("%s=%r" % kv for kv in params.items())
    params = dict(params)
    params.setdefault("IMAGE_LIST", os.path.join(work, "extra_credit_images.txt"))
    out = os.path.join(work, "run.ipynb")
    load = os.getloadavg()[0]
    t0 = time.perf_counter()
    import papermill
    papermill.execute_notebook(os.path.join(ROOT, "hw3_explain.ipynb"), out, cwd=ROOT,
                               parameters=params, progress_bar=False)
    wall = time.perf_counter() - t0
    with open(out) as f:
        return json.load(f), wall, load, shown


if __name__ == "__main__":
    main()

"""The documentation names only what exists, and the product carries no internal ticket
numbers.

* every ``make`` target, file path, pytest node and Python module (with its attribute,
  where one is named) that ``README.md`` and ``docs/*.md`` quote in backticks or in a
  code block exists: a target is a rule of the ``Makefile``; a path exists in the
  clone, or is one that git ignores (generated: ``.venv/``, ``dist/``, downloaded
  weights); a module ``a.b`` exists when ``a/b.py`` or ``a/b/__init__.py`` does, and a
  name after it (``a.b.C``, ``a.b.C.method``) is defined there;
* every relative link resolves;
* the README stays short (at most :data:`README_MAX_LINES` lines);
* no tracked text file (notebooks: their cells' sources, not their outputs) mentions
  an internal ticket number in the form the tracker uses.

The checker itself is tested on made-up names (:func:`test_checker_reports_made_up_names`),
so a check that cannot fail does not pass for one that passes.
"""
import ast
import functools
import glob
import json
import os
import re
import subprocess

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
README_MAX_LINES = 150

#: File name endings that make a backticked word a path.
EXTENSIONS = ("py", "ipynb", "md", "txt", "tsv", "csv", "json", "yaml", "yml", "toml",
              "h5", "png", "zip", "ini", "npz", "sh")
#: First components of dotted names that belong to other libraries or to local variables
#: in examples, never to this project (a dotted name starting otherwise must resolve).
FOREIGN = {"np", "numpy", "theano", "T", "K", "keras", "torch", "captum", "scipy", "sklearn",
           "lime", "skimage", "matplotlib", "plt", "papermill", "nbval", "jupytext", "otter",
           "pytest", "os", "sys", "model", "self", "world", "expl", "zennit", "torchvision",
           "pytorch_grad_cam", "shap", "cv2", "utils", "solution", "e", "i"}

# A ticket number as the tracker writes it: the word for a ticket followed by a number
# (with or without "#"), or "#" and a number alone (not a colour, an anchor or an HTML
# entity). The pattern is written so that this file does not match it.
TICKET = re.compile(r"\bissues?[\s#-]*\d+|(?<![\w&#/'\"])#\d{1,4}\b", re.IGNORECASE)

IDENT = r"[A-Za-z_]\w*"
DOTTED = re.compile(r"^%s(\.%s)+$" % (IDENT, IDENT))
FENCE = re.compile(r"^```([^\n]*)\n(.*?)^```", re.DOTALL | re.MULTILINE)
#: Code blocks in these languages are commands or code, whose names are checked (a
#: ``text`` block, such as a diagram, is not).
CHECKED_BLOCKS = ("", "bash", "sh", "shell", "console", "python")
INLINE = re.compile(r"`([^`\n]+)`")
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")


def documents():
    """README.md and every docs/*.md, as paths relative to the clone."""
    return ["README.md"] + sorted(os.path.relpath(p, ROOT)
                                  for p in glob.glob(os.path.join(ROOT, "docs", "*.md")))


@functools.lru_cache(maxsize=None)
def make_targets():
    """The targets of the Makefile's rules (not its variable assignments)."""
    targets = set()
    with open(os.path.join(ROOT, "Makefile")) as f:
        for line in f:
            m = re.match(r"^([\w.%/-]+(?:\s+[\w.%/-]+)*)\s*:(?!=)", line)
            if m and not line.startswith("\t"):
                targets.update(m.group(1).split())
    return targets


def _ignored(path):
    """True when git ignores ``path`` (a generated file: venvs, caches, downloads)."""
    r = subprocess.run(["git", "check-ignore", "-q", "--no-index", path], cwd=ROOT)
    return r.returncode == 0


def _module_file(parts):
    """The source file of the project module named by ``parts``, or None."""
    base = os.path.join(ROOT, *parts)
    for candidate in (base + ".py", os.path.join(base, "__init__.py")):
        if os.path.isfile(candidate):
            return candidate
    return None


@functools.lru_cache(maxsize=None)
def _definitions(path):
    """{name: set of names defined in its body} for the top level of a module (classes
    map to their methods, attributes and dataclass fields; other names to an empty set)."""
    with open(path) as f:
        tree = ast.parse(f.read())
    names = {}

    def targets(node):
        if isinstance(node, ast.Assign):
            return [t.id for t in node.targets if isinstance(t, ast.Name)]
        if isinstance(node, (ast.AnnAssign, ast.AugAssign)) and isinstance(node.target, ast.Name):
            return [node.target.id]
        return []

    for node in tree.body:
        if isinstance(node, ast.ClassDef):
            members = set()
            for sub in node.body:
                if isinstance(sub, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                    members.add(sub.name)
                members.update(targets(sub))
            names[node.name] = members
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            names[node.name] = set()
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            for alias in node.names:
                names[(alias.asname or alias.name).split(".")[0]] = set()
        else:
            for name in targets(node):
                names[name] = set()
    return names


def check_module(name):
    """None if the dotted ``name`` is a project module (and its attributes), else why not."""
    parts = name.split(".")
    for k in range(len(parts), 0, -1):
        path = _module_file(parts[:k])
        if path is None:
            continue
        rest = parts[k:]
        if not rest:
            return None
        defs = _definitions(path)
        if rest[0] not in defs and parts[k - 1] in defs and rest[0] in defs[parts[k - 1]]:
            return None         # the starter's module named for its class: Explanation.using
        if rest[0] not in defs:
            where = os.path.relpath(path, ROOT)
            if path.endswith("__init__.py"):
                return "%s: no module %s.py, and %s defines no %r" % (
                    name, "/".join(parts[:k + 1]), where, rest[0])
            return "%s: %s defines no %r" % (name, where, rest[0])
        if len(rest) > 1 and defs[rest[0]] and rest[1] not in defs[rest[0]]:
            return "%s: %s.%s has no %r" % (name, ".".join(parts[:k]), rest[0], rest[1])
        return None
    if parts[0] in FOREIGN:
        return None
    looked = ", ".join("/".join(parts[:k]) + ".py" for k in range(1, len(parts) + 1))
    return "%s: no such module in the project (none of %s, nor a package)" % (name, looked)


def check_path(word):
    """None if ``word`` names an existing (or git-ignored) path, else why not."""
    word = word.rstrip(".,:;")
    node = None
    if "::" in word:
        word, node = word.split("::", 1)
    if re.match(r"^\.\w+$", word):
        return None                                   # a file type (".npz"), not a file
    if any(c in word for c in "<>*{}$~[]") or word.startswith(("../", "/", "http")):
        return None                                   # a placeholder or outside the clone
    full = os.path.join(ROOT, word)
    if os.path.exists(full):
        if node and word.endswith(".py"):
            defs = _definitions(full)
            head = node.split("::")[0].split("[")[0]
            if head not in defs:
                return "%s: no %s in %s" % (word + "::" + node, head, word)
        return None
    stem, dot, attr = word.rpartition(".")
    if dot and "/" in stem and os.path.isfile(os.path.join(ROOT, stem + ".py")):
        # a path to a module with an attribute: tests/helpers.run_imagenet_world
        return check_module(stem.replace("/", ".") + "." + attr)
    if _ignored(word):
        return None
    return "%s: no such file or folder" % word


def _is_path(word):
    if "/" in word and not word.startswith(("http", "-")):
        return True
    return re.search(r"\.(%s)(::\S+)?$" % "|".join(EXTENSIONS), word) is not None


def check_span(span):
    """Every problem with the names in one backticked span or code-block line."""
    problems = []
    words = span.strip().split()
    if not words:
        return problems
    for i, word in enumerate(words):
        if word == "make" and i + 1 < len(words):
            target = next((w for w in words[i + 1:] if "=" not in w and not w.startswith("-")),
                          None)
            if target and re.match(r"^[\w.-]+$", target) and target not in make_targets():
                problems.append("make %s: no such target in the Makefile" % target)
        if word == "-m" and i + 1 < len(words) and DOTTED.match(words[i + 1]) or (
                word == "-m" and i + 1 < len(words) and re.match(r"^%s$" % IDENT, words[i + 1])):
            module = words[i + 1]
            if module.split(".")[0] not in FOREIGN and _module_file(module.split(".")) is None:
                problems.append("-m %s: no such module" % module)
    m = re.match(r"^(?:from\s+(%s(?:\.%s)*)\s+import\s+([\w, ]+)|import\s+(%s(?:\.%s)*))"
                 % (IDENT, IDENT, IDENT, IDENT), span.strip())
    if m:                                       # an import line of a code example
        module = m.group(1) or m.group(3)
        names = [n.strip().split(" as ")[0] for n in (m.group(2) or "").split(",") if n.strip()]
        for full in [module] if not names else [module + "." + n for n in names]:
            p = check_module(full)
            if p:
                problems.append(p)
        return problems
    for word in words:
        value = word.split("=", 1)[1] if re.match(r"^[A-Z_]+=", word) else word
        value = value.strip("\"'()[],;")
        if not value or value.startswith("#"):
            continue
        if _is_path(value):
            p = check_path(value)
        elif DOTTED.match(re.sub(r"\(.*$", "", value)) and len(words) == 1:
            p = check_module(re.sub(r"\(.*$", "", value))
        else:
            p = None
        if p:
            problems.append(p)
    return problems


def slug(heading):
    """The anchor GitHub gives a heading: lower case, punctuation dropped, spaces to '-'."""
    text = re.sub(r"[`*_]", "", heading.strip().lower())
    return re.sub(r"\s", "-", re.sub(r"[^\w\s-]", "", text))


def check_markdown(text, where="."):
    """Every problem in one Markdown text: names in backticks and code blocks, links."""
    problems = []
    for lang, block in FENCE.findall(text):
        if lang.strip() not in CHECKED_BLOCKS:
            continue
        for line in block.splitlines():
            line = line.split("  #")[0]                 # a comment after the command
            if line.strip().startswith("#"):
                continue
            if lang.strip() == "python" and not re.match(r"^\s*(from|import)\s", line):
                continue                                # code: only its imports name modules
            problems += check_span(line)
    prose = FENCE.sub("", text)
    for span in INLINE.findall(prose):
        problems += check_span(span)
    anchors = {slug(h) for h in re.findall(r"^#+\s+(.+?)\s*$", prose, re.MULTILINE)}
    for target in LINK.findall(prose):
        if re.match(r"^[a-z]+:", target):
            continue
        if target.startswith("#"):
            if target[1:] not in anchors:
                problems.append("link %s: no such heading in this page" % target)
            continue
        path = os.path.normpath(os.path.join(ROOT, where, target.split("#")[0]))
        if not os.path.exists(path):
            problems.append("link %s: %s does not exist" % (target, os.path.relpath(path, ROOT)))
    return problems


@pytest.mark.parametrize("doc", documents())
def test_every_name_in_the_docs_exists(doc):
    with open(os.path.join(ROOT, doc)) as f:
        problems = check_markdown(f.read(), os.path.dirname(doc))
    assert not problems, "%s names what does not exist:\n  %s" % (doc, "\n  ".join(problems))


def test_docs_folder_holds_the_guides():
    for name in ("architecture.md", "adding_a_method.md", "quadrature.md", "courses.md"):
        assert os.path.isfile(os.path.join(ROOT, "docs", name)), "docs/%s is missing" % name


def test_readme_is_short():
    with open(os.path.join(ROOT, "README.md")) as f:
        n = len(f.read().splitlines())
    assert n <= README_MAX_LINES, ("README.md has %d lines (at most %d): move detail to "
                                   "docs/ and link it" % (n, README_MAX_LINES))


def _tracked_text(path):
    """The text of a tracked file that people read (None for a binary); for a notebook,
    its cells' sources only (outputs are what a run printed)."""
    with open(os.path.join(ROOT, path), "rb") as f:
        data = f.read()
    if b"\0" in data[:8192]:
        return None
    text = data.decode("utf-8", errors="replace")
    if path.endswith(".ipynb"):
        return "\n".join("".join(c.get("source", "")) for c in json.loads(text)["cells"])
    return text


def test_no_internal_ticket_numbers_in_product_files():
    files = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True,
                           check=True).stdout.split()
    hits = []
    for path in files:
        if not os.path.isfile(os.path.join(ROOT, path)):
            continue
        text = _tracked_text(path)
        for n, line in enumerate((text or "").splitlines(), 1):
            if TICKET.search(line):
                hits.append("%s:%d: %s" % (path, n, line.strip()[:100]))
    assert not hits, ("internal ticket numbers in product files (say what the change is, "
                      "not which ticket asked for it):\n  " + "\n  ".join(hits))


def test_checker_reports_made_up_names(tmp_path):
    """The checker fails on each kind of name that does not exist, and passes real ones."""
    fake = "\n".join([
        "Run `make no-such-target` or `make test`.",
        "See `chain/no_such_file.py`, `README.md` and `tests/test_docs.py::no_such_test`.",
        "The module `chain.no_such_module`, the module `AumannShapley` and its",
        "`AumannShapley.no_such_rule`, but `AumannShapley.quadrature` exists.",
        "The class `Explanation.Explanation.no_such_method`; `np.add.at` is foreign.",
        "```bash", "python -m no_such_package.tool", "make venv   # fine", "```",
        "A [broken link](docs/no_such_page.md) and a [good one](README.md).",
        "## A heading, with `code`", "[here](#a-heading-with-code), [there](#no-such-heading).",
    ])
    problems = check_markdown(fake)
    for name in ("make no-such-target", "chain/no_such_file.py", "no_such_test",
                 "chain.no_such_module", "no_such_rule", "no_such_method",
                 "-m no_such_package.tool", "docs/no_such_page.md", "#no-such-heading"):
        assert any(name in p for p in problems), (name, problems)
    assert len(problems) == 9, problems
    ticket = "see iss" + "ue 7"
    assert TICKET.search(ticket) and TICKET.search("fixed in #" + "12")
    assert not TICKET.search("colour #1f77b4, entity &#215;, [anchor](#part-iv)")

"""Solution regions in Python modules: otter-grader's markers, stripped by us.

In the modules a region is a block of whole lines between ``# BEGIN SOLUTION`` and
``# END SOLUTION`` comment lines (otter-grader's syntax, which ``otter assign`` strips
only in notebooks). The student version replaces each region by one line at the
region's indentation::

    raise NotImplementedError("<function>: write this (handout <section>)")

so every function keeps its signature and docstring, and the starter imports.
"""
import ast
import re

BEGIN = re.compile(r"^(\s*)# BEGIN SOLUTION\b.*$")
END = re.compile(r"^\s*# END SOLUTION\b.*$")


class MarkerError(ValueError):
    """Unbalanced or nested solution markers."""


def regions(source):
    """(begin line, end line, indent) of every region, 0-based line numbers."""
    found, open_ = [], None
    for i, line in enumerate(source.split("\n")):
        m = BEGIN.match(line)
        if m:
            if open_ is not None:
                raise MarkerError("line %d: BEGIN SOLUTION inside the region opened at "
                                  "line %d" % (i + 1, open_[0] + 1))
            open_ = (i, m.group(1))
        elif END.match(line):
            if open_ is None:
                raise MarkerError("line %d: END SOLUTION without BEGIN" % (i + 1))
            found.append((open_[0], i, open_[1]))
            open_ = None
    if open_ is not None:
        raise MarkerError("line %d: BEGIN SOLUTION is never closed" % (open_[0] + 1))
    return found


def _enclosing_functions(source):
    """line (1-based) -> qualified name of the innermost function holding it."""
    tree = ast.parse(source)
    owner = {}

    def walk(node, prefix):
        for ch in ast.iter_child_nodes(node):
            if isinstance(ch, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                name = prefix + ch.name
                if not isinstance(ch, ast.ClassDef):
                    for line in range(ch.lineno, ch.end_lineno + 1):
                        owner[line] = name
                walk(ch, name + ".")
    walk(tree, "")
    return owner


def strip(source, section_of=None):
    """The student version of a module.

    Args:
        source: the module's text with its solution regions marked.
        section_of: function qualname -> a handout section for the message (optional).
    Returns:
        the text with every region replaced by ``raise NotImplementedError(...)``.
    """
    found = regions(source)
    owner = _enclosing_functions(source)
    lines = source.split("\n")
    for begin, end, indent in reversed(found):
        name = owner.get(begin + 2, "this function")
        where = section_of(name) if section_of else None
        msg = "%s: write this%s" % (name, " (handout %s)" % where if where else "")
        lines[begin:end + 1] = ["%sraise NotImplementedError(%r)" % (indent, msg)]
    out = "\n".join(lines)
    ast.parse(out)   # the starter must stay valid Python
    return out


def unmark(source):
    """The module with the marker lines removed (what the solution runs)."""
    return "\n".join(l for l in source.split("\n") if not (BEGIN.match(l) or END.match(l)))

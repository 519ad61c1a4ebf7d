"""Progress for long loops that leaves saved notebooks clean.

In a terminal a tqdm bar runs on stderr and is erased when the loop ends. Inside a
Jupyter kernel (Jupyter, papermill, nbval) a tqdm bar would be saved as a red stderr box
full of ``\\r`` fragments; there the progress is one plain-text display that is updated
in place while the cell runs (at most every ``interval`` seconds) and ends as a single
summary line, e.g. ``explaining s_sports car: 10/10 images in 3.2 s``. A progress
opened while another one runs (a class loop around an image loop) shows on the outer
one's line and leaves nothing of its own, so a cell ends with one line per outer loop.

Usage::

    for x in progress(items, desc="influence on chain saw", unit="image"):
        ...
    with progress(total=n, desc="grid for chain saw") as bar:
        bar.update(k)
"""
import sys
import time

from tqdm.std import tqdm

__all__ = ["progress", "Progress", "in_kernel"]

_ACTIVE = []   # the open notebook displays, outermost first


def in_kernel():
    """True when running inside an IPython kernel (Jupyter, papermill, nbval)."""
    shell = sys.modules.get("IPython") and _shell()
    return bool(shell) and getattr(shell, "kernel", None) is not None


def _forget_open_displays(*_):
    """After each cell: a loop that died with its cell must not swallow the next."""
    del _ACTIVE[:]


_HOOKED = []


def _hook_cells():
    shell = _shell()
    if shell is not None and not _HOOKED:
        shell.events.register("post_run_cell", _forget_open_displays)
        _HOOKED.append(shell)


def _shell():
    try:
        from IPython import get_ipython
    except ImportError:
        return None
    return get_ipython()


def _duration(seconds):
    if seconds < 60:
        return "%.1f s" % seconds
    minutes, s = divmod(int(round(seconds)), 60)
    if minutes < 60:
        return "%d min %02d s" % (minutes, s)
    return "%d h %02d min" % divmod(minutes, 60)


def _plural(unit):
    if not unit:
        return unit
    return unit + ("es" if unit.endswith(("s", "x", "ch", "sh")) else "s")


class _Line(object):
    """Plain text with a text/plain repr (what the kernel display shows and saves)."""

    def __init__(self, text):
        self.text = text

    def __repr__(self):
        return self.text

    def _repr_pretty_(self, p, cycle):
        p.text(self.text)


class Progress(object):
    """A progress display over ``total`` steps: a tqdm bar in a terminal, one
    updating line in a notebook that ends as a summary.

    Args:
        iterable: what to iterate over (optional; ``update`` counts by hand).
        total: the number of steps (default ``len(iterable)`` when it has one).
        desc: what is being done, named for a reader (``influence on chain saw``).
        unit: what a step is (``image``, ``cell``...).
        disable: show nothing at all.
        interval: seconds between notebook updates.
        summary: False leaves nothing behind in a notebook either.
    """

    def __init__(self, iterable=None, total=None, desc="", unit="it", disable=False,
                 interval=0.5, summary=True):
        if total is None and iterable is not None and hasattr(iterable, "__len__"):
            total = len(iterable)
        self.iterable, self.total, self.desc, self.unit = iterable, total, desc, unit
        self.n = 0
        self.disable = bool(disable)
        self.interval = float(interval)
        self.summary = bool(summary)
        self._start = time.perf_counter()
        self._shown = 0.0
        self._bar = self._handle = self._parent = None
        self._child = ""
        self._closed = False
        if self.disable:
            return
        if in_kernel():
            _hook_cells()
            if _ACTIVE:                      # nested: shown on the outer line
                self._parent = _ACTIVE[-1]
            else:
                from IPython.display import display
                self._handle = display(_Line(self._text(final=False)), display_id=True)
            _ACTIVE.append(self)
        else:
            self._bar = tqdm(total=total, desc=desc, unit=unit, leave=False,
                             unit_scale=(unit == "B"), file=sys.stderr, dynamic_ncols=True)

    # -- text ---------------------------------------------------------------
    def _text(self, final):
        if self.unit == "B":    # bytes: shown in MB
            units = "MB"
            count = ("%.1f/%.1f" % (self.n / 1e6, self.total / 1e6) if self.total
                     else "%.1f" % (self.n / 1e6))
        else:
            units = _plural(self.unit) if (self.total or self.n) != 1 else self.unit
            count = ("%d/%d" % (self.n, self.total) if self.total is not None
                     else "%d" % self.n)
        elapsed = time.perf_counter() - self._start
        head = "%s: " % self.desc if self.desc else ""
        if final:
            return "%s%s %s in %s" % (head, count, units, _duration(elapsed))
        eta = ""
        if self.total and self.n:
            eta = ", about %s left" % _duration(elapsed / self.n * (self.total - self.n))
        return "%s%s %s (%s%s)" % (head, count, units, _duration(elapsed), eta)

    # -- counting -----------------------------------------------------------
    def update(self, n=1):
        """Count ``n`` more steps done."""
        self.n += int(n)
        if self._bar is not None:
            self._bar.update(n)
        elif self._handle is not None or self._parent is not None:
            now = time.perf_counter()
            if now - self._shown >= self.interval:
                self._shown = now
                self._show()

    def _line(self):
        text = self._text(final=False)
        return text + (" | " + self._child if self._child else "")

    def _show(self):
        if self._parent is not None:
            self._parent._child = self._line()
            self._parent._show()
        elif self._handle is not None:
            self._handle.update(_Line(self._line()))

    def close(self):
        """End the display: nothing stays in a terminal; in a notebook the line
        becomes the summary (or is cleared with ``summary=False``)."""
        if self._closed:
            return
        self._closed = True
        if self in _ACTIVE:
            _ACTIVE.remove(self)
        if self._bar is not None:
            self._bar.close()
        elif self._parent is not None:
            self._parent._child = ""
        elif self._handle is not None:
            if self.summary:
                self._handle.update(_Line(self._text(final=True)))
            else:
                from IPython.display import Pretty
                self._handle.update(Pretty(""))

    def __iter__(self):
        if self.iterable is None:
            raise TypeError("this Progress has no iterable; call update() instead")
        try:
            for item in self.iterable:
                yield item
                self.update(1)
        finally:
            self.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False


def progress(iterable=None, total=None, desc="", unit="it", disable=False, **kw):
    """A :class:`Progress` (the one verb loops call)."""
    return Progress(iterable, total=total, desc=desc, unit=unit, disable=disable, **kw)

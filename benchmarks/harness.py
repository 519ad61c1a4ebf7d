"""The timing harness the benchmarks share: a wall-clock timer, the process's resident
memory (current, peak, and the peak of one call), the machine's facts, and the units
the tables print, and the CPU time other processes used beside a measurement.

Each benchmark runs every measurement in a child process of its own, so that the
child's peak RSS (``os.wait4``'s ``ru_maxrss``) belongs to that measurement alone;
inside the child, :func:`reset_peak_rss` before the timed call and ``VmHWM`` after
it give the peak of that call.
"""
import datetime
import os
import platform
import resource
import time

import numpy as np


class Timer(object):
    """Wall time of a ``with`` block, in ``seconds``."""

    def __enter__(self):
        self.t0 = time.perf_counter()
        return self

    def __exit__(self, *exc):
        self.seconds = time.perf_counter() - self.t0


def best_of(fn, repeat):
    """The shortest wall time of ``repeat`` calls of ``fn``, after one warm-up call."""
    fn()
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def rel_l2(got, ref):
    """||got - ref|| / ||ref|| in float64."""
    got = np.asarray(got, dtype=np.float64)
    ref = np.asarray(ref, dtype=np.float64)
    return float(np.linalg.norm(got - ref) / np.linalg.norm(ref))


def status_kb(field):
    """A field of /proc/self/status (VmRSS, VmHWM) in bytes."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    return None


def reset_peak_rss():
    """Reset VmHWM to the current RSS (Linux >= 4.0); False where not allowed."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def start_call(out):
    """Before a timed call: note the RSS after warm-up and reset the peak."""
    out["_rss0"] = status_kb("VmRSS")
    out["_reset"] = reset_peak_rss()


def end_call(out):
    """After a timed call: the RSS after warm-up and the call's own peak (None where the
    peak could not be reset) into ``out``."""
    out["rss_after_warmup"] = out.pop("_rss0")
    out["peak_rss_call"] = status_kb("VmHWM") if out.pop("_reset") else None


def busy_seconds():
    """CPU seconds every process on this machine has used since boot, all cores summed:
    the first line of ``/proc/stat`` less its idle and iowait states. None where
    ``/proc/stat`` cannot be read."""
    try:
        with open("/proc/stat") as f:
            ticks = [int(v) for v in f.readline().split()[1:]]
    except (OSError, ValueError):
        return None
    return (sum(ticks) - ticks[3] - ticks[4]) / os.sysconf("SC_CLK_TCK")


def own_seconds():
    """CPU seconds (user + system) of this process and of the children it has waited
    for (with theirs, recursively)."""
    me = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


class OtherCpu(object):
    """The CPU time other processes used over a span: the machine's busy time
    (:func:`busy_seconds`) less this process's own and its waited-for children's
    (:func:`own_seconds`).

    This says whether a measurement ran alone; a load average cannot, within a sitting:
    its 1-minute value at a step's start still holds the previous step's own threads
    (about 2 on two cores, decaying over minutes). A child that is not waited for
    counts as another process, so the figure errs towards "not alone".

        other = OtherCpu()
        ...                         # run and wait for the measurement's processes
        other.seconds()             # CPU seconds used by everything else meanwhile
        other_cpu_text(other.seconds(), other.wall())     # as the reports say it
    """

    #: the share of one core other processes may use while a measurement still counts
    #: as alone (the kernel's own threads use about 1% on an idle machine)
    IDLE_SHARE = 0.05

    def __init__(self):
        self.busy0, self.own0, self.t0 = busy_seconds(), own_seconds(), time.perf_counter()

    def seconds(self):
        """CPU seconds used by other processes since this object was made (None when the
        machine's busy time cannot be read)."""
        busy = busy_seconds()
        if busy is None or self.busy0 is None:
            return None
        return max(0.0, (busy - self.busy0) - (own_seconds() - self.own0))

    def wall(self):
        """Wall-clock seconds since this object was made."""
        return time.perf_counter() - self.t0


def other_cpu_text(other, seconds):
    """Other processes' CPU time as the reports say it: ``other`` CPU seconds (None:
    unknown) over a span of ``seconds`` as "N CPU-seconds (P% of one core)", flagged
    when above :attr:`OtherCpu.IDLE_SHARE` of one core."""
    if other is None:
        return "an unknown CPU time (not measured)"
    share = other / max(seconds, 1e-9)
    return "%.1f CPU-seconds (%.1f%% of one core)%s" % (
        other, 100 * share, "" if share <= OtherCpu.IDLE_SHARE else
        " (**not alone**: the times are inflated)")


def machine():
    """The facts of this machine a results table states: CPU, cores, memory, load
    average, Python, NumPy and its BLAS, the date, and the BLAS thread variables."""
    model = "unknown"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    load = os.getloadavg()
    with open("/proc/meminfo") as f:
        mem = int(f.readline().split()[1]) * 1024
    blas = "unknown"
    try:
        cfg = np.__config__
        for key in ("openblas64__info", "openblas_info", "blas_mkl_info", "blas_opt_info"):
            info = getattr(cfg, key, None) or {}
            if info.get("libraries"):
                blas = info["libraries"][0]
                break
    except Exception:
        pass
    return {"cpu": model, "cores": os.cpu_count(), "mem": mem, "load": load,
            "python": platform.python_version(), "numpy": np.__version__,
            "numpy_blas": blas, "date": datetime.datetime.now().strftime("%Y-%m-%d %H:%M"),
            "blas_threads": {k: os.environ[k] for k in ("OPENBLAS_NUM_THREADS",
                                                        "OMP_NUM_THREADS", "MKL_NUM_THREADS")
                             if k in os.environ}}


def gb(b):
    """Bytes as GB for a table ('-' when unknown)."""
    return "-" if b is None else "%.2f GB" % (b / 1024 ** 3)


def secs(s):
    """Seconds for a table ('-' when unknown)."""
    return "-" if s is None else "%.1f s" % s


def verdict(ok):
    """A target's verdict for a table."""
    return "**met**" if ok else "**not met**"

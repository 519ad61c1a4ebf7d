"""The timing harness the benchmarks share: a wall-clock timer, the process's resident
memory (current, peak, and the peak of one call), the machine's facts, and the units
the tables print.

Each benchmark runs every measurement in a child process of its own, so that the
child's peak RSS (``os.wait4``'s ``ru_maxrss``) belongs to that measurement alone;
inside the child, :func:`reset_peak_rss` before the timed call and ``VmHWM`` after
it give the peak of that call.
"""
import datetime
import os
import platform
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

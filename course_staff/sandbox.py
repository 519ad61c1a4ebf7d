"""Running the probes of :mod:`course_staff.probes` in a tree, in a child process.

A submission is untrusted code. It runs here:

* **from a copy**: a fresh directory holding the student starter (no solution in it,
  :mod:`course_staff.student`) with the submission's three modules copied over it
  (regular files only, at most 1 MB each); nothing of the submission is imported in a
  grader process;
* **in its own process group**, with ``python -I -S`` and ``sys.path`` set to that copy
  and the product venv's site-packages (no ``.pth`` files, so not the editable install
  of the reference), a scrubbed environment and its own Theano compile cache (a copy
  of the reference run's, so it cannot poison the reference's or another submission's);
* **with limits**: 3 GB of address space (``RLIMIT_AS``), CPU seconds, file size (a flood of
  output kills only this process), no core files; a wall-clock limit per question,
  after which the whole process group is killed and the remaining questions start in
  a new process (an infinite loop costs its own question);
* **in Linux namespaces when the kernel allows them** (``unshare``): no network, its own
  PID namespace (it cannot see or signal the grader, and everything it spawned dies
  with it), the whole file system read-only but its copy, and the reference, the
  autograder's tests and the grading output hidden under empty directories.

Outputs come back as ``.npz`` files read with ``allow_pickle=False`` and compared in
the grader (:mod:`course_staff.checks`).
"""
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

PROBE_NAME = "_hw3_probe.py"
STUDENT_FILES = ("AumannShapley.py", "Explanation.py", "compression.py")
MAX_FILE_BYTES = 1 << 20
MEMORY_BYTES = 3 << 30
FILE_SIZE_BYTES = 64 << 20
HERE = os.path.dirname(os.path.abspath(__file__))


def site_packages(python):
    """The product interpreter's site-packages directories (asked, not guessed)."""
    out = subprocess.run([python, "-c", "import site,sys; print('\\n'.join(site.getsitepackages()))"],
                         capture_output=True, text=True, check=True).stdout
    return [p for p in out.split("\n") if p]


def make_tree(starter, dest, submission=None):
    """A copy of ``starter`` at ``dest`` (``.ipynb`` files left out), the submission's
    modules over it and the probe script beside them.

    Returns:
        list of the submission files used (names).
    """
    shutil.copytree(starter, dest, ignore=shutil.ignore_patterns("*.ipynb", ".theano",
                                                                  "__pycache__"))
    used = []
    for name in STUDENT_FILES if submission else ():
        src = os.path.join(submission, name)
        if os.path.isfile(src) and not os.path.islink(src) \
                and os.path.getsize(src) <= MAX_FILE_BYTES:
            shutil.copyfile(src, os.path.join(dest, name))
            used.append(name)
    add_probe(dest)
    return used


def add_probe(tree):
    """Put the probe script into ``tree``."""
    shutil.copyfile(os.path.join(HERE, "probes.py"), os.path.join(tree, PROBE_NAME))


def namespaces_available():
    """True when unprivileged user, mount, PID and network namespaces work here."""
    if shutil.which("unshare") is None:
        return False
    try:
        return subprocess.run(["unshare", "-rmn", "--pid", "--fork", "--mount-proc", "true"],
                              capture_output=True, timeout=20).returncode == 0
    except (OSError, subprocess.SubprocessError):
        return False


_WRAPPER = r"""
set -e
tree="$1"; shift
count="$1"; shift
i=0
# hidden files are covered by an empty regular file (read-only below, unlike /dev/null)
mkdir -p "$tree/.hidden" && mount -t tmpfs -o size=4k hidden "$tree/.hidden"
: > "$tree/.hidden/empty"
while [ "$i" -lt "$count" ]; do
  d="$1"; shift; i=$((i+1))
  if [ -d "$d" ]; then mount -t tmpfs -o ro,size=4k hidden "$d";
  elif [ -f "$d" ]; then mount --bind "$tree/.hidden/empty" "$d"; fi
done
mount --bind "$tree" "$tree"
# every other mount read-only (the tree stays writable: it was bound above)
awk '{print $2}' /proc/self/mounts | sed 's/\\040/ /g' | while read -r m; do
  case "$m" in "$tree"|/proc|/proc/*|/dev|/dev/*) continue;; esac
  mount -o remount,bind,ro "$m" 2>/dev/null || true
done
# a nested user namespace: the mounts above are locked for the student's code
exec unshare -U -m -- "$@"
"""


def _limits(cpu_seconds):
    import resource

    def apply():
        resource.setrlimit(resource.RLIMIT_AS, (MEMORY_BYTES, MEMORY_BYTES))
        resource.setrlimit(resource.RLIMIT_CPU, (int(cpu_seconds), int(cpu_seconds) + 5))
        resource.setrlimit(resource.RLIMIT_FSIZE, (FILE_SIZE_BYTES, FILE_SIZE_BYTES))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    return apply


class Run(object):
    """The outputs of the probes in one tree.

    Attributes:
        outputs: question -> dict of arrays (the probe finished).
        errors: question -> text (the probe raised, crashed, or ran out of time).
        seconds: question -> wall seconds.
        log: the tail of what the code printed.
    """

    def __init__(self):
        self.outputs, self.errors, self.seconds, self.log = {}, {}, {}, ""


def run_probes(tree, seed, questions, python, limits=None, trusted=False, cache=None,
               hide=(), use_namespaces=None):
    """Run the probes of ``questions`` in ``tree``, one process at a time, restarting
    after a question that hangs or crashes.

    Args:
        tree: the directory (:func:`make_tree`).
        seed: the run's seed (the models' weights and inputs).
        questions: question ids in order.
        python: the product interpreter (numpy, Theano, Keras).
        limits: question -> wall seconds (None: no limit; the reference run).
        trusted: the reference's tree: run with the product's normal path set-up.
        cache: Theano base_compiledir to use (default: ``tree/.theano``).
        hide: directories to hide from untrusted code (with namespaces).
        use_namespaces: None decides by :func:`namespaces_available`.
    Returns:
        a :class:`Run`.
    """
    import numpy as np
    run = Run()
    outdir = tempfile.mkdtemp(prefix=".answers-", dir=tree)   # writable inside the sandbox
    if use_namespaces is None:
        use_namespaces = (not trusted) and namespaces_available()
    sites = site_packages(python)
    remaining = list(questions)
    logs = []
    attempt = 0
    while remaining:
        attempt += 1
        log_path = os.path.join(outdir, "log%d.txt" % attempt)
        cmd = _command(tree, seed, remaining, outdir, python, sites, trusted, hide,
                       use_namespaces)
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": tree,
               "LANG": "C.UTF-8", "OMP_NUM_THREADS": "1",
               "THEANO_FLAGS": "base_compiledir=%s" % (cache or os.path.join(tree, ".theano")),
               "KERAS_HOME": os.path.join(tree, ".keras"), "MPLBACKEND": "Agg",
               "HW3_GRADING": "1", "TMPDIR": os.path.join(outdir, "tmp")}
        os.makedirs(env["TMPDIR"], exist_ok=True)
        total = sum(limits.values()) if limits else 3600
        with open(log_path, "wb") as log:
            proc = subprocess.Popen(cmd, cwd=tree, env=env, stdin=subprocess.DEVNULL,
                                    stdout=log, stderr=subprocess.STDOUT,
                                    start_new_session=True,
                                    preexec_fn=None if trusted else _limits(total + 30))
            ready = os.path.join(outdir, "ready")
            if os.path.exists(ready):
                os.remove(ready)
            spawned, started = time.time(), None
            while True:
                if started is None and os.path.exists(ready):
                    started = time.time()
                    run.seconds.setdefault("startup", started - spawned)
                done = [q for q in remaining if _finished(outdir, q)]
                for q in done:
                    run.seconds[q] = time.time() - started
                    started = time.time()
                    remaining.remove(q)
                if not remaining:
                    break
                current = remaining[0]
                since = spawned if started is None else started
                limit = (limits or {}).get("startup" if started is None else current)
                if proc.poll() is not None:
                    run.errors[current] = ("the process ended while answering this question "
                                           "(exit status %s)" % _status(proc.returncode))
                    run.seconds[current] = time.time() - since
                    remaining.remove(current)
                    break
                if limit is not None and time.time() - since > limit:
                    _kill(proc)
                    run.errors[current] = ("time limit: no answer after %.0f s (an infinite "
                                           "loop, or far slower than the reference)" % limit)
                    run.seconds[current] = time.time() - since
                    remaining.remove(current)
                    break
                time.sleep(0.05)
            _kill(proc)
        with open(log_path, "rb") as f:
            f.seek(max(0, os.path.getsize(log_path) - 3000))
            logs.append(f.read().decode("utf-8", "replace"))
    for q in questions:
        npz, err = os.path.join(outdir, q + ".npz"), os.path.join(outdir, q + ".err")
        if q in run.errors:
            continue
        if os.path.isfile(npz):
            try:
                with np.load(npz, allow_pickle=False) as data:
                    run.outputs[q] = {k: np.array(data[k]) for k in data.files}
            except Exception as e:  # a file the code under test wrote itself
                run.errors[q] = "unreadable answer file: %s" % e
        else:
            with open(err, "rb") as f:
                run.errors[q] = f.read(4000).decode("utf-8", "replace")
    run.log = "\n".join(logs)[-3000:]
    shutil.rmtree(outdir, ignore_errors=True)
    return run


def _finished(outdir, q):
    return os.path.isfile(os.path.join(outdir, q + ".npz")) or \
        os.path.isfile(os.path.join(outdir, q + ".err"))


def _status(code):
    if code is not None and code < 0:
        try:
            return "killed by %s" % signal.Signals(-code).name
        except ValueError:
            return str(code)
    return str(code)


def _kill(proc):
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            proc.kill()
    proc.wait()


def _command(tree, seed, questions, outdir, python, sites, trusted, hide, use_namespaces):
    if trusted:
        boot = ("import sys; sys.path.insert(0, %r); import runpy; sys.argv = %r; "
                "runpy.run_path(%r, run_name='__main__')"
                % (tree, [PROBE_NAME, str(seed), outdir] + list(questions),
                   os.path.join(tree, PROBE_NAME)))
        return [python, "-c", boot]
    boot = ("import sys; sys.path[:0] = %r; import runpy; sys.argv = %r; "
            "runpy.run_path(%r, run_name='__main__')"
            % ([tree] + sites, [PROBE_NAME, str(seed), outdir] + list(questions),
               os.path.join(tree, PROBE_NAME)))
    cmd = [python, "-I", "-S", "-c", boot]
    if use_namespaces:
        inside = os.path.abspath(tree) + os.sep
        hidden = [os.path.abspath(d) for d in hide if os.path.exists(d)
                  and not inside.startswith(os.path.abspath(d) + os.sep)]
        cmd = ["unshare", "-rmn", "--pid", "--fork", "--mount-proc", "--", "sh", "-c",
               _WRAPPER, "sandbox", tree, str(len(hidden))] + hidden + cmd
    return cmd

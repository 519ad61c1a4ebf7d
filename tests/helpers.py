"""Shared test helpers: a local HTTP server, paths. Toy models live in tests/toys.py."""
import contextlib
import http.server
import os
import socketserver
import threading

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHARED_IMAGENET = os.path.abspath(os.path.join(ROOT, "..", "shared", "data", "imagenet"))
if not os.path.exists(os.path.join(SHARED_IMAGENET, "manifest.tsv")) and os.path.exists(
        os.path.join(os.environ.get("HW3_IMAGE_DIR", ""), "manifest.tsv")):
    # a clone elsewhere (a worktree): the copy of shared/data/imagenet that HW3_IMAGE_DIR names
    SHARED_IMAGENET = os.path.abspath(os.environ["HW3_IMAGE_DIR"])


class _Handler(http.server.BaseHTTPRequestHandler):
    """Serves ``routes`` (path -> bytes). ``truncate`` (path -> n) announces the full
    length but sends only n bytes; unknown paths answer 404."""
    routes = {}
    truncate = {}

    def do_GET(self):  # noqa: N802
        body = self.routes.get(self.path)
        if body is None:
            self.send_error(404, "not found")
            return
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        n = self.truncate.get(self.path)
        try:
            self.wfile.write(body if n is None else body[:n])
        except (BrokenPipeError, ConnectionResetError):
            pass
        if n is not None:
            self.close_connection = True

    def log_message(self, *args):
        pass


@contextlib.contextmanager
def http_server(routes, truncate=None):
    """A threaded HTTP server on 127.0.0.1 (a free port) serving ``routes``.

    Yields the base URL, e.g. ``http://127.0.0.1:PORT``; ``routes`` maps paths such
    as ``/a/file.h5`` to bytes.
    """
    handler = type("Handler", (_Handler,), {"routes": dict(routes),
                                            "truncate": dict(truncate or {})})
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield "http://127.0.0.1:%d" % server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


def free_port_url():
    """A URL on 127.0.0.1 where nothing listens (for 'server down' tests)."""
    import socket
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return "http://127.0.0.1:%d" % port


def outputs_text(cell):
    """The text a notebook cell (JSON dict) shows: its streams, Markdown and plain text."""
    text = []
    for o in cell.get("outputs", []):
        if o.get("output_type") == "stream":
            text.append("".join(o["text"]))
        elif "data" in o:
            text.append("".join(o["data"].get("text/markdown", o["data"].get("text/plain", ""))))
    return "".join(text)


# Wording that belongs to the synthetic world only, each with why: none of it may reach a
# rendered answer (a Markdown output) of the ImageNet world. Class names are not listed:
# every synthetic class but 'fish' is an ImageNet class too ('sports car', 'convertible',
# 'pickup', 'starfish', 'church', ...), and so is 'cab' (468).
SYNTHETIC_WORDING = {
    r"\bsynthetic\b": "the other world's name",
    r"\bscenes?\b": "the synthetic world's images are generated scenes; these are photos",
    r"\bsurrogate\b": "the synthetic world's model (the ImageNet world runs VGG16)",
    r"\bdistractors?\b": "the synthetic scenes' clutter shapes",
    r"\bground[- ]truth\b": "the synthetic world's exact masks; photos come without",
    r"\bfish\b": "a synthetic class with no ImageNet class of that name",
    r"\b(?:roof|wheels|windshield|seats|cargo bed|open bed|spire|canopy|tee)\b":
        "part names of the synthetic scenes, measured with their masks",
    r"\b\d+(?:\.\d+)?x chance\b": "a ratio to chance needs a mask of the region",
}
MASK_WORD = r"\b(?:object|part|parts'|true|exact|region|concept)\s+masks?\b"
"""Masks of the truth ('the object mask', 'exact masks') are synthetic wording unless the
sentence says they are missing (a CAM's binarised mask exists in both worlds)."""
PROBE_SET_TAG = "probe-set"
"""Cells whose outputs describe the dissection's probe set: the synthetic scenes and their
concepts, by design in both worlds (no Broden here), so their wording is the probe set's."""
ABSENCE = r"\b(?:no|not|none|without|needs?)\b"


def synthetic_wording(markdown):
    """Synthetic-world wording in rendered Markdown: [(phrase, why)].

    A sentence about masks is allowed only where it says they are missing ("these photos
    come with no object masks"); the world banner (which names both worlds) is skipped.
    """
    import re
    found = []
    for text in markdown:
        if text.lstrip().startswith("> **These outputs were produced in"):
            continue
        for pattern, why in SYNTHETIC_WORDING.items():
            found += [(m.group(0), why) for m in re.finditer(pattern, text, re.I)]
        for sentence in re.split(r"(?<=[.!?])\s+|\n", text):
            if re.search(MASK_WORD, sentence, re.I) and not re.search(ABSENCE, sentence, re.I):
                found.append((sentence.strip(), "masks exist in the synthetic world only"))
    return found


def markdown_outputs(cell):
    """The Markdown a code cell (JSON dict) rendered: its text/markdown outputs."""
    return ["".join(o["data"]["text/markdown"]) for o in cell.get("outputs", [])
            if "text/markdown" in o.get("data", {})]


def run_imagenet_world(notebook, tmp_path, monkeypatch, weights_path, parameters):
    """Execute ``notebook``'s source (its paired percent-format .py) in the ImageNet world
    with papermill, offline, from the notebook's folder: VGG16 from ``weights_path``
    (HW3_VGG16_WEIGHTS), photos from ../shared (HW3_IMAGE_DIR), an empty cache; the
    parameters are written into the parameters cell, as ``notebook_tools.execute`` does.
    Checks that no cell failed, that nothing was downloaded and that no rendered answer
    uses synthetic-world wording (:func:`synthetic_wording`).

    Returns:
        the text of every code cell's outputs, joined.
    """
    import json
    import nbformat
    import papermill
    from notebook_tools.execute import read_source, set_parameters, source_path
    monkeypatch.setenv("HW3_VGG16_WEIGHTS", weights_path)
    monkeypatch.setenv("HW3_IMAGE_DIR", SHARED_IMAGENET)
    monkeypatch.setenv("HW3_CACHE_DIR", str(tmp_path / "cache"))
    source = tmp_path / "source.ipynb"
    nbformat.write(set_parameters(read_source(source_path(notebook)),
                                  dict(WORLD="imagenet", **parameters)), str(source))
    out = tmp_path / "imagenet.ipynb"
    papermill.execute_notebook(str(source), str(out), cwd=os.path.dirname(notebook),
                               progress_bar=False)
    with open(out) as f:
        nb = json.load(f)
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    assert all(o.get("output_type") != "error" for c in code for o in c.get("outputs", []))
    cache = tmp_path / "cache"        # every photo came from HW3_IMAGE_DIR: nothing fetched
    assert not cache.exists() or not os.listdir(cache)
    answers = [c for c in code if PROBE_SET_TAG not in c.get("metadata", {}).get("tags", [])]
    wording = synthetic_wording([t for c in answers for t in markdown_outputs(c)])
    assert not wording, "synthetic-world wording in the ImageNet world's answers: %r" % wording
    return "\n".join(outputs_text(c) for c in code)

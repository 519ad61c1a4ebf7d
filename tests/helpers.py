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
    SHARED_IMAGENET = os.path.abspath(os.environ["HW3_IMAGE_DIR"])   # a worktree elsewhere


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


def run_imagenet_world(notebook, tmp_path, monkeypatch, weights_path, parameters):
    """Execute ``notebook``'s source (its paired percent-format .py) in the ImageNet world
    with papermill, offline, from the notebook's folder: VGG16 from ``weights_path``
    (HW3_VGG16_WEIGHTS), photos from ../shared (HW3_IMAGE_DIR), an empty cache. Checks
    that no cell failed and that nothing was downloaded.

    Returns:
        the text of every code cell's outputs, joined.
    """
    import json
    import nbformat
    import papermill
    from notebook_tools.execute import read_source, source_path
    monkeypatch.setenv("HW3_VGG16_WEIGHTS", weights_path)
    monkeypatch.setenv("HW3_IMAGE_DIR", SHARED_IMAGENET)
    monkeypatch.setenv("HW3_CACHE_DIR", str(tmp_path / "cache"))
    source = tmp_path / "source.ipynb"
    nbformat.write(read_source(source_path(notebook)), str(source))
    out = tmp_path / "imagenet.ipynb"
    papermill.execute_notebook(str(source), str(out), cwd=os.path.dirname(notebook),
                               progress_bar=False,
                               parameters=dict(WORLD="imagenet", **parameters))
    with open(out) as f:
        nb = json.load(f)
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    assert all(o.get("output_type") != "error" for c in code for o in c.get("outputs", []))
    cache = tmp_path / "cache"        # every photo came from HW3_IMAGE_DIR: nothing fetched
    assert not cache.exists() or not os.listdir(cache)
    return "\n".join(outputs_text(c) for c in code)

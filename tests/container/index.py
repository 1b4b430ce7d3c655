"""A package index on loopback for the image's build: a folder of wheels served in the simple
repository layout (`/simple/<name>/`, the file listing as its page), which pip reads.

Test helpers: no test here.
"""

from __future__ import annotations

import contextlib
import functools
import http.server
import re
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


def _project(wheel: Path) -> str:
    """A wheel's project name, normalized as the simple layout names its folder."""
    return re.sub(r"[-_.]+", "-", wheel.name.split("-", 1)[0]).lower()


@contextlib.contextmanager
def serving(wheels: Path) -> Iterator[str]:
    """Yields the index URL, `http://127.0.0.1:<port>/simple/`; the server stops on exit."""
    with tempfile.TemporaryDirectory() as root:
        for wheel in wheels.glob("*.whl"):
            folder = Path(root) / "simple" / _project(wheel)
            folder.mkdir(parents=True, exist_ok=True)
            (folder / wheel.name).symlink_to(wheel.resolve())
        handler = functools.partial(_Quiet, directory=root)
        with http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler) as server:
            thread = threading.Thread(target=server.serve_forever, name="package-index", daemon=True)
            thread.start()
            try:
                yield f"http://127.0.0.1:{server.server_address[1]}/simple/"
            finally:
                server.shutdown()
                thread.join(10)

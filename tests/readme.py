"""The README's examples as runnable scripts: each fenced `sh` or `python` block, with what a
reader fills in themselves filled in, and nothing else changed.

- `http://127.0.0.1:8000` is the test's live fake, unless the block starts its own `mockserver`:
  then every port the block names (8000, 8765, 6379, ...) becomes a free one, and
  MOCKSERVER_PORT names the one that stands for 8000 (the default port).
- Placeholders and example ids become real ones, made when the line runs: `<id>` and evolink
  task ids a fresh task, `<token>` a completed task's result file, `<delivery-id>` a callback
  delivery; an aimlapi generation id a fresh generation.
- `https://api.evolink.ai` (the real provider, which a test may not reach) is the live fake.
- `pip install ...` lines are not run (the test environment has what they install; CI and
  tests/install run the installs); each must name only extras pyproject.toml defines.

Test helpers: no test here, see tests/test_readme.py.
"""

from __future__ import annotations

import re
import socket
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FENCE = re.compile(r"^```(?P<lang>\w+)\n(?P<body>.*?)^```$", re.MULTILINE | re.DOTALL)
README_BASE = "http://127.0.0.1:8000"
REAL_PROVIDER = "https://api.evolink.ai"
PORTS = re.compile(r"127\.0\.0\.1:(\d{2,5})\b|--port (\d{2,5})\b")
PIP = re.compile(r"^pip install (?P<what>.+?)(?:\s+#.*)?$", re.MULTILINE)
EXTRAS = re.compile(r"\[([\w,-]+)\]")
# What a reader fills in, each replaced by a shell call made when the line runs (tests/readme.sh).
PLACEHOLDERS = [
    (re.compile(r"<id>|task-unified-\d+-[a-z0-9]+"), "$(new_evolink_task)"),
    (re.compile(r"<token>"), "$(result_token)"),
    (re.compile(r"<delivery-id>"), "$(delivery_id)"),
]
AIMLAPI_ID = re.compile(r"9e8e9816-\.\.\.:klingai/video-o1-image-to-video")


@dataclass(frozen=True)
class Example:
    lang: str  # "sh" or "python"
    text: str
    line: int  # where the block starts in README.md
    heading: str

    @property
    def name(self) -> str:
        return f"{self.lang}-line-{self.line}"

    @property
    def starts_a_fake(self) -> bool:
        return bool(re.search(r"^mockserver\b", self.text, re.MULTILINE))

    @property
    def is_setup(self) -> bool:
        """The README's two set-up commands (run by CI and tests/install, and in a test of their own)."""
        return "python -m pytest" in self.text and "pip install -e ." in self.text

    @property
    def is_pytest_module(self) -> bool:
        return self.lang == "python" and "def test_" in self.text


def examples(readme: Path = ROOT / "README.md") -> list[Example]:
    text = readme.read_text()
    found, heading, last = [], "", 0
    for match in FENCE.finditer(text):
        between = text[last : match.start()]  # prose: its headings, not the blocks' comments
        heading = next((h for h in reversed(between.splitlines()) if h.startswith("#")), heading)
        line = text[: match.start()].count("\n") + 1
        found.append(Example(match["lang"], match["body"], line, heading.lstrip("# ")))
        last = match.end()
    return found


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def pip_lines(example: Example) -> list[str]:
    return [match["what"] for match in PIP.finditer(example.text)]


def extras_named(what: str) -> set[str]:
    return {extra for group in EXTRAS.findall(what) for extra in group.split(",")}


def runnable(example: Example, fake: str, aimlapi_id: str) -> tuple[str, dict[str, str]]:
    """The example's text as it runs here, and the environment it needs (MOCKSERVER_PORT for
    a block that starts its own fake on the default port)."""
    text = PIP.sub(lambda m: f": skipped, installed already: pip install {m['what']}", example.text)
    env: dict[str, str] = {}
    if example.starts_a_fake:
        ports = {a or b for a, b in PORTS.findall(text)} | {"8000"}
        mapping = {port: str(free_port()) for port in ports}
        env["MOCKSERVER_PORT"] = mapping["8000"]
        text = re.sub(r"\b(" + "|".join(sorted(mapping)) + r")\b", lambda m: mapping[m[1]], text)
    else:
        text = text.replace(README_BASE, fake)
    text = text.replace(REAL_PROVIDER, fake)
    text = AIMLAPI_ID.sub(aimlapi_id, text)
    for pattern, call in PLACEHOLDERS:
        text = pattern.sub(call, text) if example.lang == "sh" else text
    return text, env

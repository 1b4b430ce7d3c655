"""The examples of README.md and of every docs/*.md page as runnable scripts: each fenced `sh` or
`python` block, with what a reader fills in themselves filled in, and nothing else changed.

- A page is any README.md or docs/*.md: a page added later is collected with no change here.
- Fences start at the start of a line and name a language. `sh` and `python` blocks run; the
  languages in DATA (output, files to write) do not; any other language is an error.
- A block that cannot run here by nature (it needs docker, a real provider's key) says so in
  an HTML comment on the line just before its fence: `<!-- not run: needs a docker daemon -->`.
  tests/test_readme.py lists every such block, so none is skipped silently.
- `http://127.0.0.1:8000` is the test's live fake, unless the block starts its own `mockserver`:
  then every port the block names (8000, 8765, 6379, ...) becomes a free one, and
  MOCKSERVER_PORT names the one that stands for 8000 (the default port).
- Placeholders and example ids in shell blocks become real ones, made when the line runs: `<id>`
  and evolink task ids a fresh task, `<token>` a completed task's result file, `<delivery-id>` a
  callback delivery; an aimlapi generation id (in any block) a fresh generation.
- `https://api.evolink.ai` in a shell block (the real provider, which a test may not reach) is
  the live fake.
- `pip install ...` lines are not run (the test environment has what they install; CI and
  tests/install run the installs); every `pip install` a page names, in a block or in its prose,
  must name only extras pyproject.toml defines.

Test helpers: no test here, see tests/test_readme.py.
"""

from __future__ import annotations

import re
import socket
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FENCE = re.compile(r"^```(?P<info>[^\n`]*)\n(?P<body>.*?)^```[ \t]*$", re.MULTILINE | re.DOTALL)
INDENTED_FENCE = re.compile(r"^[ \t]+```", re.MULTILINE)
NOT_RUN = re.compile(r"<!--\s*not run:\s*(?P<why>.+?)\s*-->\s*\Z")
RUN = {"sh", "python"}
DATA = {"text", "json", "yaml", "toml", "ini", "dockerfile", "http"}
README_BASE = "http://127.0.0.1:8000"
REAL_PROVIDER = "https://api.evolink.ai"
PORTS = re.compile(r"127\.0\.0\.1:(\d{2,5})\b|--port (\d{2,5})\b")
PIP = re.compile(r"^pip install (?P<what>.+?)(?:\s+#.*)?$", re.MULTILINE)
PIP_ANYWHERE = re.compile(r"pip install (?P<what>[^`\n]+)")
EXTRAS = re.compile(r"\[([\w,-]+)\]")
# What a reader fills in, each replaced by a shell call made when the line runs (tests/test_readme.py).
PLACEHOLDERS = [
    (re.compile(r"<id>|task-unified-\d+-[a-z0-9]+"), "$(new_evolink_task)"),
    (re.compile(r"<token>"), "$(result_token)"),
    (re.compile(r"<delivery-id>"), "$(delivery_id)"),
]
AIMLAPI_ID = re.compile(r"9e8e9816-\.\.\.:klingai/video-o1-image-to-video")


@dataclass(frozen=True)
class Example:
    page: str  # README.md or docs/<name>.md
    lang: str  # "sh" or "python", or a DATA language
    text: str
    line: int  # where the block starts in its page
    heading: str
    not_run: str | None = None  # why it cannot run here, from the comment before it

    @property
    def name(self) -> str:
        return f"{self.page}:{self.lang}-line-{self.line}"

    @property
    def runs(self) -> bool:
        return self.lang in RUN and self.not_run is None

    @property
    def starts_a_fake(self) -> bool:
        return bool(re.search(r"^mockserver\b", self.text, re.MULTILINE))

    @property
    def is_setup(self) -> bool:
        """The README's two set-up commands (run by CI and tests/install, and in a test of their own)."""
        return (
            self.page == "README.md" and "python -m pytest" in self.text and "pip install -e ." in self.text
        )

    @property
    def is_pytest_module(self) -> bool:
        return self.lang == "python" and "def test_" in self.text


def pages(root: Path = ROOT) -> list[Path]:
    return [root / "README.md", *sorted((root / "docs").glob("*.md"))]


def examples(page: Path, root: Path = ROOT) -> list[Example]:
    text = page.read_text()
    found, heading, last = [], "", 0
    for match in FENCE.finditer(text):
        between = text[last : match.start()]  # prose: its headings, not the blocks' comments
        heading = next((h for h in reversed(between.splitlines()) if h.startswith("#")), heading)
        line = text[: match.start()].count("\n") + 1
        lang = (match["info"].split() or [""])[0]
        not_run = NOT_RUN.search(between)
        found.append(
            Example(
                page=page.relative_to(root).as_posix(),
                lang=lang,
                text=match["body"],
                line=line,
                heading=heading.lstrip("# "),
                not_run=not_run["why"] if not_run else None,
            )
        )
        last = match.end()
    return found


def all_examples(root: Path = ROOT) -> list[Example]:
    return [example for page in pages(root) for example in examples(page, root)]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def pip_lines(page: Path) -> list[str]:
    """What every `pip install` on the page installs, in its blocks and in its prose."""
    return [match["what"] for match in PIP_ANYWHERE.finditer(page.read_text())]


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
    text = AIMLAPI_ID.sub(aimlapi_id, text)
    if example.lang == "sh":
        text = text.replace(REAL_PROVIDER, fake)
        for pattern, call in PLACEHOLDERS:
            text = pattern.sub(call, text)
    return text, env

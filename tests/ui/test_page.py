"""The dashboard over plain HTTP (no browser needed): an HTML page and its own files, each with
a Content-Security-Policy that lets nothing load from elsewhere; nothing in them names another
site; and it is served under the control plane's access rules (a page of another site and a
foreign host are refused; with a token, the page is served without it, the API is not)."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from importlib.resources import files

import pytest

from mockserver.ui.handlers import TYPES
from tests.helpers import client, make_app
from tests.ui import browser

pytestmark = pytest.mark.anyio
LOCAL = "http://127.0.0.1:8000"
STATIC = files("mockserver.ui") / "static"
# Absolute URLs that are no fetch: the SVG namespace, and the documentation domain of the empty
# table's curl example (RFC 2606).
NOT_FETCHED = re.compile(r"https?://(www\.w3\.org/2000/svg|example\.com/)")


class Links(HTMLParser):
    """Every URL an HTML document makes the browser load or follow."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.urls += [
            v for k, v in attrs if k in {"src", "href", "action", "poster", "data"} and v is not None
        ]


def links(html: str) -> list[str]:
    parser = Links()
    parser.feed(html)
    return parser.urls


def static_names() -> list[str]:
    return sorted(entry.name for entry in STATIC.iterdir() if entry.name != "index.html")


async def test_the_dashboard_is_an_html_page_whose_policy_forbids_anything_from_elsewhere() -> None:
    async with client(make_app(), LOCAL) as http:
        page = await http.get("/__mock/ui")
    assert page.status_code == 200 and page.headers["content-type"] == "text/html; charset=utf-8"
    policy = dict(part.strip().split(" ", 1) for part in page.headers["content-security-policy"].split(";"))
    assert policy["default-src"] == "'none'" and policy["frame-ancestors"] == "'none'"
    for directive in ("script-src", "style-src", "connect-src", "media-src"):
        assert policy[directive] == "'self'", directive  # no host, no scheme, no 'unsafe-inline'
    assert page.headers["x-content-type-options"] == "nosniff"
    assert page.headers["referrer-policy"] == "no-referrer"


async def test_the_page_loads_only_its_own_files_each_with_its_type_and_the_same_policy() -> None:
    async with client(make_app(), LOCAL) as http:
        page = await http.get("/__mock/ui")
        urls = links(page.text)
        own = [url for url in urls if url.startswith("ui/")]
        assert sorted(set(urls) - set(own)) == [
            "#callbacks",
            "#faults",
            "#journal",
            "#tasks",
            "#verdicts",
            "data:,",
        ]
        answers = {name: await http.get(f"/__mock/ui/{name}") for name in static_names()}
    assert {"ui/app.js", "ui/style.css"} <= set(own)
    for name, answer in answers.items():
        assert answer.status_code == 200, name
        assert answer.headers["content-type"].startswith(TYPES[name[name.rfind(".") :]].split(";")[0])
        assert answer.headers["content-security-policy"] == page.headers["content-security-policy"]


@pytest.mark.parametrize("name", ["index.html", *static_names()])
def test_no_file_of_the_page_names_another_site(name: str) -> None:
    text = (STATIC / name).read_text()
    found = [
        url for url in re.findall(r"(?:https?:)?//[\w.-]+[^\s\"'`)]*", text) if not NOT_FETCHED.match(url)
    ]
    assert [url for url in found if not url.startswith("http://127.0.0.1:8000")] == []
    if name.endswith(".css"):
        assert "@import" not in text and not re.search(r"url\((?!data:)", text)
    if name.endswith(".js"):
        assert not re.search(r"\bimport\s*\(|from\s+['\"](?!\./)", text)  # modules only of its own


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/__mock/ui/nope.js", 404),
        ("/__mock/ui/app.exe", 400),
        ("/__mock/ui/", 404),
        ("/__mock/ui/..%2Fapp.js", 404),
    ],
)
async def test_a_file_the_page_does_not_have_is_refused_in_the_control_envelope(
    path: str, status: int
) -> None:
    async with client(make_app(), LOCAL) as http:
        answer = await http.get(path)
    assert answer.status_code == status and set(answer.json()["error"]) >= {"code", "message"}


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "https://evil.example"},
        {"Sec-Fetch-Site": "cross-site"},
        {"Host": "evil.example"},  # DNS rebinding
    ],
)
async def test_a_request_from_another_site_is_refused_the_page_and_the_control_plane(
    headers: dict[str, str],
) -> None:
    async with client(make_app(), LOCAL) as http:
        answers = [
            await http.get(path, headers=headers)
            for path in ("/__mock/ui", "/__mock/ui/app.js", "/__mock/tasks")
        ]
        post = await http.post("/__mock/clock/advance", json={"seconds": 80}, headers=headers)
        clock = (await http.get("/__mock/clock")).json()
    assert [a.status_code for a in answers] == [403, 403, 403] and post.status_code == 403
    assert clock["now"] == 1767225600  # the refused advance did nothing


async def test_with_a_token_the_page_is_served_without_it_and_the_control_plane_still_takes_it() -> None:
    app = make_app(control_token="s3cret")
    async with client(app, LOCAL) as http:
        page = await http.get("/__mock/ui")
        script = await http.get("/__mock/ui/app.js")
        refused = await http.get("/__mock/tasks")
        served = await http.get("/__mock/tasks", headers={"X-Mock-Token": "s3cret"})
        foreign = await http.get("/__mock/ui", headers={"Origin": "https://evil.example"})
    assert (page.status_code, script.status_code, refused.status_code, served.status_code) == (
        200,
        200,
        401,
        200,
    )
    assert foreign.status_code == 403
    assert "s3cret" not in page.text + script.text


def test_the_page_asks_for_the_token_and_sends_it_only_in_a_header() -> None:
    """What the browser test proves, read in the source: the token lives in sessionStorage and
    goes out as X-Mock-Token; no URL the page builds carries it."""
    api = (STATIC / "api.js").read_text()
    assert 'headers["X-Mock-Token"] = token' in api and "sessionStorage.setItem(TOKEN" in api
    assert not re.search(r"searchParams\.set\([^)]*token", api, re.IGNORECASE)


def test_without_a_browser_the_browser_tests_skip_naming_what_to_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PATH", "")
    assert browser.found() is None
    assert "apt-get install -y chromium chromium-driver" in browser.MISSING

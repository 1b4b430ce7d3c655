"""Who may use the control plane: curl and test code on loopback, not a browser page of another
site, not a request naming a foreign host (DNS rebinding), and beyond loopback only with the
token; and where result links point when the `Host` is not one the fake is reached by."""

from __future__ import annotations

from typing import Any

import pytest
from click.testing import CliRunner

from mockserver.cli import banner, main
from mockserver.control.access import control_token
from tests.helpers import AUTH, EVOLINK_CREATE, advance, client, evolink_body, make_app, make_settings

pytestmark = pytest.mark.anyio
LOCAL = "http://127.0.0.1:8000"


async def clock(app: Any, base: str = LOCAL, **headers: str) -> int:
    async with client(app, base) as http:
        return (await http.get("/__mock/clock", headers=headers)).status_code


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ({}, 200),  # curl, httpx, the plugin
        ({"Origin": "http://localhost:8000"}, 200),
        ({"Origin": "http://127.0.0.1:8000", "Sec-Fetch-Site": "same-origin"}, 200),
        ({"Sec-Fetch-Site": "none"}, 200),  # typed in the address bar
        ({"Origin": "https://evil.example"}, 403),
        ({"Origin": "null"}, 403),
        ({"Sec-Fetch-Site": "cross-site"}, 403),
        ({"Sec-Fetch-Site": "same-site"}, 403),
        ({"Host": "evil.example"}, 403),  # DNS rebinding: a foreign name resolving to loopback
        ({"Host": "127.0.0.1:8000"}, 200),
        ({"Host": "localhost"}, 200),
    ],
)
async def test_on_loopback_the_control_plane_refuses_only_what_a_browser_of_another_site_sends(
    headers: dict[str, str], status: int
) -> None:
    assert await clock(make_app(), **headers) == status


async def test_a_refusal_says_why_in_the_control_envelope_and_changes_nothing() -> None:
    async with client(make_app(), LOCAL) as http:
        refused = await http.post(
            "/__mock/reset", headers={"Origin": "https://evil.example", "Content-Type": "text/plain"}
        )
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "forbidden"
    assert "evil.example" in refused.json()["error"]["message"]


async def test_allow_host_adds_a_name_the_fake_is_reached_by() -> None:
    assert await clock(make_app(allow_hosts=("mock.ci.internal",)), Host="mock.ci.internal:8000") == 200


async def test_with_a_token_only_requests_carrying_it_are_served() -> None:
    app = make_app(control_token="s3cret")
    assert await clock(app) == 401
    assert await clock(app, **{"X-Mock-Token": "wrong"}) == 401
    assert await clock(app, **{"X-Mock-Token": "s3cret", "Host": "mock.example"}) == 200  # any host with it
    assert await clock(app, **{"X-Mock-Token": "s3cret", "Origin": "https://evil.example"}) == 403


def test_beyond_loopback_a_token_is_generated_and_the_banner_warns() -> None:
    assert control_token(make_settings(host="127.0.0.1")) is None
    assert control_token(make_settings(host="0.0.0.0", control_token="given")) == "given"
    generated = control_token(make_settings(host="0.0.0.0"))
    assert generated and len(generated) >= 20 and generated != control_token(make_settings(host="0.0.0.0"))
    text = banner(make_settings(host="0.0.0.0", control_token="tok"), seed=1)
    assert "control token      tok" in text and "WARNING: bound to 0.0.0.0, beyond loopback" in text
    assert "WARNING" not in banner(make_settings(), seed=1)


def test_the_cli_help_lists_the_access_flags() -> None:
    text = CliRunner().invoke(main, ["--help"]).output
    assert "--allow-host" in text and "--control-token" in text


async def test_the_control_plane_reads_json_whatever_the_content_type_as_curl_d_sends_it() -> None:
    async with client(make_app(), LOCAL) as http:
        form = {"Content-Type": "application/x-www-form-urlencoded"}
        advanced = await http.post("/__mock/clock/advance", content=b'{"seconds": 80}', headers=form)
        garbage = await http.post("/__mock/clock/advance", content=b"seconds=80", headers=form)
    assert advanced.status_code == 200 and advanced.json()["now"] == 1767225680.0
    assert garbage.status_code == 400


@pytest.mark.parametrize(
    ("host", "public_url", "link"),
    [
        ("127.0.0.1:8000", None, "http://127.0.0.1:8000/files/"),
        ("evil.example", None, "http://127.0.0.1:8000/files/"),  # not reflected: the reached address
        ("evil.example", "https://videos.example.com", "https://videos.example.com/files/"),
    ],
)
async def test_result_links_name_only_hosts_the_fake_is_reached_by(
    host: str, public_url: str | None, link: str
) -> None:
    async with client(make_app(public_url=public_url), LOCAL) as http:
        task = (await http.post(EVOLINK_CREATE, headers={**AUTH, "Host": host}, json=evolink_body())).json()
        await advance(http, 80)
        done = (await http.get(f"/v1/tasks/{task['id']}", headers={**AUTH, "Host": host})).json()
    assert done["results"][0].startswith(link)

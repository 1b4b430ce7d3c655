"""The proxy as the `mockserver` command shows it: the banner states each upstream, the budget,
the recording and whether callbacks are observed; what cannot work is a usage error before
anything is bound; the drift summary is logged when it stops; a fake with no upstream answers an
empty report."""

from __future__ import annotations

import logging
from pathlib import Path
from unittest import mock

import pytest
from click.testing import CliRunner

from mockserver import create_app
from mockserver.cli import banner, main
from mockserver.settings import Settings
from tests.helpers import AUTH, client, evolink_body, make_app
from tests.upstream.conftest import proxy_settings
from tests.upstream.drifting import Drifting

pytestmark = pytest.mark.anyio


def test_the_banner_states_each_upstream_the_budget_the_recording_and_callbacks() -> None:
    shown = banner(
        Settings(
            upstreams=("evolink=https://api.evolink.ai", "aimlapi=https://api.aimlapi.com"),
            max_creates=3,
            record="runs.har",
            public_url="https://proxy.example.com",
        ),
        1,
    )
    assert "evolink  UPSTREAM  https://api.evolink.ai" in shown
    assert "aimlapi  UPSTREAM  https://api.aimlapi.com" in shown
    assert "at most 3 create(s) forwarded this run (--max-creates)" in shown
    assert "recording to       runs.har (HAR 1.2; keys fingerprinted, URL query strings removed)" in shown
    assert "relayed through https://proxy.example.com/__mock/relay/" in shown
    unobserved = banner(Settings(upstreams=("evolink=https://api.evolink.ai",)), 1)
    assert "NOT observed: no --public-url" in unobserved and "recording to" not in unobserved
    assert "UPSTREAM" not in banner(Settings(), 1)


@pytest.mark.parametrize(
    ("arguments", "says"),
    [
        (["--upstream", "sora=https://api.openai.com"], "--upstream sora: not a provider this fake serves"),
        (["--upstream", "evolink"], "not PROVIDER=URL"),
        (["--upstream", "evolink=ftp://api.evolink.ai"], "not PROVIDER=URL"),
        (
            [
                "--upstream",
                "evolink=https://api.evolink.ai",
                "--record",
                "x.har",
                "--workers",
                "2",
                "--store",
                "redis://127.0.0.1:1/0",
            ],
            "--record writes one file from one process",
        ),
        (["--max-creates", "-1"], "--max-creates"),
    ],
)
def test_what_cannot_work_is_a_usage_error_before_anything_is_bound(arguments: list[str], says: str) -> None:
    with mock.patch("mockserver.cli.server") as server:
        result = CliRunner().invoke(main, ["--port", "0", *arguments])
    assert result.exit_code != 0 and says in result.output
    server.bind.assert_not_called()


def test_a_record_file_that_is_not_a_recording_is_refused_and_kept(tmp_path: Path) -> None:
    notes = tmp_path / "notes.har"
    notes.write_text("my notes")
    with (
        mock.patch("mockserver.cli.server.Server") as serve,
        mock.patch("mockserver.cli.gc"),
        mock.patch("mockserver.cli.logs.configure"),
    ):
        result = CliRunner().invoke(
            main, ["--port", "0", "--upstream", "evolink=https://api.evolink.ai", "--record", str(notes)]
        )
    assert result.exit_code == 1 and "--record:" in result.output and "not JSON" in result.output
    serve.assert_not_called()
    assert notes.read_text() == "my notes"


async def test_the_drift_summary_is_logged_when_the_proxy_stops(
    drifting: tuple[Drifting, str], caplog: pytest.LogCaptureFixture
) -> None:
    _, base = drifting
    caplog.set_level(logging.INFO, logger="mockserver.upstream")
    app = create_app(proxy_settings(upstreams=(f"evolink={base}",)))
    async with client(app) as http:
        task = (
            await http.post(
                "/v1/videos/generations", json=evolink_body(prompt="[drift:new_word]"), headers=AUTH
            )
        ).json()
        for _ in range(2):
            await http.get(f"/v1/tasks/{task['id']}", headers=AUTH)
    (summary,) = [r for r in caplog.records if r.getMessage().startswith("drift report:")]
    assert summary.levelno == logging.WARNING
    assert "3 exchanges, 1 tasks, 0 callbacks: drift" in summary.getMessage()
    assert "new_status_word x1" in summary.getMessage()


async def test_a_fake_with_no_upstream_answers_an_empty_drift_report() -> None:
    async with client(make_app()) as http:
        report = (await http.get("/__mock/drift")).json()
        relayed = await http.post("/__mock/relay/evolink.x", json={})
    assert report == {
        "drift": False,
        "exchanges": 0,
        "tasks": 0,
        "callbacks": 0,
        "findings": [],
        "notes": [],
        "upstreams": {},
        "budget": {"max_creates": 0, "refused": 0},
        "recording": None,
    }
    assert relayed.status_code == 404

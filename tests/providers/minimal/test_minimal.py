"""A third provider served with no edit outside its folder: create, poll, complete, its own
error body, faults, the journal, the control plane and the contract suite."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import AUTH, advance, client
from tests.providers.minimal import app

pytestmark = pytest.mark.anyio
ROOT = Path(__file__).resolve().parents[3]


async def test_a_job_runs_waiting_busy_done_and_serves_its_output() -> None:
    async with client(app()) as http:
        created = await http.post("/minimal/jobs", headers=AUTH, json={"text": "hello", "seconds": 10})
        job = created.json()
        assert created.status_code == 200 and job["state"] == "waiting" and job["job_id"].startswith("job-")
        seen = []
        for _ in range(4):
            seen.append((await http.get(f"/minimal/jobs/{job['job_id']}", headers=AUTH)).json()["state"])
            await advance(http, 30)
        output = (await http.get(f"/minimal/jobs/{job['job_id']}", headers=AUTH)).json()["output"]
        video = await http.get(output)
    assert seen == ["waiting", "busy", "busy", "done"]
    assert video.status_code == 200 and video.headers["content-type"] == "video/mp4"


async def test_errors_speak_its_own_envelope_from_the_pipeline_and_the_router() -> None:
    async with client(app()) as http:
        missing_key = await http.post("/minimal/jobs", json={"text": "x"})
        invalid = await http.post("/minimal/jobs", headers=AUTH, json={"text": 7})
        unknown = await http.get("/minimal/jobs/job-nope00", headers=AUTH)
        fault = await http.get("/minimal/jobs/job-nope00", headers={**AUTH, "X-Mock-Fault": "503"})
        no_route = await http.get("/minimal/elsewhere", headers=AUTH)
        wrong_method = await http.delete("/minimal/jobs", headers=AUTH)
    assert missing_key.json() == {"problem": {"status": 401, "title": "Unauthorized"}}
    assert invalid.status_code == 400 and invalid.json()["problem"]["title"].startswith("Bad Request; text:")
    assert unknown.json() == {"problem": {"status": 404, "title": "Not Found"}}
    assert fault.json() == {"problem": {"status": 503, "title": "Service Unavailable"}}
    assert no_route.json() == {"problem": {"status": 404, "title": "Not Found"}}
    assert wrong_method.status_code == 405 and wrong_method.headers["allow"] == "POST"


async def test_the_control_plane_journal_and_forced_outcomes_know_it() -> None:
    async with client(app()) as http:
        job = (await http.post("/minimal/jobs", headers=AUTH, json={"text": "x"})).json()
        other = (await http.post("/minimal/jobs", headers=AUTH, json={"text": "y"})).json()
        await http.post(f"/__mock/tasks/{job['job_id']}/complete")
        await http.post(f"/__mock/tasks/{other['job_id']}/cancel")
        rule = await http.post("/__mock/faults", json={"operation": "getJob", "status": 429})
        limited = await http.get(f"/minimal/jobs/{job['job_id']}", headers=AUTH)
        done = (await http.get(f"/minimal/jobs/{job['job_id']}", headers=AUTH)).json()
        cancelled = (await http.get(f"/minimal/jobs/{other['job_id']}", headers=AUTH)).json()
        tasks = (await http.get("/__mock/tasks", params={"provider": "minimal"})).json()["tasks"]
        journal = (await http.get("/__mock/requests", params={"provider": "minimal"})).json()["requests"]
    assert rule.status_code == 201 and limited.status_code == 429 and limited.headers["retry-after"] == "1"
    assert done["state"] == "done" and cancelled == {
        "job_id": other["job_id"],
        "state": "broken",
        "why": "cancelled",
    }
    assert [t["provider_status"] for t in tasks] == ["done", "broken"]
    assert [(e["operation"], e["status"]) for e in journal] == [
        ("createJob", 200),
        ("createJob", 200),
        ("getJob", 429),
        ("getJob", 200),
        ("getJob", 200),
    ]


@pytest.mark.slow
def test_the_contract_suite_runs_against_it(
    pytester: pytest.Pytester,
    monkeypatch: pytest.MonkeyPatch,
    request: pytest.FixtureRequest,
    each_store: str,
) -> None:
    if each_store == "copying":
        pytest.skip("the suite runs in a subprocess, which builds its store from MOCKSERVER_STORE")
    if each_store == "redis":  # every provider's contract, against the shared store
        monkeypatch.setenv("MOCKSERVER_STORE", request.getfixturevalue("redis_url"))
    else:
        monkeypatch.setenv("CONTRACTS_PROVIDERS", "minimal")
    monkeypatch.setenv("PYTHONPATH", str(ROOT))
    monkeypatch.setenv("CONTRACTS_APP", "tests.providers.minimal:app")
    monkeypatch.setenv("CONTRACTS_MAX_EXAMPLES", "15")
    monkeypatch.setenv("CONTRACTS_STATEFUL_EXAMPLES", "5")
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-v", "--pyargs", "contracts.suite")
    output = result.stdout.str()
    assert result.ret == 0, output[-3000:]
    assert "test_minimal_operations" in output and "TestMinimalLifecycle" in output

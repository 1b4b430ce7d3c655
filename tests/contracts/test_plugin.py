"""The pytest plugin, in a fresh pytest project that has only the installed package."""

from __future__ import annotations

import pytest

PROJECT_TESTS = """
import json
import urllib.request

import httpx
import pytest

from client import AsyncEvolinkClient, EvolinkClient, RetryPolicy, InternalServerError

BODY = {"model": "kling-o1-image-to-video", "prompt": "A cat", "image_urls": ["https://example.com/c.jpg"]}


def test_sync_httpx_to_the_real_host_reaches_the_fake(video_mock):
    created = httpx.post("https://api.evolink.ai/v1/videos/generations",
                         headers={"Authorization": "Bearer any-key"}, json=BODY)
    assert created.status_code == 200
    video_mock.advance(80)
    done = httpx.get(f"https://ai.odkkk.com/apiv1/v1/tasks/{created.json()['id']}",
                     headers={"Authorization": "Bearer any-key"}).json()
    assert done["status"] == "completed" and done["results"][0].startswith("https://ai.odkkk.com/files/")
    assert httpx.get(done["results"][0]).headers["content-type"] == "video/mp4"
    assert [r["operation"] for r in video_mock.requests()] == ["createVideoGeneration", "getTaskDetail",
                                                               "getResultVideo"]
    assert video_mock.tasks()[0]["status"] == "succeeded"


@pytest.mark.anyio
async def test_async_httpx_and_the_async_client_reach_the_fake(video_mock):
    async with httpx.AsyncClient() as http:
        created = await http.post("https://api.aimlapi.com/v2/video/generations",
                                  headers={"Authorization": "Bearer k"},
                                  json={"model": "klingai/video-o1-image-to-video", "prompt": "x",
                                        "image_url": "https://example.com/a.jpg"})
    assert created.json()["status"] == "queued"

    async def sleep(seconds):
        video_mock.advance(seconds)

    async with AsyncEvolinkClient("k", sleep=sleep, monotonic=video_mock.now) as videos:
        task = await videos.generate("A cat", "https://example.com/c.jpg")
    assert task.video_url.startswith("https://api.evolink.ai/files/")


def test_the_reference_client_with_its_default_base_url(video_mock, tmp_path):
    with EvolinkClient("k", sleep=video_mock.advance, monotonic=video_mock.now) as videos:
        task = videos.generate("A cat", "https://example.com/c.jpg", aspect_ratio="1:1")
        path = videos.download(task, tmp_path / "v.mp4")
    assert path.stat().st_size > 1000


@pytest.mark.video_mock(keys=["only-key"], credits=7, seed=5, evolink_errors="current",
                        faults=[{"operation": "getTaskDetail", "status": 500, "count": 1}])
def test_the_marker_configures_keys_credits_seed_errors_and_faults(video_mock):
    refused = httpx.post("https://api.evolink.ai/v1/videos/generations",
                         headers={"Authorization": "Bearer other"}, json=BODY)
    assert refused.json()["error"]["code"] == "unauthorized"
    ok = httpx.post("https://api.evolink.ai/v1/videos/generations",
                    headers={"Authorization": "Bearer only-key"}, json=BODY)
    broke = httpx.post("https://api.evolink.ai/v1/videos/generations",
                       headers={"Authorization": "Bearer only-key"}, json=BODY)
    assert ok.status_code == 200 and broke.json()["error"]["code"] == "insufficient_quota"
    no_retries = RetryPolicy(max_retries=0)
    with EvolinkClient("only-key", retry=no_retries) as videos, pytest.raises(InternalServerError):
        videos.get(ok.json()["id"])
    assert video_mock.state.engine.seed == 5


def test_control_from_python_forces_outcomes(video_mock):
    created = httpx.post("https://api.evolink.ai/v1/videos/generations",
                         headers={"Authorization": "Bearer k"}, json=BODY).json()
    video_mock.fail(created["id"], "content_policy_violation")
    auth = {"Authorization": "Bearer k"}
    seen = httpx.get(f"https://api.evolink.ai/v1/tasks/{created['id']}", headers=auth)
    assert seen.json()["error"]["code"] == "content_policy_violation"


def test_faults_journal_assertions_per_key_reset_and_verdicts_from_python(video_mock):
    url, auth = "https://api.evolink.ai/v1/videos/generations", {"Authorization": "Bearer mine"}
    video_mock.add_fault("createVideoGeneration", fault="lost", key="mine")
    with pytest.raises(httpx.RemoteProtocolError):
        httpx.post(url, headers=auth, json=BODY)
    [lost] = video_mock.assert_requests(1, operation="createVideoGeneration", key="mine")
    assert lost["fault"] == "lost" and lost["status"] is None and lost["task"]
    httpx.post(url, headers=auth, json=BODY)  # a naive retry: a second task
    httpx.post(url, headers={"Authorization": "Bearer theirs"}, json=BODY)
    with pytest.raises(AssertionError, match="create_repeated_after_lost"):
        video_mock.assert_well_behaved(key="mine")
    with pytest.raises(AssertionError, match="expected 3 request"):
        video_mock.assert_requests(3, key="mine")
    video_mock.reset(key="mine")
    video_mock.assert_requests(0, key="mine")
    video_mock.assert_requests(1, key="theirs")
    assert len(video_mock.tasks()) == 1


@pytest.mark.video_mock(clock="real", speed=500)
def test_the_server_fixture_serves_non_httpx_clients(video_mock_server):
    request = urllib.request.Request(f"{video_mock_server.base_url}/v1/videos/generations",
                                     data=json.dumps(BODY).encode(), method="POST",
                                     headers={"Authorization": "Bearer k",
                                              "Content-Type": "application/json"})
    with urllib.request.urlopen(request) as response:
        task = json.load(response)
    assert task["status"] == "pending"
    assert video_mock_server.urls["evolink-mirror"].endswith("/apiv1")
    assert video_mock_server.tasks()[0]["id"] == task["id"]
"""


@pytest.mark.slow
def test_the_plugin_works_in_a_fresh_pytest_project(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_project=PROJECT_TESTS)
    pytester.makeconftest('import pytest\n\n@pytest.fixture\ndef anyio_backend():\n    return "asyncio"\n')
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-q", "-W", "error")
    result.assert_outcomes(passed=7)


def test_the_plugin_is_registered_as_an_entry_point() -> None:
    from importlib.metadata import entry_points

    assert [e.value for e in entry_points(group="pytest11") if e.name == "video_mock"] == [
        "pytest_videogen_mock"
    ]

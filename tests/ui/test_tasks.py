"""The dashboard in a real browser, on a task's way through the fake: a task created through
the API shows at once with its progress bar; the clock advanced from the page completes it and
its video plays; a failure forced from the page shows its code; the timeline draws the task's
status, the client's requests and each callback attempt."""

from __future__ import annotations

import time
from typing import Any

import pytest

from mockserver.spec import read_document
from tests.helpers import AUTH, EVOLINK_CREATE, aimlapi_body, evolink_body
from tests.ui.browser import shot, wait
from tests.ui.page import serving

pytestmark = pytest.mark.slow


def create(http: Any, **changes: Any) -> str:
    response = http.post(EVOLINK_CREATE, headers=AUTH, json=evolink_body(**changes))
    assert response.status_code == 200, response.text
    task_id: str = response.json()["id"]
    return task_id


def test_a_task_created_through_the_api_shows_within_a_second_with_its_progress_bar(driver: Any) -> None:
    with serving(driver) as (page, http):
        page.open()
        assert page.find("#tasks-empty").is_displayed()
        # polling the control plane, or on the event stream where this fake serves one
        mode = "stream" if "/__mock/events" in read_document("control")["paths"] else "polling"
        wait(lambda: page.js("return document.body.dataset.mode") == mode, what=f"the page {mode}")
        task_id = create(http)
        created = time.monotonic()
        wait(lambda: page.row(task_id), timeout=5, what="the new task's row")
        took = time.monotonic() - created
        assert took < 1.0, f"the row showed {took:.2f} s after the create"
        assert page.cell(task_id, "[role=progressbar]", "aria-valuenow") == "0"
        assert page.row_status(task_id) == "queued"
        view = http.get(f"/__mock/tasks/{task_id}").json()
        left = view["ends_at"] - http.get("/__mock/clock").json()["now"]
        assert [page.cell(task_id, f"td:nth-child({n})") for n in (2, 3, 6, 7, 8)] == [
            "evolink",
            view["key"].removeprefix("sha256:"),  # the key's fingerprint, never the key
            f"in {round(left) // 60} min {round(left) % 60} s",  # the ETA on the fake clock
            "0 s",  # its age on the fake clock
            "",  # no outcome yet
        ]
        http.post("/__mock/clock/advance", json={"seconds": 40})
        progress = http.get(f"/__mock/tasks/{task_id}").json()["progress"]
        assert 0 < progress < 100

        def shown() -> int:
            return int(page.cell(task_id, "[role=progressbar]", "aria-valuenow"))

        # polled, the bar shows the fake's progress; the stream reports it in steps: never ahead
        wait(lambda: shown() == progress if mode == "polling" else 0 < shown() <= progress, what="the bar")
        share = "const r = (css) => document.querySelector(css).getBoundingClientRect().width;" + (
            "return r('tr[data-task] .fill') / r('tr[data-task] .track');"
        )
        wait(lambda: abs(page.js(share) - shown() / 100) < 0.02, what="the bar drawn to its share")
        shot(driver, "tasks")


def test_advancing_the_clock_from_the_page_completes_the_task_and_its_video_plays(driver: Any) -> None:
    with serving(driver) as (page, http):
        task_id = create(http)
        page.open()
        wait(lambda: page.row(task_id), what="the task's row")
        field = page.find("#advance-seconds")
        field.clear()
        field.send_keys("80")
        page.find("#advance-go").click()
        wait(lambda: page.row_status(task_id) == "succeeded", what="the row showing succeeded")
        assert http.get("/__mock/clock").json()["now"] == 1767225600 + 80  # through the control plane
        page.row(task_id).find_element("css selector", "a.play").click()
        video = page.find("#task-detail video")
        state = wait(
            lambda: page.js(
                "const v = arguments[0]; return v.readyState >= 1 && {duration: v.duration}",
                video,
            ),
            what="the video's metadata",
        )
        assert state["duration"] == pytest.approx(5, abs=0.5)
        page.js("arguments[0].play()", video)
        wait(lambda: page.js("return arguments[0].currentTime", video) > 0, what="the video playing")
        shot(driver, "task-completed")


def test_completing_a_task_from_the_page_shows_it_succeeded_and_fetches_its_video_only_when_asked(
    driver: Any,
) -> None:
    with serving(driver) as (page, http):
        task_id = create(http)
        page.open(f"#task/{task_id}")
        page.find("#task-detail .actions button.complete").click()
        wait(lambda: page.row_status(task_id) == "succeeded", what="the row showing succeeded")
        view = http.get(f"/__mock/tasks/{task_id}").json()
        assert view["status"] == "succeeded" and view["result_url"]
        assert page.cell(task_id, "a.play", "href") == view["result_url"]
        assert page.cell(task_id, "[role=progressbar]", "aria-valuenow") == "100"
        assert "completeTask" in page.operations()  # and nothing the control plane does not document
        # Its video is offered, not fetched (a download lands in the client's journal) until asked for
        offer = page.find("#task-detail button.play-video")
        time.sleep(0.5)
        assert page.finds("#task-detail video") == []
        assert [path for _, path, _ in page.sent() if path.startswith("/files/")] == []
        assert http.get("/__mock/requests", params={"provider": "files"}).json()["requests"] == []
        offer.click()
        video = page.find("#task-detail video")
        wait(lambda: page.js("return arguments[0].currentTime", video) > 0, what="the video playing")
        assert http.get("/__mock/requests", params={"provider": "files"}).json()["requests"]


def test_failing_a_task_from_the_page_with_a_code_shows_that_code(driver: Any) -> None:
    with serving(driver) as (page, http):
        task_id = create(http)
        page.open()
        wait(lambda: page.row(task_id), what="the task's row").click()
        code = page.find("#task-detail form.fail input")
        code.send_keys("content_policy_violation")
        page.find("#task-detail form.fail button").click()
        wait(lambda: page.row_status(task_id) == "failed", what="the row showing failed")
        assert page.cell(task_id, "td.outcome") == "content_policy_violation"
        assert http.get(f"/__mock/tasks/{task_id}").json()["error_code"] == "content_policy_violation"
        assert page.find("#task-detail .actions button.complete").get_attribute("disabled") is not None
        assert "failTask" in page.operations()


def test_a_code_the_provider_does_not_report_is_refused_and_the_page_says_why(driver: Any) -> None:
    with serving(driver) as (page, http):
        task_id = create(http)
        page.open(f"#task/{task_id}")
        page.find("#task-detail form.fail input").send_keys("NoSuchCode")
        page.find("#task-detail form.fail button").click()
        toast = wait(lambda: page.text("#toast .toast.bad"), what="the error")
        assert "400" in toast and "NoSuchCode" in toast
        assert http.get(f"/__mock/tasks/{task_id}").json()["status"] == "queued"


def test_the_timeline_draws_the_status_each_request_and_each_callback_attempt(driver: Any) -> None:
    # Nothing listens on the callback's port: every attempt fails and is retried on schedule.
    with serving(driver, allow_callback_hosts=("127.0.0.1",)) as (page, http):
        task_id = create(http, callback_url="http://127.0.0.1:9/hook")
        for seconds in (20, 20, 39):
            http.post("/__mock/clock/advance", json={"seconds": seconds})
            http.get(f"/v1/tasks/{task_id}", headers=AUTH)
        for seconds in (1, 2, 4, 8):
            http.post("/__mock/clock/advance", json={"seconds": seconds})
        [delivery] = http.get("/__mock/callbacks").json()["callbacks"]
        page.open(f"#task/{task_id}")
        wait(
            lambda: len(page.finds("svg.timeline g.attempt")) == 2 * len(delivery["attempts"]),
            what="the attempts",
        )
        assert page.finds("svg.timeline .phase.queued") and page.finds("svg.timeline .phase.running")
        assert page.finds("svg.timeline .end.succeeded")
        journal = http.get("/__mock/requests").json()["requests"]
        polls = [e["seq"] for e in journal if e["task"] == task_id]
        assert len(polls) == 4  # the create and three polls

        def marks() -> list[int]:
            return [int(m.get_attribute("data-seq")) for m in page.finds("svg.timeline a.mark")]

        wait(lambda: marks() == polls, what="a mark for each request (the journal read)")
        outcomes = [g.get_attribute("data-outcome") for g in page.finds("svg.timeline g.attempt")]
        # on the task's scale, then the delivery's own (its retries)
        assert outcomes == [a["outcome"] for a in delivery["attempts"]] * 2 == ["connection_error"] * 8
        for gaps in ("svg.timeline text.gap", "#task-detail .deliveries .gap"):
            assert [g.text for g in page.finds(gaps)] == ["+1 s", "+2 s", "+4 s"]  # the schedule as it ran
        shot(driver, "timeline")


def test_a_mixed_flow_shows_each_tasks_status_as_the_control_plane_does(driver: Any) -> None:
    """Tasks of both providers at every stage, one retried callback, one forced failure: the
    page's counts and rows agree with `GET /__mock/tasks` (the overview screenshot)."""
    with serving(driver, allow_callback_hosts=("127.0.0.1",)) as (page, http):
        early = [create(http) for _ in range(3)]
        watched = create(http, callback_url="http://127.0.0.1:9/hook")  # nothing listens: retried
        http.post("/v2/video/generations", headers=AUTH, json=aimlapi_body())
        http.post("/__mock/tasks/" + early[0] + "/fail", json={"code": "content_policy_violation"})
        for seconds in (30, 25, 24):
            http.post("/__mock/clock/advance", json={"seconds": seconds})
            http.get(f"/v1/tasks/{watched}", headers=AUTH)
        for seconds in (1, 2, 4, 8):
            http.post("/__mock/clock/advance", json={"seconds": seconds})
        late = [create(http) for _ in range(2)]
        http.post("/__mock/clock/advance", json={"seconds": 20})
        http.get(f"/v1/tasks/{late[0]}", headers=AUTH)
        page.open(f"#task/{watched}")
        tasks = http.get("/__mock/tasks").json()["tasks"]
        for status in ("queued", "running", "succeeded", "failed"):
            count = sum(task["status"] == status for task in tasks)
            wait(
                lambda s=status, n=count: page.text(f"#f-status button[data-status={s}] .n") == str(n),
                what=status,
            )
        assert {task["id"]: task["status"] for task in tasks} == {
            task["id"]: page.row_status(task["id"]) for task in tasks
        }
        wait(lambda: page.finds("svg.timeline text.gap"), what="the retries drawn")
        # the create and three polls, once the journal is read (it is read when a view needs it)
        wait(lambda: len(page.finds("svg.timeline a.mark")) == 4, what="the requests drawn")
        shot(driver, "overview")

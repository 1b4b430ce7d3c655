"""The dashboard's other views in a real browser: a client polling too fast shows a verdict
whose evidence links to its journal entries; the journal filters as `GET /__mock/requests`
does; every action on the page (fault rules, cancel, redeliver, reset) is a call of the control
plane, whose answer the test reads back, and every request the page sent is an operation
openapi/control.yaml documents."""

from __future__ import annotations

from typing import Any

import pytest

from tests.callbacks.receiver import LoopbackReceiver
from tests.helpers import AUTH, OTHER_AUTH, OTHER_KEY, aimlapi_body, evolink_body
from tests.ui.browser import shot, wait
from tests.ui.page import serving
from tests.ui.test_tasks import create

pytestmark = pytest.mark.slow


def test_a_client_polling_too_fast_shows_a_verdict_linked_to_its_journal_entries(driver: Any) -> None:
    with serving(driver) as (page, http):
        task_id = create(http)
        for _ in range(4):  # a real second is not spent between polls, nor a fake one
            assert http.get(f"/v1/tasks/{task_id}", headers=AUTH).status_code == 200
        report = http.get("/__mock/verdicts").json()
        [verdict] = [v for v in report["verdicts"] if v["check"] == "poll_too_fast"]
        evidence = [entry["seq"] for finding in verdict["findings"] for entry in finding["evidence"]]
        page.open("#verdicts")
        card = page.find('article.verdict.failed[data-check="poll_too_fast"]')
        links = [int(a.get_attribute("data-seq")) for a in card.find_elements("css selector", "a.req")]
        assert links == evidence and len(links) >= 3
        assert page.text("#count-verdicts") != ""  # the tab says checks fail
        shot(driver, "verdicts")
        card.find_elements("css selector", "a.req")[1].click()
        wait(lambda: page.js("return location.hash") == f"#request/{links[1]}", what="the link followed")
        row = page.find(f'#journal-body tr.selected[data-seq="{links[1]}"]')
        assert row.is_displayed() and task_id in page.text("#journal-body tr.details")
        shot(driver, "journal")
        assert {"getVerdicts", "listRequests"} <= page.operations()


def test_the_journal_filters_as_the_control_plane_does(driver: Any) -> None:
    with serving(driver) as (page, http):
        task_id = create(http)
        http.get(f"/v1/tasks/{task_id}", headers=AUTH)
        http.get("/v1/tasks/task-unified-1767225600-nosuchid", headers=AUTH)
        http.post("/v1/videos/generations", headers=OTHER_AUTH, json=evolink_body())
        http.post("/v2/video/generations", headers=AUTH, json=aimlapi_body())
        page.open("#journal")

        def shown() -> list[int]:
            rows = page.finds("#journal-body tr[data-seq]")
            return [int(seq) for seq in page.js("return arguments[0].map((r) => r.dataset.seq)", rows)]

        def expect(query: dict[str, str]) -> None:
            entries = http.get("/__mock/requests", params=query).json()["requests"]
            wanted = sorted((e["seq"] for e in entries), reverse=True)
            wait(lambda: shown() == wanted, what=f"the journal filtered by {query}")

        expect({})
        page.find("#j-status").send_keys("404")
        expect({"status": "404"})
        page.find("#j-status").clear()
        page.find("#j-key").send_keys(OTHER_KEY)  # a key as sent, matched by its fingerprint
        expect({"key": OTHER_KEY})
        page.find("#j-key").clear()
        page.find("#j-operation").send_keys("getTaskDetail")
        expect({"operation": "getTaskDetail"})
        page.find("#j-operation").clear()
        page.find("#j-provider option[value=aimlapi]").click()
        expect({"provider": "aimlapi"})


def test_fault_rules_are_armed_and_cleared_from_the_page(driver: Any) -> None:
    with serving(driver) as (page, http):
        page.open("#faults")
        assert page.find("#faults-empty").is_displayed()
        page.find("#fault-operation option[value=getTaskDetail]").click()
        page.find("#fault-form input[name=fault]").send_keys("503")
        page.find("#fault-form input[name=count]").send_keys("2")
        page.find("#fault-form button[type=submit]").click()
        wait(lambda: page.finds("#faults-body tr[data-rule]"), what="the armed rule")
        [rule] = http.get("/__mock/faults").json()["faults"]
        assert (rule["operation"], rule["fault"], rule["remaining"]) == ("getTaskDetail", "503", 2)
        shot(driver, "faults")
        page.find("#fault-form input[name=fault]").send_keys("x")  # "503x": the control plane refuses it
        page.find("#fault-form button[type=submit]").click()
        assert "400" in wait(lambda: page.text("#fault-error"), what="the refusal")
        page.find("#faults-clear").click()
        wait(lambda: page.find("#faults-empty").is_displayed(), what="no rule left")
        assert http.get("/__mock/faults").json()["faults"] == []
        assert {"addFault", "clearFaults", "listFaults"} <= page.operations()


def test_cancel_redeliver_and_reset_from_the_page_act_through_the_control_plane(driver: Any) -> None:
    with (
        LoopbackReceiver().running() as receiver,
        serving(driver, allow_callback_hosts=("127.0.0.1",)) as (page, http),
    ):
        called = create(http, callback_url=receiver.url)
        doomed = create(http)
        others = http.post("/v1/videos/generations", headers=OTHER_AUTH, json=evolink_body()).json()["id"]
        page.open(f"#task/{doomed}")
        page.find("#task-detail button.cancel").click()
        wait(lambda: page.row_status(doomed) == "failed", what="the cancelled task")
        assert http.get(f"/__mock/tasks/{doomed}").json()["error_code"] == "request_cancelled"
        page.find("form.advance button[data-seconds='80']").click()
        page.go("#callbacks")
        wait(lambda: page.finds("#callbacks-body .badge.delivered"), what="the delivered callback")
        page.find("#callbacks-body button.redeliver").click()
        wait(lambda: len(page.finds("#callbacks-body tr")) == 2, what="the second delivery")
        deliveries = http.get("/__mock/callbacks").json()["callbacks"]
        assert [d["task_id"] for d in deliveries] == [called, called]
        page.find("form.advance button[data-seconds='1']").click()  # a manual clock sends it as it moves
        wait(lambda: receiver.ids()[called] == 2, what="the callback sent again")
        wait(lambda: len(page.finds("#callbacks-body .badge.delivered")) == 2, what="both delivered")
        shot(driver, "callbacks")
        page.go("#tasks")
        page.find("#reset-open").click()
        page.find("#reset-key").send_keys(OTHER_KEY)
        page.find("#reset-form button[value=key]").click()
        wait(lambda: page.row(others) is None and page.row(called) is not None, what="one key forgotten")
        assert [t["id"] for t in http.get("/__mock/tasks").json()["tasks"]] == [called, doomed]
        page.find("#reset-open").click()
        page.find("#reset-form button[value=all]").click()
        wait(lambda: page.find("#tasks-empty").is_displayed(), what="everything forgotten")
        assert http.get("/__mock/tasks").json()["tasks"] == []
        # each button one documented call, and every other call the page made documented too
        acted = {"cancelTask", "advanceClock", "redeliverCallback", "resetMock"}
        assert acted <= page.operations()
        assert ("POST", "/__mock/reset", f"key={OTHER_KEY}") in page.sent()

"""The engine's verbs emit each event once, where the thing happens, on every store; with
nobody listening they emit nothing."""

from __future__ import annotations

import pytest

from mockserver.engine import Engine, TaskStatus, starting_state
from mockserver.engine.deliveries import Attempt
from mockserver.engine.events import Event
from mockserver.engine.faults import Fault, FaultRule
from mockserver.engine.tasks import Failure
from mockserver.store.base import Store
from tests.engine.test_lifecycle import create

pytestmark = pytest.mark.anyio


def listened(engine: Engine) -> list[Event]:
    seen: list[Event] = []
    engine.events.listen(seen.append)
    return seen


async def test_each_verb_emits_its_event_once_with_the_key_it_concerns(store: Store) -> None:
    engine = Engine(store, starting_state("manual", 1.0, 0.0), seed=1)
    await engine.open()
    seen = listened(engine)
    rule = await engine.add_rule(FaultRule("", "create", 1, key="k", fault=Fault(delay=0.1)))
    task = await create(engine, "k")
    await engine.advance(10)
    ended = await engine.end(task.id, TaskStatus.FAILED, Failure("cancelled"))
    delivery = await engine.new_delivery(task.id, "https://hooks.example.com/a", {}, "callback")
    sent = delivery.with_attempts((Attempt(1, 10.0, delivery.url),))
    await engine.update_delivery(delivery, sent)
    answered = sent.with_attempts((sent.attempts[0].concluded("success", 200, None, 10.5),), "delivered")
    await engine.update_delivery(sent, answered)
    await engine.clear_rules()
    await engine.forget("k")
    await engine.reset()
    assert [(e.kind, e.key) for e in seen] == [
        ("rule.added", "k"),
        ("rule.used", "k"),
        ("task.created", "k"),
        ("clock.moved", None),
        ("task.ended", "k"),
        ("callback.scheduled", "k"),
        ("callback.attempt", "k"),
        ("rules.cleared", None),
        ("reset", "k"),
        ("reset", None),
    ]
    assert seen[0].data.rule.id == rule.id and seen[2].data.task.id == task.id
    assert seen[4].data.task == ended and seen[4].time == 10
    assert seen[6].data.number == 1 and all(e.node == engine.node for e in seen)
    await engine.close()


async def test_nothing_is_emitted_while_nobody_listens(store: Store) -> None:
    engine = Engine(store, starting_state("manual", 1.0, 0.0), seed=1)
    await engine.open()
    seen = listened(engine)
    engine.events.unlisten(seen.append)
    assert not engine.events.listening
    await create(engine, "k")
    await engine.advance(100)
    assert seen == []
    await engine.close()

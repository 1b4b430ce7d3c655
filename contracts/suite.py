"""The contract suite, a pytest module: positive and negative runs of every operation with all
of schemathesis' default checks plus ours, and a stateful run per provider that follows the
specs' links. The target comes from `CONTRACTS_*` variables (see `contracts.target`): the
in-process fake by default, or any base URL (`contracts check`).

Contracts layer.
"""

from __future__ import annotations

from typing import Any

import pytest

import contracts.checks  # noqa: F401  (registers our checks)
from contracts.target import Target

TARGET = Target.from_env()


def _operations_test(provider: str) -> Any:
    if provider not in TARGET.providers:

        @pytest.mark.skip(reason=f"{provider} is not selected (CONTRACTS_PROVIDERS)")
        def skipped() -> None:
            """Not run."""

        return skipped
    schema = TARGET.schema(provider)

    @schema.parametrize()
    def test(case: Any) -> None:
        case.call_and_validate()

    return test


def _stateful_test(provider: str) -> Any:
    if provider not in TARGET.providers or not TARGET.stateful:
        return None

    machine = TARGET.state_machine(provider)
    return machine.TestCase


test_aimlapi_operations = _operations_test("aimlapi")
test_evolink_operations = _operations_test("evolink")
TestAimlapiLifecycle = _stateful_test("aimlapi")
TestEvolinkLifecycle = _stateful_test("evolink")

"""The contract suite, a pytest module: positive and negative runs of every operation with all
of schemathesis' default checks plus ours, and a stateful run per provider that follows the
specs' links. The target comes from `CONTRACTS_*` variables (see `contracts.target`): the
in-process fake by default, or any base URL (`contracts check`). One test per provider, named
after its slug: `test_<slug>_operations` and `Test<Slug>Lifecycle`.

Contracts layer.
"""

from __future__ import annotations

from typing import Any

from contracts.target import Target
from mockserver.providers import Provider

TARGET = Target.from_env()
LIFECYCLE_TESTS: dict[str, str] = {}  # the stateful tests' class names, to their provider (for reports)


def _operations_test(provider: Provider) -> Any:
    schema = TARGET.schema(provider)
    checks = TARGET.checks(provider)

    @schema.parametrize()
    def test(case: Any) -> None:
        case.call_and_validate(additional_checks=checks)

    return test


for _provider in TARGET.providers:
    _name = _provider.slug.replace("-", "_")
    globals()[f"test_{_name}_operations"] = _operations_test(_provider)
    if TARGET.stateful:
        _class = f"Test{_name.title().replace('_', '')}Lifecycle"
        globals()[_class] = TARGET.state_machine(_provider).TestCase
        LIFECYCLE_TESTS[_class] = _provider.slug

"""The server contract suite against the in-process fake (both providers)."""

from contracts.suite import (  # noqa: F401  (collected by pytest)
    TestAimlapiLifecycle,
    TestEvolinkLifecycle,
    test_aimlapi_operations,
    test_evolink_operations,
)

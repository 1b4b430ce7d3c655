"""What `contracts check` shows: a pytest plugin for its child run (`-p contracts.report`) that
prints one line per checked operation (outcome, examples passed and failed, seconds) and a
total, instead of dots; and names each test for JUnit after its provider and operation
(classname `contracts.<slug>`, name `<slug> <METHOD> <path>`), not after temporary paths.

Contracts layer: reads the suite's test names (`contracts/suite.py`), imports no provider.
"""

from __future__ import annotations

import re
from collections.abc import Generator
from dataclasses import dataclass, field

import pytest

STATEFUL = "stateful: create -> retrieve, by links"
# `test_<slug>_operations[<METHOD> <path>]` and `Test<Slug>Lifecycle.runTest` (contracts/suite.py)
OPERATION_TEST = re.compile(r"test_(?P<slug>\w+?)_operations\[(?P<label>.+)\]$")
# hypothesis' statistics text: "- 25 passing, 0 failing, and 3 invalid test cases" per phase
EXAMPLES = re.compile(r"(\d+) passing, (\d+) failing")


@dataclass
class Tally:
    passed: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)


def test_label(item: pytest.Item, slugs: dict[str, str]) -> tuple[str, str]:
    """(provider slug, what was checked) of one test of the suite."""
    location = item.location[2]
    found = OPERATION_TEST.match(location)
    if found is not None:
        return found["slug"], found["label"]
    cls = location.split(".")[0]
    return slugs.get(cls, cls), STATEFUL


def examples(item: pytest.Item) -> str:
    """`examples: 25 passed, 0 failed` from hypothesis' statistics of the item, if it kept any."""
    text = getattr(item, "hypothesis_statistics", "")
    counts = [tuple(map(int, found)) for found in EXAMPLES.findall(text)]
    if not counts:
        return ""
    return f"examples: {sum(p for p, _ in counts)} passed, {sum(f for _, f in counts)} failed"


class Report:
    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.tally = Tally()

    def _slugs(self, item: pytest.Item) -> dict[str, str]:
        module = getattr(item, "module", None)  # a python test item's module: contracts.suite
        return dict(getattr(module, "LIFECYCLE_TESTS", {}))

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(
        self, item: pytest.Item, call: pytest.CallInfo[None]
    ) -> Generator[None, pytest.TestReport, pytest.TestReport]:
        report = yield
        slug, label = test_label(item, self._slugs(item))
        # JUnit reads the class and test names from the node id: contracts.<slug>, "<slug> <label>".
        report.nodeid = f"contracts/{slug}::{slug} {label}"
        if report.when == "call" or (report.when == "setup" and not report.passed):
            outcome = "passed" if report.passed else "skipped" if report.skipped else "FAILED"
            counts = examples(item)
            line = f"  {slug:<8} {label:<40} {outcome:<7} {report.duration:6.1f}s"
            self._write(line + (f"  ({counts})" if counts else ""))
            (self.tally.failed if report.failed else self.tally.passed).append(f"{slug} {label}")
        return report

    def pytest_report_teststatus(self, report: pytest.TestReport) -> tuple[str, str, str] | None:
        """No dots: each test has its own line."""
        if report.when == "call" or (report.when == "setup" and not report.passed):
            return report.outcome, "", ""
        return None

    def pytest_terminal_summary(self) -> None:
        tally = self.tally
        total = len(tally.passed) + len(tally.failed)
        self._write(f"{total} checked: {len(tally.passed)} passed, {len(tally.failed)} failed")
        for name in tally.failed:
            self._write(f"  does not conform: {name}")

    def _write(self, line: str) -> None:
        reporter = self.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            reporter.write_line(line)


def pytest_configure(config: pytest.Config) -> None:
    config.pluginmanager.register(Report(config), "contracts-report")

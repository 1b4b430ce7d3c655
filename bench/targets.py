"""The targets the fake is held to, checked against a report: ratios to the bare endpoint of the
same run (instruction counts, or wrk's medians over rounds), and start-up and memory figures."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

Report = dict[str, Any]


@dataclass(frozen=True)
class Target:
    text: str
    limit: float
    at_most: bool  # the figure must be <= limit (else >=)
    unit: str  # how the figure is shown: "x" (a ratio), "%", "s" or "MB"
    figure: Callable[[Report], float | None]  # None: not measured by this run


def instructions_vs_bare(label: str) -> Callable[[Report], float | None]:
    def figure(report: Report) -> float | None:
        found = [r for r in report.get("callgrind", {}).get("results", []) if r["label"] == label]
        return found[0].get("vs_bare") if found else None

    return figure


def logging_adds(scenario: str) -> Callable[[Report], float | None]:
    return lambda report: report.get("callgrind", {}).get("summary", {}).get("logging_adds", {}).get(scenario)


def wrk_ratio(scenario: str, measure: str) -> Callable[[Report], float | None]:
    """The median over rounds of the fake (default flags) over the bare endpoint."""

    def figure(report: Report) -> float | None:
        for row in report.get("comparisons", []):
            if (row["scenario"], row["variant"]) == (scenario, "default flags") and row[
                "against_scenario"
            ].startswith("bare"):
                median: float = row[measure]["median"]
                return median
        return None

    return figure


def store_instructions(scenario: str) -> Callable[[Report], float | None]:
    """The Redis store's instructions (1 worker) over the memory store's, in the same run."""
    return lambda report: (
        report.get("callgrind", {}).get("summary", {}).get("store_vs_memory", {}).get(scenario)
    )


def store_wrk_ratio(scenario: str) -> Callable[[Report], float | None]:
    """The median over rounds of the Redis store's req/s (1 worker) over the memory store's."""

    def figure(report: Report) -> float | None:
        for row in report.get("comparisons", []):
            pair = (row["scenario"], row["variant"], row["against_scenario"], row["against_variant"])
            if pair == (scenario, "--store, 1 worker", scenario, "default flags"):
                median: float = row["rps"]["median"]
                return median
        return None

    return figure


def of_default(section: str, key: str, tasks: int | None = None) -> Callable[[Report], float | None]:
    """A figure of the fake on its default flags (after exactly `tasks` tasks, if given)."""

    def figure(report: Report) -> float | None:
        for row in report.get(section, []):
            if row["variant"] == "default flags" and (tasks is None or row["tasks"] == tasks):
                value: float = row[key]
                return value
        return None

    return figure


TARGETS = [
    Target(
        "instructions: evolink poll <= 1.10x bare GET",
        1.10,
        True,
        "x",
        instructions_vs_bare("evolink poll, default flags"),
    ),
    Target(
        "instructions: aimlapi poll <= 1.10x bare GET",
        1.10,
        True,
        "x",
        instructions_vs_bare("aimlapi poll, default flags"),
    ),
    Target(
        "instructions: evolink create <= 1.25x bare POST",
        1.25,
        True,
        "x",
        instructions_vs_bare("evolink create, default flags"),
    ),
    Target(
        "instructions: default logging adds <= 5% to a poll (evolink)",
        0.05,
        True,
        "%",
        logging_adds("evolink poll"),
    ),
    Target(
        "instructions: default logging adds <= 5% to a poll (aimlapi)",
        0.05,
        True,
        "%",
        logging_adds("aimlapi poll"),
    ),
    Target(
        "instructions: default logging adds <= 5% to a create",
        0.05,
        True,
        "%",
        logging_adds("evolink create"),
    ),
    Target("wrk: evolink poll >= 0.85x bare GET req/s", 0.85, False, "x", wrk_ratio("evolink poll", "rps")),
    Target("wrk: aimlapi poll >= 0.85x bare GET req/s", 0.85, False, "x", wrk_ratio("aimlapi poll", "rps")),
    Target(
        "wrk: evolink create >= 0.7x bare POST req/s", 0.7, False, "x", wrk_ratio("evolink create", "rps")
    ),
    Target(
        "wrk: aimlapi create >= 0.7x bare POST req/s", 0.7, False, "x", wrk_ratio("aimlapi create", "rps")
    ),
    Target("wrk: evolink poll p99 <= 2x bare GET's", 2.0, True, "x", wrk_ratio("evolink poll", "p99")),
    Target("wrk: aimlapi poll p99 <= 2x bare GET's", 2.0, True, "x", wrk_ratio("aimlapi poll", "p99")),
    Target("wrk: evolink create p99 <= 2x bare POST's", 2.0, True, "x", wrk_ratio("evolink create", "p99")),
    Target("wrk: aimlapi create p99 <= 2x bare POST's", 2.0, True, "x", wrk_ratio("aimlapi create", "p99")),
    *(
        Target(f"instructions: {name} on Redis <= 2.5x on memory", 2.5, True, "x", store_instructions(name))
        for name in ("evolink poll", "aimlapi poll", "evolink create")
    ),
    *(
        Target(f"wrk: {name} on Redis >= 0.5x memory's req/s", 0.5, False, "x", store_wrk_ratio(name))
        for name in ("evolink poll", "aimlapi poll", "evolink create", "aimlapi create")
    ),
    Target("start-up to first answer <= 0.3 s", 0.3, True, "s", of_default("startup", "seconds")),
    Target("idle RSS <= 50 MB", 50, True, "MB", of_default("memory", "idle_mb")),
    Target("RSS after 100,000 tasks <= 120 MB", 120, True, "MB", of_default("memory", "loaded_mb", 100_000)),
]


def check(report: Report) -> list[dict[str, Any]]:
    """Each target this report measured, with its figure and whether it is met."""
    rows = []
    for target in TARGETS:
        value = target.figure(report)
        if value is not None:
            met = value <= target.limit if target.at_most else value >= target.limit
            rows.append({"target": target.text, "measured": value, "unit": target.unit, "met": met})
    return rows


def markdown(rows: list[dict[str, Any]]) -> str:
    lines = ["| target | measured | met |", "|---|---:|---|"]
    for row in rows:
        value, unit = row["measured"], row["unit"]
        shown = f"{value:+.1%}" if unit == "%" else f"{value:.2f}x" if unit == "x" else f"{value:g} {unit}"
        lines.append(f"| {row['target']} | {shown} | {'yes' if row['met'] else 'no'} |")
    return "\n".join(lines)

"""Fault rules armed through the control plane ("the next N requests to X answer S") and the
parsing of status triggers, shared by the header, the prompt directive and the rules.

Engine layer: decides *whether* a request fails; the web layer renders the provider's body.
"""

from __future__ import annotations

from dataclasses import dataclass, replace


@dataclass(frozen=True, slots=True)
class FaultRule:
    id: str
    operation: str
    status: int
    remaining: int
    key: str | None = None  # fingerprint of the only key it applies to
    retry_after: int | None = None

    def matches(self, operation: str, key: str | None) -> bool:
        return self.operation == operation and (self.key is None or self.key == key)


def take(rules: list[FaultRule], operation: str, key: str | None) -> tuple[FaultRule | None, list[FaultRule]]:
    """The first rule that matches, and the rules left once it has spent one use."""
    for index, rule in enumerate(rules):
        if rule.matches(operation, key):
            rest = rules[:index] + rules[index + 1 :]
            if rule.remaining > 1:
                rest.insert(index, replace(rule, remaining=rule.remaining - 1))
            return rule, rest
    return None, rules


def parse_status(raw: str) -> int | None:
    """A status written in ASCII digits ("503"), else None: `'²'.isdigit()` is true in Python,
    and `int('٤٠٣')` is 403, neither of which a client means."""
    raw = raw.strip()
    if raw.isascii() and raw.isdigit() and len(raw) == 3:
        return int(raw)
    return None

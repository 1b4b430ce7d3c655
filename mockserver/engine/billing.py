"""Credits per key (D15): each task reserves credits by video length when created.

Engine layer. Credits are charged at creation and not refunded (the providers document
no refunds); `None` as the starting balance means unlimited.
"""

from __future__ import annotations

from mockserver.engine.errors import InsufficientCredits

# D15: 7 credits for a 5 s video, 14 for 10 s.
CREDITS_BY_DURATION = {5: 7, 10: 14}


def cost_of(duration: int) -> int:
    return CREDITS_BY_DURATION[duration]


class Ledger:
    def __init__(self, starting_balance: float | None) -> None:
        self._start = starting_balance
        self._spent: dict[str, float] = {}

    def balance(self, key: str) -> float | None:
        if self._start is None:
            return None
        return self._start - self._spent.get(key, 0.0)

    def charge(self, key: str, amount: float) -> None:
        balance = self.balance(key)
        if balance is not None and amount > balance:
            raise InsufficientCredits(key, amount, balance)
        self._spent[key] = self._spent.get(key, 0.0) + amount

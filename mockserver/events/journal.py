"""The journal as the event stream reads it: the entries after the last one read. Requests
become events here, from the journal's own write, so the request path pays nothing for them.

Events layer: reads a store through its verbs (and, if it has one, its `journal_after`).
"""

from __future__ import annotations

import sys

from mockserver.engine.journal import EVERYTHING, JournalEntry, JournalQuery
from mockserver.store.base import Store


class StoreJournal:
    """A store's journal (the memory store reads from its newest entry back; another store
    through `journal`, whole: fine for tests, slow for a long journal)."""

    def __init__(self, store: Store) -> None:
        self.store = store

    async def after(self, seq: int, limit: int) -> tuple[int, list[JournalEntry]]:
        read_after = getattr(self.store, "journal_after", None)
        if read_after is not None:
            found: tuple[int, list[JournalEntry]] = await read_after(seq, limit)
            return found
        entries = await self.store.journal(EVERYTHING if seq >= sys.maxsize else JournalQuery(since=seq))
        latest = entries[-1].seq if entries else (0 if seq >= sys.maxsize else seq)
        return latest, ([] if seq >= sys.maxsize else entries[:limit])

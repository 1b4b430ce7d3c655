"""Identifiers derived from (seed, purpose, sequence number): the same seed and the same
numbers give the same ids, and numbers handed out by a shared store keep ids unique across
processes and restarts.

Engine layer. Provider id formats are built from these pieces in the providers.
"""

from __future__ import annotations

import functools
import hashlib
import string
import uuid

LOWER_ALNUM = string.ascii_lowercase + string.digits


class Ids:
    def __init__(self, seed: int) -> None:
        self.seed = seed

    def _number(self, purpose: str, n: int, size: int) -> int:
        digest = hashlib.blake2b(f"{self.seed}:{purpose}:{n}".encode(), digest_size=size).digest()
        return int.from_bytes(digest, "big")

    def uuid4(self, purpose: str, n: int) -> str:
        return str(uuid.UUID(int=self._number(purpose, n, 16), version=4))

    def token(self, purpose: str, n: int, length: int, alphabet: str = LOWER_ALNUM) -> str:
        base, chars = len(alphabet), []
        # The `length` lowest digits in `base`: reduced first, so the loop divides a small int
        # instead of a 256-bit one (the same digits).
        value = self._number(purpose, n, 32) % base**length
        for _ in range(length):
            value, index = divmod(value, base)
            chars.append(alphabet[index])
        return "".join(chars)

    def hex(self, purpose: str, n: int, length: int = 32) -> str:
        if length % 2:  # the number's hex, unpadded when it has a leading zero digit
            return f"{self._number(purpose, n, (length + 1) // 2):0{length}x}"[:length]
        return hashlib.blake2b(f"{self.seed}:{purpose}:{n}".encode(), digest_size=length // 2).hexdigest()


@functools.lru_cache(maxsize=4096)  # a handful of keys, looked up on every request
def fingerprint(key: str | None) -> str | None:
    """How keys are kept and shown: never the key itself."""
    if not key:
        return None
    return "sha256:" + hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()[:12]

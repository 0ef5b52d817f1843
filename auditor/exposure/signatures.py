"""Results remembered under a few signatures, each with its own key function.

The walk, transport and attempt memos share one discipline: a computation reports what it
read (its signature); its result is stored under the key that signature's key function gives
the input, and a lookup tries the key functions of the signatures seen so far, the one that
answered moving one place forward. Where inputs never repeat (rules that single out each
container), a memo that has not answered ``TRIAL`` lookups in a row gives up (``enabled``
turns false) so those computations do not pay for it. At most ``MAX_SIGNATURES`` are kept:
a new one then replaces the least recently useful (``EVICT``) or is not kept.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Any


class SignatureTables:
    MAX_SIGNATURES = 8
    TRIAL = 12
    EVICT = False

    def __init__(self) -> None:
        # (signature, key function, results by key), most useful first
        self.tables: list[tuple[Hashable, Callable[..., Any], dict[Any, Any]]] = []
        self.enabled = True
        self._misses = 0  # in a row

    def get(self, *args: Any) -> Any:
        """The result stored for ``args`` under any signature, or ``None``."""
        if not self.enabled:
            return None
        tables = self.tables
        for i, (_sig, key, table) in enumerate(tables):
            found = table.get(key(*args))
            if found is not None:
                if i:
                    tables[i - 1], tables[i] = tables[i], tables[i - 1]
                self._misses = 0
                return found
        self._misses += 1
        if self._misses >= self.TRIAL:
            self.enabled = False
            self.tables = []
        return None

    def store(
        self, signature: Hashable, key_function: Callable[[Any], Callable[..., Any]], value: Any, *args: Any
    ) -> None:
        """Keep ``value`` for ``args`` under ``signature`` (``key_function(signature)`` makes
        that signature's key function the first time it is seen)."""
        if not self.enabled:
            return
        for sig, key, table in self.tables:
            if sig == signature:
                table[key(*args)] = value
                return
        if len(self.tables) >= self.MAX_SIGNATURES:
            if not self.EVICT:
                return
            self.tables.pop()  # the least recently useful one
        key = key_function(signature)
        self.tables.append((signature, key, {key(*args): value}))

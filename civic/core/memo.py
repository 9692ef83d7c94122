"""Per-process memory of slow-changing reference data, each entry kept for a bounded time.

What goes here is data many requests read and few writes change: the wards inside a
consultation's areas, the adults living there, the first idea of each page of a long list.
Reading them from PostgreSQL on every support or list page costs a round trip each; remembering
them for a minute costs a minute of staleness, which each caller states and keys against:

* key on what changes the answer (a consultation's ``updated_at`` changes when its areas do), so
  that an edit is seen at once, and let the time bound cover what the key cannot see (a census
  import changing a ward's population);
* the database's URL is part of every key, so two databases in one process never share;
* ``clear_all()`` forgets everything in this process (tests, between databases; commands that
  change reference data). Other app servers forget within their ``seconds``.

Entries are computed outside the lock (two threads may compute the same entry once each; both
answers are equally fresh), and the cache is bounded (least recently used entries go first).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from typing import Any

from cachetools import TTLCache

from civic.extensions import db

_ALL: list[Memo] = []


class Memo:
    def __init__(self, name: str, seconds: float, maxsize: int = 1024):
        self.name = name
        self.seconds = seconds
        self._cache: TTLCache = TTLCache(maxsize=maxsize, ttl=seconds)
        self._lock = threading.Lock()
        _ALL.append(self)

    def get(self, key: tuple[Hashable, ...], compute: Callable[[], Any]) -> Any:
        """The remembered value for ``key``, or ``compute()``'s (then remembered)."""
        full_key = (db.engine.url.render_as_string(hide_password=True), *key)
        with self._lock:
            try:
                return self._cache[full_key]
            except KeyError:
                pass
        value = compute()
        with self._lock:
            self._cache[full_key] = value
        return value

    def clear(self) -> None:
        with self._lock:
            self._cache.clear()


def clear_all() -> None:
    for memo in _ALL:
        memo.clear()

"""One search box over everything: a registry of search providers.

Each app that has something worth finding declares a provider in its own `search.py` (found the
first time a search runs, the way the layer catalogue finds `map_layers.py`): `register(Provider(...))`.
This module names no domain; it only asks every provider in turn and groups the answers.

A provider's `search(user, query)` returns a `Group`: the true number of matches the user may see
(never capped) and one page of results (`query.limit` from `query.offset`). It applies the same
selectors (permissions) as the lists of its app and must stay fast: indexed lookups only."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Callable

MAX_QUERY_LENGTH = 100
DEFAULT_LIMIT = 20
MAX_LIMIT = 100
MAX_OFFSET = 10_000


@dataclass(frozen=True)
class Query:
    text: str  # stripped, 1..MAX_QUERY_LENGTH characters, no control characters
    limit: int = DEFAULT_LIMIT
    offset: int = 0

    @property
    def digits(self) -> bool:
        """Only ASCII digits: a code (component ID, grid code) typed or scanned."""
        return self.text.isascii() and self.text.isdigit()

    @property
    def like(self) -> str:
        """The text as a LIKE/ILIKE operand matching it anywhere (wildcards in it escaped)."""
        escaped = self.text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        return f"%{escaped}%"


@dataclass(frozen=True)
class Result:
    id: str
    title: str
    subtitle: str = ""
    lon: float | None = None
    lat: float | None = None
    bbox: list[float] | None = None  # [w, s, e, n] in EPSG:4490
    url: str | None = None

    def as_dict(self) -> dict:
        return {
            "id": self.id,
            "title": self.title,
            "subtitle": self.subtitle,
            "lon": None if self.lon is None else round(self.lon, 7),
            "lat": None if self.lat is None else round(self.lat, 7),
            "bbox": None if self.bbox is None else [round(v, 7) for v in self.bbox],
            "url": self.url,
        }


@dataclass(frozen=True)
class Group:
    count: int
    results: list[Result] = field(default_factory=list)


EMPTY = Group(0, [])


@dataclass(frozen=True)
class Provider:
    kind: str  # "component", "grid", ... (the `kinds` parameter names these)
    label: str  # shown as the group's title: 部件, 网格 ...
    search: Callable[[object, Query], Group]
    order: int = 100  # groups are answered in this order


_PROVIDERS: dict[str, Provider] = {}
_lock = threading.RLock()
_loaded = False


def register(provider: Provider) -> Provider:
    with _lock:
        if provider.kind in _PROVIDERS and _PROVIDERS[provider.kind] is not provider:
            raise ValueError(f"search provider {provider.kind} is declared twice")
        _PROVIDERS[provider.kind] = provider
    return provider


def providers() -> list[Provider]:
    _discover()
    return sorted(_PROVIDERS.values(), key=lambda p: (p.order, p.kind))


def kinds() -> list[str]:
    return [p.kind for p in providers()]


def search(user, query: Query, only: set[str] | None = None) -> list[dict]:
    """The groups, in the providers' order, each with its true count and a page of results."""
    groups = []
    for provider in providers():
        if only is not None and provider.kind not in only:
            continue
        group = provider.search(user, query)
        groups.append(
            {
                "kind": provider.kind,
                "label": provider.label,
                "count": group.count,
                "results": [r.as_dict() for r in group.results],
            }
        )
    return groups


def _discover():
    global _loaded
    if _loaded:
        return
    with _lock:
        if not _loaded:
            from django.utils.module_loading import autodiscover_modules

            autodiscover_modules("search")
            _loaded = True

"""The records a sandbox resource holds, and how they change over time."""

from __future__ import annotations

import random
import threading
import time
from datetime import datetime, timezone
from typing import Any

import orjson

from restsync.sandbox import records as r
from restsync.sandbox.apis import ResourceSpec

#: Fields a mutation keeps (the record's identity and birth).
_KEEP_ON_UPDATE = ("id", "product_id", "order_id", "order_number", "created_at", "createdOn")


def parse_instant(text: str) -> float:
    """An ISO-8601 timestamp as epoch seconds; `Z`, offsets, and no offset (= UTC) are accepted.

    A `+` that arrived as a space (an unencoded `+02:00` in a query string) is read as `+`.

    Raises:
        ValueError: when `text` is not an ISO-8601 timestamp.
    """
    value = text.strip().replace(" ", "+") if "T" in text else text.strip()
    if value.endswith(("z", "Z")):
        value = value[:-1] + "+00:00"
    moment = datetime.fromisoformat(value)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.timestamp()


class Store:
    """The records of one resource, in the order the API serves them (by creation)."""

    #: Pages of this store are worth caching (False when pages are cheaper to build than to keep).
    cacheable = True

    def __init__(
        self,
        spec: ResourceSpec,
        api: str,
        seed: int,
        count: int,
        *,
        drop: tuple[str, ...] = (),
        lazy: bool = False,
    ) -> None:
        self.spec = spec
        self._api = api
        self._seed = seed
        self._drop = drop
        self._count = count
        self._lock = threading.Lock()
        self._built_lock = threading.Lock()
        self._mutations = 0
        self.version = 0
        #: (records, their cursor instants, their ordinals), built at once or, when `lazy`,
        #: on first use (`build`): the same records either way
        self._built: tuple[list[r.Record], list[float], list[int]] | None = None
        self._filtered: dict[float, list[r.Record]] = {}
        if not lazy:
            self.build()

    def build(self) -> None:
        """Generate the records now (a lazy store does it on first use; idempotent)."""
        with self._built_lock:
            if self._built is not None:
                return
            gen = r.Gen(random.Random(f"{self._api}:{self._seed}:{self.spec.name}"))
            recs: list[r.Record] = []
            instants: list[float] = []
            for i in range(1, self._count + 1):
                epoch = r.BASE_EPOCH + i * 600 + gen.r.randint(0, 599)
                rec, instant = self._build(gen, i, epoch)
                recs.append(rec)
                instants.append(instant)
            self._built = (recs, instants, list(range(1, self._count + 1)))

    def _data(self) -> tuple[list[r.Record], list[float], list[int]]:
        if self._built is None:
            self.build()
        assert self._built is not None
        return self._built

    @property
    def _records(self) -> list[r.Record]:
        return self._data()[0]

    @property
    def _instants(self) -> list[float]:
        return self._data()[1]

    @property
    def _ordinals(self) -> list[int]:
        return self._data()[2]

    def _build(self, gen: r.Gen, ordinal: int, epoch: float) -> tuple[r.Record, float]:
        rec = self.spec.builder(gen, ordinal)
        stamp = gen.ts(epoch)
        rec[self.spec.cursor_field] = stamp
        for name in self._drop:
            rec.pop(name, None)
        return rec, parse_instant(stamp)

    def __len__(self) -> int:
        return self._count if self._built is None else len(self._built[0])

    def records(self) -> list[r.Record]:
        """A deep copy of every record, as served."""
        return list(orjson.loads(orjson.dumps(self._records)))

    def matching(self, since: float | None) -> list[r.Record]:
        """The records whose cursor is at or after `since` (all when None), in serving order."""
        if since is None:
            return self._records
        found = self._filtered.get(since)
        if found is None:
            recs, instants = self._records, self._instants
            found = [rec for rec, t in zip(recs, instants, strict=True) if t >= since]
            if len(self._filtered) > 256:
                self._filtered.clear()
            self._filtered[since] = found
        return found

    def window(self, since: float | None, start: int, count: int) -> tuple[bytes, int]:
        """(JSON array of the matching records [start:start+count], number matching)."""
        found = self.matching(since)
        return orjson.dumps(found[start : start + count]), len(found)

    def mutate(self, updates: int, inserts: int) -> tuple[list[Any], list[Any]]:
        """Change `updates` records and add `inserts`, moving their cursors past every other one.

        Deterministic: the n-th mutation of a resource always picks and writes the same values.
        Returns the primary keys (updated, inserted).
        """
        with self._lock:
            rng = random.Random(
                f"{self._api}:{self._seed}:{self.spec.name}:mutation:{self._mutations}"
            )
            self._mutations += 1
            gen = r.Gen(rng)
            recs = list(self._records)
            instants = list(self._instants)
            ordinals = list(self._ordinals)
            top = max(instants, default=r.BASE_EPOCH)
            step = 0
            pk = self.spec.primary_key
            key = "product_id" if pk in self._drop else pk
            updated: list[Any] = []
            for idx in sorted(rng.sample(range(len(recs)), min(updates, len(recs)))):
                step += 1
                old = recs[idx]
                new, instant = self._build(gen, ordinals[idx], float(int(top) + 60 * step))
                for name in _KEEP_ON_UPDATE:
                    if name in old:
                        new[name] = old[name]
                new[key] = old.get(key)
                recs[idx] = new
                instants[idx] = instant
                updated.append(old.get(key))
            inserted: list[Any] = []
            for _ in range(inserts):
                step += 1
                ordinal = (max(ordinals) if ordinals else 0) + 1
                new, instant = self._build(gen, ordinal, float(int(top) + 60 * step))
                recs.append(new)
                instants.append(instant)
                ordinals.append(ordinal)
                inserted.append(new.get(key))
            self._built = (recs, instants, ordinals)
            self._filtered = {}
            self.version += 1
            return updated, inserted


class BenchStore(Store):
    """A large resource whose pages are built on demand from the record index.

    Record i (1-based) is `{"id": i, "number": ..., "created_at": ..., "updated_at": ...}` followed
    by one of 1009 precomputed bodies; `updated_at` is 2024-01-01T00:00:00Z + i minutes, so a
    modified-since filter is a start index. Memory does not grow with the record count.
    """

    cacheable = False
    _VARIANTS = 1009

    def __init__(
        self,
        spec: ResourceSpec,
        api: str,
        seed: int,
        count: int,
        *,
        drop: tuple[str, ...] = (),
        lazy: bool = False,
    ) -> None:
        self.spec = spec
        self.version = 0
        self._count = count
        self._days: dict[int, str] = {}
        gen = r.Gen(random.Random(f"{api}:{seed}:{spec.name}"))
        self._tails = [orjson.dumps(spec.builder(gen, k))[1:] for k in range(self._VARIANTS)]

    def __len__(self) -> int:
        return self._count

    def build(self) -> None:
        """Nothing to build ahead: pages are made on demand."""

    def _stamp(self, seconds: int, zone: str) -> str:
        day, rem = divmod(seconds, 86400)
        date = self._days.get(day)
        if date is None:
            date = time.strftime("%Y-%m-%d", time.gmtime(r.BASE_EPOCH + day * 86400))
            self._days[day] = date
        hour, rem = divmod(rem, 3600)
        return f"{date}T{hour:02d}:{rem // 60:02d}:{rem % 60:02d}{zone}"

    def _record(self, i: int) -> bytes:
        updated = self._stamp(i * 60, "Z")
        created = self._stamp(i * 60 - (i % 97) * 3600, "+00:00")
        head = (
            f'{{"id":{i},"number":"INV-{i:08d}","created_at":"{created}","updated_at":"{updated}",'
        )
        return head.encode() + self._tails[i % self._VARIANTS]

    def _first(self, since: float | None) -> int:
        if since is None:
            return 1
        return max(1, -int(-(since - r.BASE_EPOCH) // 60))

    def window(self, since: float | None, start: int, count: int) -> tuple[bytes, int]:
        """(JSON array of the matching records [start:start+count], number matching)."""
        first = self._first(since)
        total = max(0, self._count - first + 1)
        lo = first + start
        hi = min(self._count, lo + count - 1)
        if start >= total or count <= 0:
            return b"[]", total
        return b"[" + b",".join([self._record(i) for i in range(lo, hi + 1)]) + b"]", total

    def records(self) -> list[r.Record]:
        """Every record, decoded (fine for test sizes, not for a million)."""
        return list(orjson.loads(self.window(None, 0, self._count)[0]))

    def matching(self, since: float | None) -> list[r.Record]:
        """The records with `updated_at` >= `since`."""
        first = self._first(since)
        return list(orjson.loads(self.window(None, first - 1, self._count)[0]))

    def mutate(self, updates: int, inserts: int) -> tuple[list[Any], list[Any]]:
        """Bench records do not change; use a seed API for incremental runs."""
        raise NotImplementedError("the bench API does not support mutate(); use a seed API")

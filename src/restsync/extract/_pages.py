"""One page of a resource, read: the step a run and `restsync check --probe` share.

A page goes: its body decoded (`restsync.http._body.decode_json`), compared with the shape
of the pages before it (`PageShape`), its records found (`data_selector`); then, once the
paginator has read the page (the engine's turn), the records as loaded, in dlt's order: the
parent's `include_from_parent` fields added, the incremental window applied, then
`processing_steps` in config order (in each step: filter, map, yield_map). Last, whether the
page can travel as its body (`restsync.extract._packing`).

Nothing here sends, waits or logs: given a response it gives records, or raises the error
that names the page (`SelectorError`, `DataError`). `PageStep.checker` is the same reading
as the retry transport's body check (`RequestTrace.check`), so an unreadable body is retried
where every other retry is.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import httpx

from restsync.errors import DataError, ResourceError, SelectorError
from restsync.extract import _packing as packing
from restsync.extract._resources import ResourcePlan
from restsync.extract._select import select_records
from restsync.http._body import decode_json
from restsync.http._redact import redact_text, redact_url
from restsync.http._retry import CHECKED_KEY, UnreadableBody
from restsync.paginate._shape import PageShape

#: The incremental window: the records of a page that are inside it (`Incremental.filter`).
Window = Callable[[list[Any]], list[Any]]


@dataclass(frozen=True)
class PageReading:
    """A response's body and the records `data_selector` found in it (as the paginator
    reads them: before anything is added, filtered or mapped)."""

    body: Any
    records: list[Any]
    url: str  # secrets masked
    #: Whether `body` is orjson's reading of `content` (see `decode_json`).
    by_orjson: bool
    content: bytes


@dataclass(frozen=True)
class PageRecords:
    """A page's records as loaded, and the body they can travel as (see `Page.raw`)."""

    records: list[Any]
    raw: tuple[bytes, str] | None = None


def check_shape(shape: PageShape, body: Any, paginator: Any, *, resource: str, url: str) -> None:
    """Raise `SelectorError` when a page after the first breaks the endpoint's shape (a
    `null`, an error object, the records' place missing): that is a failure, not the end."""
    problem = shape.mismatch(body)
    if problem is None:
        return
    stop = getattr(paginator, "stop_condition", None)
    if stop is not None and stop.evaluate(body, []):
        return  # the config says this is how the API marks the end
    raise SelectorError(
        f"page {getattr(paginator, 'pages_seen', 0) + 1} from {url} is {problem}, where the "
        f"endpoint has been answering {shape.expected()}; the pagination is not over",
        resource=resource,
        url=url,
        hint="the API failed in the middle of the pagination; run again later, or, if this "
        "is how the API marks its last page, set endpoint.paginator.stop_condition "
        '(e.g. "data is null")',
    )


def apply_step(
    kind: str, func: Callable[[Any], Any], records: list[Any], resource: str, index: int, url: str
) -> list[Any]:
    """`records` through one processing step (as dlt's add_filter, add_map, add_yield_map)."""
    out: list[Any] = []
    try:
        if kind == "filter":
            return [record for record in records if func(record)]
        if kind == "map":
            return [func(record) for record in records]
        for record in records:
            produced = func(record)
            if isinstance(produced, (Mapping, str, bytes)) or not hasattr(produced, "__iter__"):
                raise TypeError(
                    f"yield_map must return an iterable of records (a list or a generator), "
                    f"got {type(produced).__name__}; use map for one record per record"
                )
            out.extend(produced)
    except Exception as exc:
        raise DataError(
            f"processing_steps[{index}].{kind} failed on a record from {url}: "
            f"{redact_text(f'{type(exc).__name__}: {exc}')}",
            resource=resource,
            url=url,
            hint=f"fix the function in processing_steps[{index}].{kind}",
        ) from None
    return out


def _reason(exc: SelectorError) -> str:
    """What is wrong with a body, in the words of the log line of its retry."""
    return exc.message.split(";", 1)[0]


class PageStep:
    """The page step of one resource (see the module docstring).

    ```python
    step = PageStep(plan)
    reading = step.read(response)  # decoded, records selected
    loaded = step.load(reading, reading.records)  # what the pipeline receives
    ```
    """

    def __init__(self, plan: ResourcePlan) -> None:
        self.resource = plan.name
        self.selector: str | None = plan.endpoint.get("data_selector")
        self.parent = plan.parent
        self.include_from_parent: Sequence[str] = tuple(plan.include_from_parent)
        self.processing_steps: Sequence[Mapping[str, Any]] = tuple(plan.processing_steps)

    def read(
        self, response: httpx.Response, *, shape: PageShape | None = None, paginator: Any = None
    ) -> PageReading:
        """The body of `response` and its records; a `shape` learnt from earlier pages is
        checked first. Raises `SelectorError` (or `ResourceError`) naming the page."""
        url = redact_url(str(response.request.url))
        body, by_orjson = decode_json(response, resource=self.resource, url=url)
        return self._select(response, body, by_orjson, url, shape, paginator)

    def _select(
        self,
        response: httpx.Response,
        body: Any,
        by_orjson: bool,
        url: str,
        shape: PageShape | None,
        paginator: Any,
    ) -> PageReading:
        if shape is not None:
            check_shape(shape, body, paginator, resource=self.resource, url=url)
        records = select_records(body, self.selector, resource=self.resource, url=url)
        return PageReading(body, records, url, by_orjson, response.content)

    def checker(
        self, *, first: bool, shape: PageShape | None = None, paginator: Any = None
    ) -> Callable[[httpx.Response], PageReading | None]:
        """`read` as the retry transport's body check (`RequestTrace.check`).

        Worth another attempt (`UnreadableBody`): a body that cannot be decoded (cut short,
        an HTML page, not UTF-8), on any page; a page of another shape than the pages
        before it, or without the records' place, after the first page. A first page that
        does not match is a config error, and an unreadable coding is not a glitch: then
        None, and `read` raises the error for the caller."""

        def check(response: httpx.Response) -> PageReading | None:
            url = redact_url(str(response.request.url))
            try:
                body, by_orjson = decode_json(response, resource=self.resource, url=url)
            except SelectorError as exc:
                raise UnreadableBody(_reason(exc)) from None
            except ResourceError:
                return None
            try:
                return self._select(response, body, by_orjson, url, shape, paginator)
            except SelectorError as exc:
                if first:
                    return None
                raise UnreadableBody(_reason(exc)) from None

        return check

    @staticmethod
    def checked(response: httpx.Response) -> PageReading | None:
        """The reading the transport's check kept for `response`, if it still holds (a
        response action may have replaced the body since)."""
        reading = response.extensions.get(CHECKED_KEY)
        if isinstance(reading, PageReading) and reading.content is response.content:
            return reading
        return None

    @staticmethod
    def gave_up(response: httpx.Response) -> bool:
        """Whether the transport retried `response`'s unreadable body as often as it may."""
        return isinstance(response.extensions.get(CHECKED_KEY), UnreadableBody)

    def load(
        self,
        reading: PageReading,
        records: list[Any],
        *,
        parent_record: Mapping[str, Any] | None = None,
        window: Window | None = None,
    ) -> PageRecords:
        """`records` of `reading` (less any the paginator has read before) as loaded, and
        whether the page can travel as its body."""
        adds = parent_record is not None and bool(self.include_from_parent)
        loaded = self.process(records, url=reading.url, parent_record=parent_record, window=window)
        raw = None
        if packing.ships_raw(
            self.selector,
            windowed=window is not None,
            processed=bool(self.processing_steps),
            adds_parent_fields=adds,
        ):
            raw = packing.raw_page(
                reading.content, reading.body, self.selector, loaded, by_orjson=reading.by_orjson
            )
        return PageRecords(loaded, raw)

    def process(
        self,
        records: list[Any],
        *,
        url: str,
        parent_record: Mapping[str, Any] | None = None,
        window: Window | None = None,
    ) -> list[Any]:
        """One page's records as loaded, in dlt's order: the parent's `include_from_parent`
        fields added, the incremental `window` applied, then `processing_steps` in config
        order (in each step: filter, map, yield_map)."""
        if parent_record is not None and self.include_from_parent:
            extra = {f"_{self.parent}_{f}": parent_record[f] for f in self.include_from_parent}
            for rec in records:
                if isinstance(rec, dict):
                    rec.update(extra)
        if window is not None:
            records = window(records)
        for index, step in enumerate(self.processing_steps):
            for kind in ("filter", "map", "yield_map"):
                if kind in step and records:
                    records = apply_step(kind, step[kind], records, self.resource, index, url)
        return records

    @staticmethod
    def parent_rows(records: list[Any]) -> list[Mapping[str, Any]]:
        """The records a child resource runs once for (its parent fields are read there)."""
        return [r for r in records if isinstance(r, Mapping)]

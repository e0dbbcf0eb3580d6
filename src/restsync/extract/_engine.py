"""The extraction engine: every resource of a source, concurrently, page by page.

Resources run as asyncio tasks over one `SourceClient` (bounded per host). A child resource
runs once per parent record, as the parent's pages arrive. Each page is read by the page step
(`restsync.extract._pages`, shared with `restsync check --probe`) and handed to `on_page` (the
pipeline stages it); a failing resource ends alone, with its error kept for the `LoadInfo`,
and its children with it. Every retry, of a status, a dropped connection or an unreadable
body, happens in the retry transport (`restsync.http._retry`), on its clock.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx

from restsync.errors import HTTPStatusError, ResourceError, SelectorError
from restsync.extract._ahead import Ahead
from restsync.extract._bind import ParentField, check_parent, first_request, parent_fields
from restsync.extract._incremental import Incremental
from restsync.extract._model import Page
from restsync.extract._pagebase import find_base
from restsync.extract._pages import PageReading, PageStep, Window, check_shape
from restsync.extract._resources import ResourcePlan
from restsync.http._redact import redact_text
from restsync.http._request import PageRequest
from restsync.http._retry import RetryPolicy, UnreadableBody
from restsync.paginate import PageNumberPaginator, build_paginator
from restsync.paginate._shape import PageShape

log = logging.getLogger("restsync.extract")


@dataclass
class ResourceRun:
    """What happened to one resource in this run."""

    name: str
    pages: int = 0
    records: int = 0
    bytes: int = 0
    started: float = 0.0
    finished: float = 0.0
    error: BaseException | None = None
    incremental: Incremental | None = None
    requests: list[str] = field(default_factory=list)
    #: Guesses and oddities of this resource's pagination, for the run summary.
    warnings: list[str] = field(default_factory=list)
    #: How the pagination was chosen, when it was auto-detected (see `Detection.as_dict`).
    pagination: dict[str, Any] | None = None
    #: The first page number of a `page_number` pagination without `base_page`, once
    #: known (found by probing, or read from the pipeline state); stored with the data.
    page_base: int | None = None
    #: Pages the API said the resource has (a page count or total on its first page), if any
    total_pages: int | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


def _report_pagination(run: ResourceRun, paginator: Any) -> None:
    """Copy the paginator's warnings (once each) and auto-detection facts into `run`."""
    for message in getattr(paginator, "warnings", ()):
        if message not in run.warnings:
            run.warnings.append(message)
    detection = getattr(paginator, "detection", None)
    if detection is not None and run.pagination is None:
        run.pagination = detection.as_dict()


#: Statuses with which an API says a page does not exist: past its count, they confirm it.
_NO_SUCH_PAGE = frozenset({400, 404, 410, 416, 422})


def _told_pages(paginator: Any) -> int | None:
    """The page count a page-number or offset paginator learnt from the first page."""
    pages = getattr(paginator, "total_pages", None)
    if isinstance(pages, int) and pages >= 0:
        return pages
    total, limit = getattr(paginator, "total", None), getattr(paginator, "limit", None)
    if isinstance(total, int) and isinstance(limit, int) and limit > 0 and total >= 0:
        return -(-total // limit)
    return None


@dataclass
class _Walk:
    """One pagination in progress: a resource's pages (a child's: for one parent record)."""

    plan: ResourcePlan
    parent_record: Mapping[str, Any] | None
    paginator: Any
    request: PageRequest
    ahead: Ahead
    step: PageStep
    shape: PageShape
    policy: RetryPolicy
    actions: Any
    auth: Any  # the resource's own auth replaces client.auth, as in dlt
    index: int = 0
    follow_up: bool = False

    def checker(self) -> Callable[[httpx.Response], PageReading | None]:
        """The body check of the next page's request (see `PageStep.checker`)."""
        return self.step.checker(first=self.index == 0, shape=self.shape, paginator=self.paginator)


class Extractor:
    """Runs the resource plans of one source against one client.

    `on_page(page)` is called for every page in the event loop's thread; it may raise a
    `ResourceError` to end that resource (e.g. a record the normalizer cannot load).
    """

    def __init__(
        self,
        plans: list[ResourcePlan],
        client: Any,
        *,
        client_config: Mapping[str, Any],
        state: Mapping[str, Mapping[str, Any]],
        on_page: Callable[[Page], None],
        on_done: Callable[[str], None] | None = None,
    ) -> None:
        self.plans = plans
        self.client = client
        self.client_config = client_config
        self.on_page = on_page
        self.on_done = on_done
        self.runs: dict[str, ResourceRun] = {}
        self.children: dict[str, list[ResourcePlan]] = {}
        for plan in plans:
            run = ResourceRun(plan.name)
            inc = plan.incremental
            if inc is not None:
                run.incremental = Incremental.from_config(
                    plan.name, inc, state.get(plan.name), primary_key=plan.primary_key
                )
            stored_base = (state.get(plan.name) or {}).get("page_base")
            if isinstance(stored_base, int) and not isinstance(stored_base, bool):
                run.page_base = stored_base
            self.runs[plan.name] = run
            if plan.parent:
                self.children.setdefault(plan.parent, []).append(plan)
        #: the parent fields each child resource binds (checked in every parent record)
        self.parent_fields: dict[str, list[ParentField]] = {
            p.name: parent_fields(p) for p in plans if p.parent
        }
        concurrency = int(client_config.get("max_concurrency") or 4)
        self.child_limit = asyncio.Semaphore(concurrency * 2)
        #: Pages fetched ahead per resource, beyond the one being read (when the paginator
        #: knows them: a page count or total was given); the host limit bounds them all.
        self.lookahead = max(0, concurrency - 1)

    async def run(self) -> dict[str, ResourceRun]:
        roots = [p for p in self.plans if not p.parent]
        await asyncio.gather(*(self._run_root(p) for p in roots))
        return self.runs

    async def _run_root(self, plan: ResourcePlan) -> None:
        run = self.runs[plan.name]
        run.started = time.monotonic()
        try:
            await self._paginate(plan, parent_record=None)
        except ResourceError as exc:
            self._fail(plan, exc)
        except Exception as exc:  # an unexpected failure ends this resource only
            log.exception("resource '%s' failed unexpectedly", plan.name)
            self._fail(
                plan,
                ResourceError(
                    f"failed: {redact_text(f'{type(exc).__name__}: {exc}')}",
                    resource=plan.name,
                ),
            )
        finally:
            run.finished = time.monotonic()
            for child in self._descendants(plan.name):
                self.runs[child].finished = run.finished
            if self.on_done is not None:
                for name in (plan.name, *self._descendants(plan.name)):
                    self.on_done(name)

    def _descendants(self, name: str) -> list[str]:
        out: list[str] = []
        for child in self.children.get(name, []):
            out.append(child.name)
            out.extend(self._descendants(child.name))
        return out

    def _fail(self, plan: ResourcePlan, exc: BaseException) -> None:
        run = self.runs[plan.name]
        if run.error is None:
            run.error = exc
        for child in self._descendants(plan.name):
            crun = self.runs[child]
            if crun.error is None:
                crun.error = ResourceError(
                    f"not extracted: its parent resource '{plan.name}' failed", resource=child
                )

    def first_request(
        self, plan: ResourcePlan, parent_record: Mapping[str, Any] | None = None
    ) -> PageRequest:
        """The first request of `plan` (for a child: of `parent_record`'s pages), as a run
        sends it; `restsync check --probe` sends the same."""
        incremental = self.runs[plan.name].incremental
        return first_request(plan, parent_record, incremental, self.client.build_url)

    def paginator_for(self, plan: ResourcePlan) -> Any:
        """A fresh paginator of `plan`, as a run builds it (auto-detection when none is set)."""
        config = plan.endpoint.get("paginator", self.client_config.get("paginator"))
        paginator = build_paginator(config)
        paginator.resource = plan.name
        paginator.primary_key = list(plan.primary_key)
        base = self.runs[plan.name].page_base
        if (
            isinstance(paginator, PageNumberPaginator)
            and base is not None
            and paginator.settle_base(base)
        ):
            log.info("resource '%s': first page %d, from the pipeline state", plan.name, base)
        return paginator

    def send(
        self,
        plan: ResourcePlan,
        request: PageRequest,
        *,
        follow_up: bool = False,
        check: Callable[[httpx.Response], Any] | None = None,
    ) -> Any:
        """Send one request of `plan` with its endpoint's retry policy, response actions and
        auth (`SourceClient.send`); `check` reads the body (see `PageStep.checker`)."""
        ep = plan.endpoint
        return self.client.send(
            request,
            resource=plan.name,
            policy=RetryPolicy.from_config(ep.get("error_handler")),
            response_actions=ep.get("response_actions"),
            follow_up=follow_up,
            auth=ep.get("auth"),
            check=check,
        )

    async def _paginate(self, plan: ResourcePlan, parent_record: Mapping[str, Any] | None) -> None:
        ep = plan.endpoint
        walk = _Walk(
            plan=plan,
            parent_record=parent_record,
            paginator=self.paginator_for(plan),
            request=self.first_request(plan, parent_record),
            ahead=Ahead(self.lookahead),
            step=PageStep(plan),
            shape=PageShape(ep.get("data_selector")),
            policy=RetryPolicy.from_config(ep.get("error_handler")),
            actions=ep.get("response_actions"),
            auth=ep.get("auth"),
        )
        try:
            await self._paginate_pages(walk)
        finally:
            await walk.ahead.close()
            _report_pagination(self.runs[plan.name], walk.paginator)

    def _send(
        self,
        walk: _Walk,
        request: PageRequest,
        *,
        follow_up: bool = False,
        check: Callable[[httpx.Response], Any] | None = None,
        unreadable: str | None = None,
    ) -> Any:
        return self.client.send(
            request,
            resource=walk.plan.name,
            policy=walk.policy,
            response_actions=walk.actions,
            follow_up=follow_up,
            auth=walk.auth,
            check=check,
            unreadable=unreadable,
        )

    async def _paginate_pages(self, walk: _Walk) -> None:
        """Read the pages of `walk` until the paginator (or the incremental window) ends."""
        run = self.runs[walk.plan.name]
        walk.paginator.init_request(walk.request)
        if getattr(walk.paginator, "needs_base_probe", False):
            await self._find_base(walk)
        while run.error is None:
            fetched = await self._fetch(walk)
            if fetched is None:  # a response action said to ignore it
                return
            await self._take(walk, *fetched)
            if not self._turn(walk):
                return

    async def _fetch(self, walk: _Walk) -> tuple[httpx.Response, PageReading] | None:
        """The next page and its reading, or None when there is none (a response action
        ignored it, or the API refused the page past its own count, which confirms it)."""
        try:
            return await self._fetch_page(walk)
        except HTTPStatusError as exc:
            paginator = walk.paginator
            if not (exc.status in _NO_SUCH_PAGE and paginator.awaits_told_end()):
                raise
            log.info(
                "resource '%s': the page after the API's count answered %s, which confirms "
                "the count",
                walk.plan.name,
                exc.status,
            )
            paginator.told_end_refused()
            return None

    async def _fetch_page(self, walk: _Walk) -> tuple[httpx.Response, PageReading] | None:
        """The next page and its reading: fetched ahead, or sent now (the transport retries
        a body the page step cannot read, see `PageStep.checker`, also one fetched ahead)."""
        fetched = walk.ahead.take(walk.request)
        unreadable: str | None = None
        if fetched is not None:
            response = await fetched
            if response is None:
                return None
            try:
                reading = self._read_ahead(walk, response)
            except UnreadableBody as exc:
                reading, unreadable = None, exc.reason
            if reading is not None:
                return response, reading
        response = await self._send(
            walk,
            walk.request,
            follow_up=walk.follow_up,
            check=walk.checker(),
            unreadable=unreadable,
        )
        if response is None:
            return None
        reading = walk.step.checked(response)
        if reading is None:  # not readable (the error says why), or a response action's own
            reading = walk.step.read(response, shape=walk.shape, paginator=walk.paginator)
        return response, reading

    def _read_ahead(self, walk: _Walk, response: httpx.Response) -> PageReading | None:
        """A page fetched ahead, read now that its turn has come, against the shape the pages
        before it taught; None when it is worth asking for again.

        Raises:
            UnreadableBody: the body cannot be read and the retries allow another attempt;
                the page is then asked again, counted as a retry (`SourceClient.send`'s
                `unreadable`), with its body checked by the transport.
        """
        step = walk.step
        reading = step.checked(response)  # a probe page of `find_base` comes checked
        if reading is None and not step.gave_up(response):
            try:
                reading = walk.checker()(response)
            except UnreadableBody:
                if walk.policy.max_retries > 0:
                    raise
        elif reading is not None:
            try:
                check_shape(
                    walk.shape,
                    reading.body,
                    walk.paginator,
                    resource=step.resource,
                    url=reading.url,
                )
            except SelectorError:
                return None
        return reading or step.read(response, shape=walk.shape, paginator=walk.paginator)

    async def _take(self, walk: _Walk, response: httpx.Response, reading: PageReading) -> None:
        """Hand one page over: to the paginator, to `on_page`, to the child resources."""
        plan, paginator = walk.plan, walk.paginator
        run = self.runs[plan.name]
        walk.shape.learn(reading.body, reading.records)
        paginator.update_state(response, reading.body, reading.records)
        if walk.index == 0 and walk.parent_record is None:
            run.total_pages = _told_pages(paginator)
        records = reading.records
        if paginator.skip_records:  # already read on the previous page (an overlap)
            records = records[paginator.skip_records :]
        window: Window | None = None
        if run.incremental is not None:
            window = functools.partial(run.incremental.filter, url=reading.url)
        page = walk.step.load(reading, records, parent_record=walk.parent_record, window=window)
        run.pages += 1
        run.records += len(page.records)
        run.bytes += len(response.content)
        if page.records or walk.index == 0:
            self.on_page(
                Page(
                    resource=plan.name,
                    records=page.records,
                    url=reading.url,
                    index=walk.index,
                    nbytes=len(response.content),
                    raw=page.raw,
                )
            )
        if self.children.get(plan.name) and page.records:
            await self._run_children(plan, page.records, reading.url)
        log.debug(
            "resource '%s': page %d, %d records from %s",
            plan.name,
            walk.index,
            len(reading.records),
            reading.url,
        )

    def _turn(self, walk: _Walk) -> bool:
        """Turn `walk.request` into the next page's (and fetch the pages after it ahead);
        False when there is none."""
        run, paginator = self.runs[walk.plan.name], walk.paginator
        if walk.parent_record is None and run.incremental and run.incremental.past_window:
            log.info("resource '%s': past the incremental window (row_order)", walk.plan.name)
            return False
        if not paginator.has_next_page:
            return False
        paginator.update_request(walk.request)
        walk.follow_up = bool(getattr(paginator, "next_url_is_follow_up", False))
        walk.index += 1
        if walk.ahead.depth and not walk.follow_up:
            wanted = paginator.lookahead(walk.request, walk.ahead.depth)
            # Pages fetched ahead are read in page order when their turn comes: reading each
            # as it arrived cost the throughput line ~5% of its wall time (more pages' records
            # alive at once, decoded between the pages being handed on).
            walk.ahead.plan(walk.request, wanted, lambda r: self._send(walk, r))
        return True

    async def _find_base(self, walk: _Walk) -> None:
        """Settle a page_number pagination's first page (see `restsync.extract._pagebase`)."""
        plan = walk.plan
        base, why, decided = await find_base(
            functools.partial(self._send, walk),
            walk.step,
            walk.paginator,
            walk.request,
            walk.ahead,
            primary_key=list(plan.primary_key),
            max_retries=walk.policy.max_retries,
        )
        run = self.runs[plan.name]
        if decided and run.page_base is None:
            run.page_base = base
            walk.paginator.warn(
                f"page_number without base_page: the first page is {base} ({why}); kept in "
                f"the pipeline state for later runs (set endpoint.paginator.base_page: {base} "
                "to say so in the config)"
            )

    async def _run_children(self, plan: ResourcePlan, records: list[Any], url: str) -> None:
        """Run each child resource once per record of the parent page at `url`."""

        async def one(child: ResourcePlan, record: Mapping[str, Any]) -> None:
            async with self.child_limit:
                if self.runs[child.name].error is not None:
                    return
                check_parent(child, self.parent_fields[child.name], record, url)
                await self._paginate(child, parent_record=record)

        for child in self.children[plan.name]:
            crun = self.runs[child.name]
            if crun.started == 0.0:
                crun.started = time.monotonic()
            try:
                await asyncio.gather(*(one(child, r) for r in records if isinstance(r, Mapping)))
            except ResourceError as exc:
                self._fail(child, exc)

"""The extraction engine: every resource of a source, concurrently, page by page.

Resources run as asyncio tasks over one `SourceClient` (bounded per host). A child resource
runs once per parent record, as the parent's pages arrive. Each page is handed to `on_page`
(the pipeline stages it); a failing resource ends alone, with its error kept for the
`LoadInfo`, and its children with it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson

from restsync.digits import has_digit_run
from restsync.errors import ResourceError, SelectorError
from restsync.extract.incremental import Incremental
from restsync.extract.model import Page, PageRequest
from restsync.extract.resources import ResourcePlan, render
from restsync.extract.select import select_records
from restsync.http.redact import redact_text, redact_url
from restsync.http.retry import RetryPolicy
from restsync.paginate import build_paginator

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
    #: Pages the API said the resource has (a page count or total on its first page), if any
    total_pages: int | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


#: Digits in a row from which an integer may lie beyond 64 bits (orjson turns it into a float).
WIDE_DIGITS = 20


def _request_key(request: PageRequest) -> bytes:
    """What makes two requests the same request (for matching pages fetched ahead)."""
    parts = [request.method, request.url, request.params, request.headers, request.json]
    data = request.data if isinstance(request.data, (str, dict, list)) else repr(request.data)
    return orjson.dumps(
        [*parts, data], option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS, default=repr
    )


class _Ahead:
    """Pages of one resource fetched ahead of the one being read (see `Paginator.lookahead`).

    At most `depth` requests are in flight beyond the current one; the host's concurrency
    limit still bounds them all. A page fetched ahead is only used when the paginator then
    asks for exactly that request; the others are cancelled, and their errors dropped.
    """

    def __init__(self, depth: int) -> None:
        self.depth = depth
        self.tasks: dict[bytes, asyncio.Task[Any]] = {}

    def take(self, request: PageRequest) -> asyncio.Task[Any] | None:
        return self.tasks.pop(_request_key(request), None) if self.tasks else None

    def plan(
        self, current: PageRequest, wanted: list[PageRequest], send: Callable[[PageRequest], Any]
    ) -> None:
        """Fetch `wanted` (the requests after `current`, the next one to be read) ahead."""
        keys = [_request_key(r) for r in wanted]
        keep = {_request_key(current), *keys}
        for key in [k for k in self.tasks if k not in keep]:
            self.tasks.pop(key).cancel()  # the pagination went another way
        for key, request in zip(keys, wanted, strict=True):
            if key not in self.tasks:
                self.tasks[key] = asyncio.ensure_future(send(request))

    async def close(self) -> None:
        tasks = list(self.tasks.values())
        self.tasks.clear()
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)


def decode_body(response: Any, *, resource: str, url: str) -> tuple[Any, bool]:
    """The page step a run and `restsync check --probe` share: the decoded body, and whether
    it is orjson's reading (see `_decode`)."""
    return _decode(response, resource=resource, url=url)


def _decode(response: Any, *, resource: str, url: str) -> tuple[Any, bool]:
    """The decoded body, and whether it is orjson's reading of it (False: the standard
    library's, for integers beyond 64 bits)."""
    content: bytes = response.content
    try:
        body = orjson.loads(content)
    except orjson.JSONDecodeError as exc:
        ctype = response.headers.get("content-type", "")
        excerpt = redact_text(content[:200].decode("utf-8", "replace")).replace("\n", " ")
        kind = "is not valid UTF-8" if "utf-8" in str(exc).lower() else "is not valid JSON"
        raise SelectorError(
            f"the response from {url} {kind} ({exc}); content-type {ctype or 'absent'}; "
            f"body starts: {excerpt!r}",
            resource=resource,
            url=url,
            status=response.status_code,
            hint="the API may have answered with an error page; check the endpoint path and "
            "the credentials",
        ) from None
    if has_digit_run(content, WIDE_DIGITS):
        # orjson reads an integer beyond 64 bits as a float, silently rounding it; the
        # standard library keeps it exact (the normalizer then stores it as a decimal)
        with contextlib.suppress(ValueError):  # too many digits for int(): keep orjson's
            return json.loads(content), False
    return body, True


def _told_pages(paginator: Any) -> int | None:
    """The page count a page-number or offset paginator learnt from the first page."""
    pages = getattr(paginator, "total_pages", None)
    if isinstance(pages, int) and pages >= 0:
        return pages
    total, limit = getattr(paginator, "total", None), getattr(paginator, "limit", None)
    if isinstance(total, int) and isinstance(limit, int) and limit > 0 and total >= 0:
        return -(-total // limit)
    return None


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
                run.incremental = Incremental.from_config(plan.name, inc, state.get(plan.name))
            self.runs[plan.name] = run
            if plan.parent:
                self.children.setdefault(plan.parent, []).append(plan)
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

    def _first_request(
        self, plan: ResourcePlan, parent_record: Mapping[str, Any] | None
    ) -> PageRequest:
        ep = plan.endpoint
        run = self.runs[plan.name]
        inc = run.incremental.placeholders() if run.incremental else None
        path = render(ep.get("path") or plan.name, parent=parent_record, incremental=inc)
        params = render(dict(ep.get("params") or {}), parent=parent_record, incremental=inc)
        params = {k: v for k, v in params.items() if v is not None}
        for pname, pfield in plan.resolve_params:
            params[pname] = (parent_record or {}).get(pfield)
        if run.incremental:
            params.update(run.incremental.request_params())
        headers = render(dict(ep.get("headers") or {}), parent=parent_record, incremental=inc)
        body = render(ep.get("json"), parent=parent_record, incremental=inc)
        data = render(ep.get("data"), parent=parent_record, incremental=inc)
        return PageRequest(
            method=str(ep.get("method") or "GET").upper(),
            url=self.client.build_url(str(path)),
            params=params,
            headers={str(k): str(v) for k, v in headers.items()},
            json=body,
            data=data,
        )

    def first_request(
        self, plan: ResourcePlan, parent_record: Mapping[str, Any] | None = None
    ) -> PageRequest:
        """The first request of `plan` (for a child: of `parent_record`'s pages), as a run
        sends it; `restsync check --probe` sends the same."""
        return self._first_request(plan, parent_record)

    def paginator_for(self, plan: ResourcePlan) -> Any:
        """A fresh paginator of `plan`, as a run builds it (auto-detection when none is set)."""
        return self._paginator(plan)

    def _paginator(self, plan: ResourcePlan) -> Any:
        config = plan.endpoint.get("paginator", self.client_config.get("paginator"))
        paginator = build_paginator(config)
        paginator.resource = plan.name
        return paginator

    async def _paginate(self, plan: ResourcePlan, parent_record: Mapping[str, Any] | None) -> None:
        ahead = _Ahead(self.lookahead)
        try:
            await self._paginate_pages(plan, parent_record, ahead)
        finally:
            await ahead.close()

    async def _paginate_pages(
        self, plan: ResourcePlan, parent_record: Mapping[str, Any] | None, ahead: _Ahead
    ) -> None:
        run = self.runs[plan.name]
        ep = plan.endpoint
        policy = RetryPolicy.from_config(ep.get("error_handler"))
        actions = ep.get("response_actions")
        request = self._first_request(plan, parent_record)
        paginator = self._paginator(plan)
        paginator.init_request(request)
        follow_up = False
        index = 0
        unreadable = 0  # retries of this page for an unreadable body
        selector = ep.get("data_selector")
        # the records can travel as the response body itself (`Page.raw`) when nothing below
        # filters, maps or adds to them and a plain top-level key holds them
        keeps_records = bool(
            selector
            and run.incremental is None
            and not plan.processing_steps
            and not (parent_record is not None and plan.include_from_parent)
        )
        while True:
            if run.error is not None:
                return
            fetched = ahead.take(request)
            if fetched is not None:
                response = await fetched
            else:
                response = await self.client.send(
                    request,
                    resource=plan.name,
                    policy=policy,
                    response_actions=actions,
                    follow_up=follow_up,
                )
            if response is None:  # a response action said to ignore it
                return
            # Let the requests waiting for the slot this response freed go out before this page
            # is decoded, filtered and packed: the next round trip then overlaps that work.
            # With 20 resources at 50 ms a response: 3.12 -> 3.05 s (median of 12 runs).
            await asyncio.sleep(0)
            url = redact_url(str(response.request.url))
            garbled = True
            try:
                body, by_orjson = _decode(response, resource=plan.name, url=url)
                garbled = False
                records = select_records(body, selector, resource=plan.name, url=url)
            except SelectorError as exc:
                # A 200 whose body is cut, an HTML error page, not UTF-8 (any page), or a page
                # of another shape after pages that matched: a glitch worth the endpoint's
                # retries. A first page that does not match is a config error: fail at once.
                if (not garbled and index == 0) or unreadable >= policy.max_retries:
                    raise
                unreadable += 1
                self._count_retry(plan.name)
                delay = policy.backoff(unreadable)
                log.info(
                    "resource '%s': unreadable page (%s); retry %d/%d in %.1f s",
                    plan.name,
                    exc.message.split(";", 1)[0],
                    unreadable,
                    policy.max_retries,
                    delay,
                )
                await asyncio.sleep(delay)
                continue
            unreadable = 0
            paginator.update_state(response, body, records)
            if index == 0 and parent_record is None:
                run.total_pages = _told_pages(paginator)
            raw_count = len(records)
            as_sent = (  # the records are the body's own list, as orjson read it
                keeps_records and by_orjson and type(body) is dict and body.get(selector) is records
            )
            if run.incremental is not None:
                records = run.incremental.filter(records, url=url)
            for step in plan.processing_steps:
                if "filter" in step:
                    records = [r for r in records if step["filter"](r)]
                if "map" in step:
                    records = [step["map"](r) for r in records]
            if parent_record is not None and plan.include_from_parent:
                assert plan.parent is not None
                for rec in records:
                    if isinstance(rec, dict):
                        for fname in plan.include_from_parent:
                            rec[f"_{plan.parent}_{fname}"] = parent_record.get(fname)
            run.pages += 1
            run.records += len(records)
            run.bytes += len(response.content)
            if records or index == 0:
                self.on_page(
                    Page(
                        resource=plan.name,
                        records=records,
                        url=url,
                        index=index,
                        nbytes=len(response.content),
                        raw=(response.content, str(selector)) if as_sent else None,
                    )
                )
            if self.children.get(plan.name) and records:
                await self._run_children(plan, records)
            log.debug(
                "resource '%s': page %d, %d records from %s", plan.name, index, raw_count, url
            )
            if not paginator.has_next_page:
                return
            paginator.update_request(request)
            follow_up = bool(getattr(paginator, "next_url_is_follow_up", False))
            if ahead.depth and not follow_up:
                ahead.plan(
                    request,
                    paginator.lookahead(request, ahead.depth),
                    lambda r: self.client.send(
                        r, resource=plan.name, policy=policy, response_actions=actions
                    ),
                )
            index += 1

    def _count_retry(self, resource: str) -> None:
        stats = getattr(self.client, "stats", {}).get(resource)
        if stats is not None:
            stats.retries += 1

    async def _run_children(self, plan: ResourcePlan, records: list[Any]) -> None:
        async def one(child: ResourcePlan, record: Mapping[str, Any]) -> None:
            async with self.child_limit:
                if self.runs[child.name].error is not None:
                    return
                await self._paginate(child, parent_record=record)

        for child in self.children[plan.name]:
            crun = self.runs[child.name]
            if crun.started == 0.0:
                crun.started = time.monotonic()
            try:
                await asyncio.gather(*(one(child, r) for r in records if isinstance(r, Mapping)))
            except ResourceError as exc:
                self._fail(child, exc)

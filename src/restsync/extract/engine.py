"""The extraction engine: every resource of a source, concurrently, page by page.

Resources run as asyncio tasks over one `SourceClient` (bounded per host). A child resource
runs once per parent record, as the parent's pages arrive. Each page is handed to `on_page`
(the pipeline stages it); a failing resource ends alone, with its error kept for the
`LoadInfo`, and its children with it.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson

from restsync.errors import DataError, ResourceError, SelectorError
from restsync.extract.bind import (
    ParentField,
    check_parent,
    lookup,
    named_in_path,
    parent_fields,
    render_path,
)
from restsync.extract.incremental import Incremental
from restsync.extract.model import Page, PageRequest
from restsync.extract.resources import ResourcePlan, render
from restsync.extract.select import select_records
from restsync.http.body import decode_json as _decode
from restsync.http.redact import redact_text, redact_url
from restsync.http.retry import RetryPolicy
from restsync.paginate import PageNumberPaginator, build_paginator
from restsync.paginate.base import same_records
from restsync.paginate.shape import PageShape

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
        self.tasks: dict[bytes, asyncio.Future[Any]] = {}

    def take(self, request: PageRequest) -> asyncio.Future[Any] | None:
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
    it is orjson's reading (see `restsync.http.body.decode_json`)."""
    return _decode(response, resource=resource, url=url)


def _apply_step(
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


def _check_shape(shape: PageShape, body: Any, paginator: Any, *, resource: str, url: str) -> None:
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


def _report_pagination(run: ResourceRun, paginator: Any) -> None:
    """Copy the paginator's warnings (once each) and auto-detection facts into `run`."""
    for message in getattr(paginator, "warnings", ()):
        if message not in run.warnings:
            run.warnings.append(message)
    detection = getattr(paginator, "detection", None)
    if detection is not None and run.pagination is None:
        run.pagination = detection.as_dict()


#: A probe answer whose body could not be read (see `Extractor._probe`).
_UNREADABLE = object()


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

    def _first_request(
        self, plan: ResourcePlan, parent_record: Mapping[str, Any] | None
    ) -> PageRequest:
        ep = plan.endpoint
        run = self.runs[plan.name]
        inc = run.incremental.placeholders() if run.incremental else None
        params = render(dict(ep.get("params") or {}), parent=parent_record, incremental=inc)
        params = {k: v for k, v in params.items() if v is not None}
        for pname, pfield in plan.resolve_params:
            params[pname] = lookup(parent_record or {}, pfield)[1]
        template = str(ep.get("path") or plan.name)
        # a param named in the path (`{post_id}`) goes there, encoded, and not in the query
        named = {
            k: params.pop(k)
            for k in named_in_path(template)
            if k in params and not isinstance(params[k], (Mapping, list))
        }
        path = render_path(template, parent=parent_record, incremental=inc, named=named)
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
        paginator.primary_key = list(plan.primary_key)
        base = self.runs[plan.name].page_base
        if (
            isinstance(paginator, PageNumberPaginator)
            and base is not None
            and paginator.settle_base(base)
        ):
            log.info("resource '%s': first page %d, from the pipeline state", plan.name, base)
        return paginator

    async def _paginate(self, plan: ResourcePlan, parent_record: Mapping[str, Any] | None) -> None:
        ahead = _Ahead(self.lookahead)
        paginator = self._paginator(plan)
        try:
            await self._paginate_pages(plan, parent_record, ahead, paginator)
        finally:
            await ahead.close()
            _report_pagination(self.runs[plan.name], paginator)

    async def _paginate_pages(
        self,
        plan: ResourcePlan,
        parent_record: Mapping[str, Any] | None,
        ahead: _Ahead,
        paginator: Any,
    ) -> None:
        run = self.runs[plan.name]
        ep = plan.endpoint
        policy = RetryPolicy.from_config(ep.get("error_handler"))
        actions = ep.get("response_actions")
        auth = ep.get("auth")  # the resource's own auth replaces client.auth, as in dlt
        request = self._first_request(plan, parent_record)
        paginator.init_request(request)
        if getattr(paginator, "needs_base_probe", False):
            await self._find_base(plan, paginator, request, ahead, policy, actions)
        follow_up = False
        index = 0
        unreadable = 0  # retries of this page for an unreadable body
        selector = ep.get("data_selector")
        shape = PageShape(selector)
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
                    auth=auth,
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
                _check_shape(shape, body, paginator, resource=plan.name, url=url)
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
            shape.learn(body, records)
            paginator.update_state(response, body, records)
            if index == 0 and parent_record is None:
                run.total_pages = _told_pages(paginator)
            raw_count = len(records)
            if paginator.skip_records:  # already read on the previous page (an overlap)
                records = records[paginator.skip_records :]
            as_sent = (  # the records are the body's own list, as orjson read it
                keeps_records and by_orjson and type(body) is dict and body.get(selector) is records
            )
            records = self._process(plan, records, parent_record, url)
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
                await self._run_children(plan, records, url)
            log.debug(
                "resource '%s': page %d, %d records from %s", plan.name, index, raw_count, url
            )
            if parent_record is None and run.incremental and run.incremental.past_window:
                log.info("resource '%s': past the incremental window (row_order)", plan.name)
                return
            if not paginator.has_next_page:
                return
            paginator.update_request(request)
            follow_up = bool(getattr(paginator, "next_url_is_follow_up", False))
            if ahead.depth and not follow_up:
                ahead.plan(
                    request,
                    paginator.lookahead(request, ahead.depth),
                    lambda r: self.client.send(
                        r, resource=plan.name, policy=policy, response_actions=actions, auth=auth
                    ),
                )
            index += 1

    def _process(
        self,
        plan: ResourcePlan,
        records: list[Any],
        parent_record: Mapping[str, Any] | None,
        url: str,
    ) -> list[Any]:
        """One page's records as loaded, in dlt's order: the parent's `include_from_parent`
        fields added, the incremental window applied, then `processing_steps` in config
        order (in each step: filter, map, yield_map)."""
        if parent_record is not None and plan.include_from_parent:
            extra = {f"_{plan.parent}_{f}": parent_record[f] for f in plan.include_from_parent}
            for rec in records:
                if isinstance(rec, dict):
                    rec.update(extra)
        run = self.runs[plan.name]
        if run.incremental is not None:
            records = run.incremental.filter(records, url=url)
        for index, step in enumerate(plan.processing_steps):
            for kind in ("filter", "map", "yield_map"):
                if kind in step and records:
                    records = _apply_step(kind, step[kind], records, plan.name, index, url)
        return records

    async def _find_base(
        self,
        plan: ResourcePlan,
        paginator: Any,
        request: PageRequest,
        ahead: _Ahead,
        policy: RetryPolicy,
        actions: Any,
    ) -> None:
        """Find a page_number pagination's first page (0 or 1) by asking for both pages.

        Base 0 only when page 0 answers records that page 1 does not; page 0 refused,
        empty or equal to page 1 means base 1. Both answers are handed to the page loop
        (as pages fetched ahead), so the probe costs one request: the page not read."""
        zero, one = paginator.probe_requests(request)
        (resp0, recs0), (resp1, recs1) = await asyncio.gather(
            self._probe(plan, zero, policy, actions), self._probe(plan, one, policy, actions)
        )
        for retry in range(1, policy.max_retries + 1):
            # page 0 has records: only a readable page 1 can tell whether it is the first
            if not recs0 or recs1 is not _UNREADABLE:
                break
            await asyncio.sleep(policy.backoff(retry))
            resp1, recs1 = await self._probe(plan, one, policy, actions)
        if recs0 and recs1 is _UNREADABLE:
            raise SelectorError(
                "cannot tell whether the API's pages count from 0 or 1: page 0 has records "
                "and page 1's answer cannot be read",
                resource=plan.name,
                url=redact_url(str(one.url)),
                hint="set endpoint.paginator.base_page (0 or 1)",
            )
        decided = True
        if not isinstance(recs0, list):
            base, why = 1, "page 0 was refused"
        elif not recs0:
            base, why, decided = 1, "page 0 answered no records", bool(recs1)
        elif isinstance(recs1, list) and same_records(recs0, recs1, list(plan.primary_key)):
            base, why = 1, "page 0 answered the same records as page 1"
        else:
            base, why = 0, "page 0 answered records that page 1 does not"
        paginator.settle_base(base)
        paginator.init_request(request)
        loop = asyncio.get_running_loop()
        for sent, response in ((zero, resp0), (one, resp1)):
            if response is not None:
                done: asyncio.Future[Any] = loop.create_future()
                done.set_result(response)
                ahead.tasks[_request_key(sent)] = done
        run = self.runs[plan.name]
        if decided and run.page_base is None:
            run.page_base = base
            paginator.warn(
                f"page_number without base_page: the first page is {base} ({why}); kept in "
                f"the pipeline state for later runs (set endpoint.paginator.base_page: {base} "
                "to say so in the config)"
            )

    async def _probe(
        self, plan: ResourcePlan, request: PageRequest, policy: RetryPolicy, actions: Any
    ) -> tuple[Any, Any]:
        """One probe request: the response and its records; (None, None) when it was
        refused, (None, _UNREADABLE) when its body cannot be read."""
        try:
            response = await self.client.send(
                request,
                resource=plan.name,
                policy=policy,
                response_actions=actions,
                auth=plan.endpoint.get("auth"),
            )
        except ResourceError as exc:
            log.info("resource '%s': probing the first page: %s", plan.name, exc.message)
            return None, None
        if response is None:
            return None, None
        url = redact_url(str(response.request.url))
        try:
            body, _ = _decode(response, resource=plan.name, url=url)
            selector = plan.endpoint.get("data_selector")
            return response, select_records(body, selector, resource=plan.name, url=url)
        except SelectorError:
            return None, _UNREADABLE

    def _count_retry(self, resource: str) -> None:
        stats = getattr(self.client, "stats", {}).get(resource)
        if stats is not None:
            stats.retries += 1

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

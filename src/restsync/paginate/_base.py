"""The `Paginator` base class and the loop guards every paginator gets."""

from __future__ import annotations

import abc
import contextlib
import functools
import hashlib
import logging
from collections.abc import Callable
from typing import Any, ClassVar, Literal, TypeVar, cast

import httpx
import orjson

from restsync.errors import PaginationError
from restsync.http._request import PageRequest
from restsync.paginate._stop_condition import StopCondition, parse_stop_condition
from restsync.util.redact import redact_text, redact_url

#: The built-in paginator types by config name (`restsync.paginate.PAGINATORS`); the
#: config dialect (`restsync.config._dialect`) reads it from here.
PaginatorType = Literal[
    "auto",
    "single_page",
    "offset",
    "page_number",
    "cursor",
    "json_link",
    "header_link",
    "header_cursor",
]

__all__ = ["Paginator", "as_bool", "set_body_path"]

log = logging.getLogger("restsync.paginate")

_STOP_HINT = (
    "if the API signals the end another way, set endpoint.paginator.stop_condition, "
    'e.g. "not meta.has_more"'
)

_F = TypeVar("_F", bound=Callable[..., None])

#: Pages an offset or page-number pagination may read without an end in sight (no total,
#: no `maximum_page`/`maximum_offset`) before it stops with an error: an API that answers
#: every page number with records would otherwise be paged forever.
DEFAULT_PAGE_CAP = 100_000


class Paginator(abc.ABC):
    """Turns one response into the next request. Subclass it for an API of your own.

    restsync drives every paginator the same way::

        paginator.init_request(request)            # first page's params
        while True:
            response = send(request)
            paginator.update_state(response, body, records)
            if not paginator.has_next_page:
                break
            paginator.update_request(request)      # edit `request` in place

    You implement `update_state` (read the next cursor, offset or URL from the response;
    set `self.has_next_page = False` at the end) and `update_request`. Call
    `super().__init__(stop_condition=..., max_pages=...)` from your `__init__`. A sketch::

        class SinceIdPaginator(Paginator):
            def update_state(self, response, body, records):
                self.has_next_page = bool(records)
                if records:
                    self._last = self.check_reference(records[-1]["id"], "since_id")
            def update_request(self, request):
                request.params["since_id"] = self._last

    The base class wraps your `update_state` with the guards, so you do not have to
    remember them: a page whose records equal the previous page's raises
    `PaginationError` (the API is ignoring the page parameter), `stop_condition` is
    evaluated after your code, and `max_pages` caps the run with an error. Pass every
    cursor, token or URL you are about to follow through `check_reference`, which raises
    `PaginationError` when one comes back a second time.
    """

    #: The config `type` this class is registered under; used by `describe()`.
    type_name: ClassVar[str] = "custom"
    #: Whether the base class wraps `update_state` with its guards.
    guarded: ClassVar[bool] = True

    has_next_page: bool
    next_url_is_follow_up: bool

    def __init__(
        self,
        *,
        stop_condition: str | StopCondition | None = None,
        max_pages: int | None = None,
    ) -> None:
        if isinstance(stop_condition, str):
            try:
                stop_condition = parse_stop_condition(stop_condition)
            except ValueError as exc:
                raise ValueError(f"stop_condition: {exc}") from None
        if max_pages is not None and max_pages < 1:
            raise ValueError(f"max_pages must be at least 1, got {max_pages}")
        self.stop_condition: StopCondition | None = stop_condition
        self.max_pages = max_pages
        #: Set to False by `update_state` once there is nothing more to read.
        self.has_next_page = True
        #: True when `update_request` put a URL taken from a response into the request,
        #: so the HTTP layer must send it with `follow_up=True` (cross-origin checks).
        self.next_url_is_follow_up = False
        #: The resource name, when the caller sets it; used in error messages.
        self.resource: str | None = None
        #: Responses seen so far (the number of the page just handled).
        self.pages_seen = 0
        #: The URL of the last response, for resolving relative next URLs.
        self.current_url: str | None = None
        #: The resource's primary key columns, when the caller sets them: the identity by
        #: which a repeated page is recognised (else an `id`-like field, else the record).
        self.primary_key: list[str] = []
        #: Set by `update_state`: how many leading records of the page just handled were
        #: already read on the previous page (an overlap); the engine drops them.
        self.skip_records = 0
        #: Guesses made and oddities met, for the run summary (each also logged).
        self.warnings: list[str] = []
        self._warning_slots: dict[str, int] = {}
        self._seen_references: set[str] = set()
        #: The record hashes of the last two pages read (the previous one last), since the
        #: last empty page: a page equal to either is a repeat.
        self._recent_hashes: list[bytes] = []
        #: The records (serialized whole) of the last page by the API's own count, while the
        #: page after it is being asked for (see `expect_told_end`); None otherwise.
        self._told_last: set[bytes] | None = None
        self._guard_depth = 0
        self._stop_requested = False

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        # Wrap each override so that no subclass (yours included) can skip the loop
        # guards; a `super().update_state(...)` call inside runs them only once.
        if "update_state" in cls.__dict__ and cls.guarded:
            cls.update_state = _guard_update_state(cls.__dict__["update_state"])  # type: ignore[method-assign]
        if "update_request" in cls.__dict__:
            cls.update_request = _guard_update_request(cls.__dict__["update_request"])  # type: ignore[method-assign]

    # --- the protocol -----------------------------------------------------------------

    def init_request(self, request: PageRequest) -> None:
        """Set the first page's parameters on `request` (in place). Default: nothing."""
        return None

    @abc.abstractmethod
    def update_state(self, response: httpx.Response, body: Any, records: list[Any]) -> None:
        """Read the next page's reference from a response; clear `has_next_page` at the end.

        `body` is the decoded JSON and `records` what the data selector found in it.
        """

    @abc.abstractmethod
    def update_request(self, request: PageRequest) -> None:
        """Turn `request` (the previous page's) into the next page's request, in place."""

    def lookahead(self, request: PageRequest, depth: int) -> list[PageRequest]:
        """Up to `depth` requests that follow `request` (the next one to send), when they
        are known before its response arrives; the extraction engine fetches them ahead.

        The default knows none. Page-number and offset pagination know them once the API
        has given a total. A request fetched ahead is used only if it equals the request
        the paginator then really makes, and responses are handled in page order, so
        fetching ahead never changes which records are read or their order.
        """
        return []

    def describe(self) -> str:
        """One line for `restsync check`: the strategy and when it stops."""
        return f"{self.type_name} paginator ({type(self).__name__}){self.describe_guards()}"

    # --- helpers for subclasses -------------------------------------------------------

    def describe_guards(self) -> str:
        """The stop condition and page cap, as a suffix for `describe()`."""
        parts = []
        if self.stop_condition is not None:
            parts.append(f"stops when {self.stop_condition.text}")
        if self.max_pages is not None:
            parts.append(f"at most {self.max_pages} pages")
        return "; " + "; ".join(parts) if parts else ""

    def check_reference(self, value: Any, kind: str) -> Any:
        """Remember a cursor/token/URL about to be followed; raise if it was seen before.

        Returns `value`, so you can write `self._cursor = self.check_reference(v, "cursor")`.
        """
        key = value if isinstance(value, str) else orjson.dumps(value).decode()
        # A stop_condition that holds on this page ends pagination anyway; a last page
        # that repeats its cursor is then harmless.
        if key in self._seen_references and not self._stop_requested:
            shown = redact_url(key) if "://" in key else redact_text(key)
            if len(shown) > 120:
                shown = shown[:117] + "..."
            raise PaginationError(
                f"{kind} '{shown}' came back twice (page {self.pages_seen}); "
                "stopped to avoid an endless loop",
                resource=self.resource,
                url=self._shown_url(),
                hint=_STOP_HINT,
            )
        self._seen_references.add(key)
        return value

    def resolve_url(self, url: str) -> str:
        """Resolve a (maybe relative) URL from a response against the current page's URL."""
        if self.current_url is None:
            return url
        return str(httpx.URL(self.current_url).join(url))

    def follow_url(self, request: PageRequest, url: str) -> None:
        """Point `request` at `url`, a next-page URL taken from a response.

        The URL's own query parameters win: a parameter of the previous request that the
        URL also carries is not sent twice (nor does its stale value win). The other
        parameters (filters, incremental bounds) are folded into the URL and
        `request.params` is emptied, because httpx replaces a URL's whole query string
        when a request is given `params`.
        """
        target = httpx.URL(url)
        carried = {key for key, _ in target.params.multi_items()}
        extra = {k: v for k, v in request.params.items() if k not in carried and v is not None}
        if extra:
            target = target.copy_merge_params(extra)
        request.params.clear()
        request.url = str(target)
        self.next_url_is_follow_up = True

    def warn(self, message: str, *, key: str | None = None) -> None:
        """Record `message` for the run summary (shown there as a WARNING); log it at INFO.

        A later warning with the same `key` replaces the earlier one in the summary (so a
        running count stays one line) and is logged at DEBUG only."""
        where = f"resource '{self.resource}': " if self.resource else ""
        if key is not None and key in self._warning_slots:
            self.warnings[self._warning_slots[key]] = message
            log.debug("%s%s", where, message)
            return
        if key is not None:
            self._warning_slots[key] = len(self.warnings)
        self.warnings.append(message)
        # the run summary shows it as a WARNING; the log only records it
        log.info("%s%s", where, message)

    def check_page_cap(self, key: str, example: int) -> None:
        """Raise once `DEFAULT_PAGE_CAP` pages were read while the API still has more and no
        `key` (`maximum_page` / `maximum_offset`) bounds the pagination."""
        if self.max_pages is None and self.pages_seen >= DEFAULT_PAGE_CAP:
            raise PaginationError(
                f"stopped after {self.pages_seen} pages, restsync's safety cap, while the "
                "API still answers with records and gives no total",
                resource=self.resource,
                url=self._shown_url(),
                hint=f"if the API really has more, set endpoint.paginator.{key} to the last "
                f"one to read (e.g. {key}: {example}); if it repeats pages, set the "
                "resource's primary_key so repeated records are recognised",
            )

    def expect_told_end(self, records: list[Any]) -> None:
        """Call when `records` are the last page by the API's own count (a page count or a
        total) and the pagination goes on to ask for one page more: the count is only
        believed once that page confirms it (see `told_end_holds`)."""
        self._told_last = {content_bytes(r) for r in records}

    def awaits_told_end(self) -> bool:
        """True while the next page is the one asked for after the told last page (see
        `expect_told_end`)."""
        return self._told_last is not None

    def told_end_refused(self) -> None:
        """The API answered the page after the told last page with a client error (404, 400,
        ...: there is no such page), which confirms its count: the pagination ends."""
        self._told_last = None
        self.has_next_page = False

    def told_end_holds(self, records: list[Any]) -> bool | None:
        """On the page asked for after the told last page (`expect_told_end`): True when it
        confirms the end (it is empty, or holds only records of the told last page again, as
        an API that answers past its end with its last page does), False when it holds
        records not read yet (the API's count was low). Records are compared whole here, not
        by key: a new version of a record is not taken for a repeat (and dropped). None on
        any other page."""
        told_last, self._told_last = self._told_last, None
        if told_last is None:
            return None
        return all(content_bytes(r) in told_last for r in records)

    def _shown_url(self) -> str | None:
        return redact_url(self.current_url) if self.current_url else None

    # --- the guards -------------------------------------------------------------------

    def _before_page(self, response: httpx.Response, body: Any, records: list[Any]) -> None:
        self.pages_seen += 1
        self._stop_requested = self.stop_condition is not None and self.stop_condition.evaluate(
            body, records
        )
        with contextlib.suppress(RuntimeError):  # a response built without a request
            self.current_url = str(response.request.url)
        self.skip_records = 0
        if not records:
            self._recent_hashes = []
            return
        digest = _records_hash(records, self.primary_key)
        # past the told end, a repeat is the end (see `told_end_holds`), not a loop; a page
        # equal to the one before the previous is an API serving its last page again after a
        # short page (an offset past the end), or going back and forth
        if digest in self._recent_hashes and self._told_last is None:
            back = len(self._recent_hashes) - self._recent_hashes.index(digest)
            raise self._repeat_error(
                f"the same {len(records)} records as page {self.pages_seen - back}"
            )
        self._recent_hashes = [*self._recent_hashes[-1:], digest]

    def _repeat_error(self, what: str) -> PaginationError:
        """The error for a page that returned `what` (records already read)."""
        return PaginationError(
            f"page {self.pages_seen} returned {what} (compared by "
            f"{_identity_name(self.primary_key)}); the API seems to ignore the page parameter "
            "or to repeat its last page",
            resource=self.resource,
            url=self._shown_url(),
            hint="check the paginator's parameter names, or set "
            "endpoint.paginator.stop_condition / total_path so it stops at the last page",
        )

    def _after_page(self) -> None:
        if not self.has_next_page:
            return
        if self._stop_requested:
            assert self.stop_condition is not None
            log.debug(
                "stop_condition %r holds after page %d", self.stop_condition.text, self.pages_seen
            )
            self.has_next_page = False
            self._told_last = None
            return
        if self.max_pages is not None and self.pages_seen >= self.max_pages:
            if self._told_last is not None:  # only the page confirming the API's count is left
                self.has_next_page = False
                self._told_last = None
                self.warn(
                    f"stopped after {self.pages_seen} pages (max_pages), where the API's page "
                    "count or total ends; the page after it, which confirms that count, was "
                    "not asked for (raise max_pages by one to have it checked)",
                    key="max-pages-count",
                )
                return
            raise PaginationError(
                f"stopped after {self.pages_seen} pages (max_pages) while the API still "
                "announces more",
                resource=self.resource,
                url=self._shown_url(),
                hint="raise endpoint.paginator.max_pages if the API really has more pages",
            )


#: Fields taken as a record's identity when the resource has no primary key.
ID_FIELDS = ("id", "_id", "uuid", "ID", "Id")


def record_identity(record: Any, primary_key: list[str]) -> Any:
    """What makes a record the same record: its primary key values, else an `id`-like
    field, else the whole record. A field that differs per response (a fetch timestamp)
    then does not make a repeated record look new."""
    if isinstance(record, dict):
        if primary_key and all(k in record for k in primary_key):
            return [record[k] for k in primary_key]
        for key in ID_FIELDS:
            if key in record and record[key] is not None:
                return [key, record[key]]
    return record


def identity_bytes(record: Any, primary_key: list[str]) -> bytes:
    """`record_identity` serialized, for comparing and hashing."""
    probe = record_identity(record, primary_key)
    try:
        return orjson.dumps(probe, option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS)
    except TypeError:
        return repr(probe).encode()


def same_records(first: list[Any], second: list[Any], primary_key: list[str]) -> bool:
    """Whether two pages hold the same records, compared by `record_identity`."""
    return len(first) == len(second) and all(
        identity_bytes(a, primary_key) == identity_bytes(b, primary_key)
        for a, b in zip(first, second, strict=True)
    )


def _identity_name(primary_key: list[str]) -> str:
    if primary_key:
        return f"primary key {', '.join(primary_key)}"
    return f"record identity ({'/'.join(ID_FIELDS)} field, else the whole record)"


def content_bytes(record: Any) -> bytes:
    """A record, whole, serialized for comparing."""
    try:
        return orjson.dumps(record, option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS)
    except TypeError:
        return repr(record).encode()


def _records_hash(records: list[Any], primary_key: list[str]) -> bytes:
    # A repeated page repeats its first and last records: comparing their identities (and
    # the count) finds it without serializing every record of every page.
    first, last = identity_bytes(records[0], primary_key), identity_bytes(records[-1], primary_key)
    return hashlib.blake2b(b"%d\0%s\0%s" % (len(records), first, last), digest_size=16).digest()


def _guard_update_state(fn: _F) -> _F:
    @functools.wraps(fn)
    def update_state(self: Paginator, response: httpx.Response, body: Any, records: Any) -> None:
        if self._guard_depth:
            fn(self, response, body, records)
            return
        self._guard_depth += 1
        try:
            self._before_page(response, body, records)
            fn(self, response, body, records)
            self._after_page()
        finally:
            self._guard_depth -= 1

    return cast("_F", update_state)


def _guard_update_request(fn: _F) -> _F:
    @functools.wraps(fn)
    def update_request(self: Paginator, request: PageRequest) -> None:
        if self._guard_depth:
            fn(self, request)
            return
        self.next_url_is_follow_up = False
        self._guard_depth += 1
        try:
            fn(self, request)
        finally:
            self._guard_depth -= 1

    return cast("_F", update_request)


def as_bool(value: Any) -> bool | None:
    """Read a `has_more`-style flag: booleans, "true"/"false" strings, 0/1; else None."""
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        return bool(value)
    if isinstance(value, str):
        low = value.strip().lower()
        if low in ("true", "1", "yes"):
            return True
        if low in ("false", "0", "no", ""):
            return False
    return None


def as_int(value: Any) -> int | None:
    """Read a count (a total, a page count): ints, integral floats, digit strings; else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


def set_body_path(request: PageRequest, path: str, value: Any) -> None:
    """Set `value` at a dotted `path` in the request's JSON body, creating objects."""
    if not isinstance(request.json, dict):
        request.json = {}
    node: dict[str, Any] = request.json
    *parents, last = path.split(".")
    for key in parents:
        child = node.get(key)
        if not isinstance(child, dict):
            child = node[key] = {}
        node = child
    node[last] = value

"""Switches of a sandbox API: how it behaves (`SandboxOptions`) and how it fails (`Faults`)."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any

from restsync.errors import ConfigError, Problem
from restsync.util.suggest import did_you_mean

#: Fault kinds that can be given per request number in `Faults.fail_requests`, besides a status.
FAULT_KINDS: tuple[str, ...] = ("drop", "truncate", "html", "non_utf8", "shape")
#: Statuses that `Faults` can inject at a rate.
FAULT_STATUSES: tuple[int, ...] = (429, 500, 502, 503, 504)


class FaultSpecError(ConfigError):
    """A fault spec string (`parse_faults`) that cannot be understood."""

    def __init__(self, message: str) -> None:
        super().__init__([Problem("faults", message)])


@dataclass
class SandboxOptions:
    """How a sandbox API behaves when nothing goes wrong.

    Every field has the API's realistic default (None = that API's own default):

    ```python
    SandboxOptions(max_page_size=50, clamp=True)   # asked 100, serves 50
    SandboxOptions(send_total=False)               # no total in the body
    ```
    """

    #: Seed of the record generator; records are deterministic for (api, seed, size).
    seed: int = 0
    #: Largest page the API serves (offset/page-number APIs); None = the API's default.
    max_page_size: int | None = None
    #: Above `max_page_size`: True serves `max_page_size` records, False answers 400.
    clamp: bool = False
    #: Page size when the request names none (the cursor API's fixed page size).
    default_page_size: int | None = None
    #: Whether the body carries a total (`total` for offset APIs, `total_count`/`total_pages`
    #: for page-number APIs); None = the API's default (on).
    send_total: bool | None = None
    #: Page-number APIs: `page=0` answers 400 (False) or is served as page 1 (True).
    page_zero_as_first: bool = False
    #: ecommerce: serve products without their `id` field (only `product_id`).
    products_without_id: bool = False
    #: orders: lifetime of issued OAuth2 tokens, in seconds.
    token_lifetime: float = 3600.0
    #: Resources answering 403 even to a valid credential (names as in the seed).
    forbidden_resources: tuple[str, ...] = ()
    #: Keep every request in the request log (off: only counters, for long benchmarks).
    log_requests: bool = True

    def to_dict(self) -> dict[str, Any]:
        """The options as a JSON-able dict (used to hand them to a sandbox process)."""
        data = asdict(self)
        data["forbidden_resources"] = list(self.forbidden_resources)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SandboxOptions:
        """The inverse of `to_dict`."""
        known = {f.name for f in fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise ConfigError(f"unknown sandbox options: {', '.join(sorted(unknown))}")
        values = dict(data)
        if "forbidden_resources" in values:
            values["forbidden_resources"] = tuple(values["forbidden_resources"])
        return cls(**values)


@dataclass
class Faults:
    """What goes wrong, per run. Rates are probabilities per API request (0..1).

    Which request fails is deterministic: request number n (1-based, counted over API requests
    since these faults were set; the token endpoint is not counted) draws from a generator seeded
    with (`seed`, n), and at most one fault applies to a request.

    ```python
    Faults(rate_429=0.1, retry_after=2)          # 10 % of requests: 429, Retry-After: 2
    Faults(fail_requests={3: 503, 4: "drop"})    # exactly these requests fail
    Faults(slow=0.05, rate_limit=20)             # 50 ms per response; 20 req/s per credential
    ```
    """

    seed: int = 0
    rate_429: float = 0.0
    rate_500: float = 0.0
    rate_502: float = 0.0
    rate_503: float = 0.0
    rate_504: float = 0.0
    #: Close the connection mid-body (Content-Length larger than what was sent).
    drop: float = 0.0
    #: 200 with a JSON body cut in half (a correct Content-Length for the cut body).
    truncate: float = 0.0
    #: 200 with an HTML error page (`text/html`).
    html: float = 0.0
    #: 200 with a body that is not valid UTF-8.
    non_utf8: float = 0.0
    #: 200 with the records under another key (`items` instead of the selector).
    shape: float = 0.0
    #: Request number -> status (e.g. 503) or a kind from FAULT_KINDS.
    fail_requests: dict[int, int | str] = field(default_factory=dict)
    #: Retry-After on 429/503: seconds (0 allowed) or None for no header.
    retry_after: int | None = 1
    #: "seconds" or "http-date" (the same delay written as an HTTP date).
    retry_after_format: str = "seconds"
    #: Added latency per API response, in seconds (does not block other requests).
    slow: float = 0.0
    #: Rate-limit mode: at most this many requests per second per credential, 429 above.
    rate_limit: float | None = None
    #: Cursor API: next-page URLs point at this origin (e.g. "http://127.0.0.1:5555").
    cross_origin_next: str | None = None

    def __post_init__(self) -> None:
        problems: list[str] = []
        for name in ("rate_429", "rate_500", "rate_502", "rate_503", "rate_504", *FAULT_KINDS):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                problems.append(f"{name}={value}: a rate must be between 0 and 1")
        if self.total_rate() > 1.0:
            problems.append(f"the fault rates add up to {self.total_rate():.3f}, more than 1")
        for number, what in self.fail_requests.items():
            if not isinstance(number, int) or number < 1:
                problems.append(f"fail_requests: request number {number!r} must be an int >= 1")
            if isinstance(what, int):
                if not 400 <= what <= 599:
                    problems.append(f"fail_requests[{number}]: status {what} is not 4xx/5xx")
            elif what not in FAULT_KINDS:
                problems.append(
                    f"fail_requests[{number}]: unknown fault {what!r}; "
                    f"use a status or one of {', '.join(FAULT_KINDS)}"
                )
        if self.retry_after is not None and self.retry_after < 0:
            problems.append("retry_after must be >= 0 or None")
        if self.retry_after_format not in ("seconds", "http-date"):
            problems.append(
                f"retry_after_format {self.retry_after_format!r}: use 'seconds' or 'http-date'"
            )
        if self.slow < 0:
            problems.append("slow must be >= 0")
        if self.rate_limit is not None and self.rate_limit <= 0:
            problems.append("rate_limit must be > 0 requests per second")
        if problems:
            raise FaultSpecError("; ".join(problems))

    def total_rate(self) -> float:
        """Sum of all fault rates."""
        return sum(rate for _, rate in self.rated())

    def rated(self) -> list[tuple[int | str, float]]:
        """(status or kind, rate) for each fault given at a rate, in draw order."""
        pairs: list[tuple[int | str, float]] = [
            (429, self.rate_429),
            (500, self.rate_500),
            (502, self.rate_502),
            (503, self.rate_503),
            (504, self.rate_504),
        ]
        pairs += [(kind, float(getattr(self, kind))) for kind in FAULT_KINDS]
        return [(what, rate) for what, rate in pairs if rate > 0]

    def to_dict(self) -> dict[str, Any]:
        """The faults as a JSON-able dict (request numbers become strings)."""
        data = asdict(self)
        data["fail_requests"] = {str(k): v for k, v in self.fail_requests.items()}
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Faults:
        """The inverse of `to_dict`."""
        values = dict(data)
        values["fail_requests"] = {int(k): v for k, v in values.get("fail_requests", {}).items()}
        return cls(**values)

    def with_changes(self, **changes: Any) -> Faults:
        """A copy with some fields changed."""
        return replace(self, **changes)


_DURATION = re.compile(r"^(\d+(?:\.\d+)?)(ms|s)?$")
_KEYS: dict[str, str] = {
    "429": "rate_429",
    "500": "rate_500",
    "502": "rate_502",
    "503": "rate_503",
    "504": "rate_504",
    "drop": "drop",
    "truncate": "truncate",
    "html": "html",
    "non_utf8": "non_utf8",
    "shape": "shape",
    "slow": "slow",
    "seed": "seed",
    "retry_after": "retry_after",
    "retry_after_format": "retry_after_format",
    "rate_limit": "rate_limit",
    "cross_origin": "cross_origin_next",
}


def _duration(text: str, spec_item: str) -> float:
    match = _DURATION.match(text.strip())
    if not match:
        raise FaultSpecError(f"'{spec_item}': expected a duration like 50ms or 1.5s")
    value = float(match.group(1))
    return value / 1000.0 if match.group(2) == "ms" else value


def _number(text: str, spec_item: str, kind: type[int] | type[float]) -> float:
    try:
        return kind(text)
    except ValueError:
        raise FaultSpecError(f"'{spec_item}': {text!r} is not a number") from None


def parse_faults(spec: str) -> Faults:
    """Parse a fault spec as given on the command line.

    Items are comma-separated `key=value`: a status or kind with a rate (`429=0.1`,
    `503=0.05`, `drop=0.01`, `truncate=`, `html=`, `non_utf8=`, `shape=`), `slow=50ms`,
    `seed=7`, `retry_after=2` (or `none`), `retry_after_format=http-date`, `rate_limit=20`
    (requests/s), `cross_origin=http://127.0.0.1:5555`, and `@N=what` for request number N
    (`@3=503`, `@4=drop`). An empty spec means no faults.

    Raises:
        FaultSpecError: naming the bad item, with a suggestion for a misspelled key.
    """
    values: dict[str, Any] = {}
    fail: dict[int, int | str] = {}
    for raw in spec.split(","):
        item = raw.strip()
        if not item:
            continue
        key, sep, value = item.partition("=")
        key, value = key.strip(), value.strip()
        if not sep or not value:
            raise FaultSpecError(f"'{item}': expected key=value, e.g. 429=0.1 or slow=50ms")
        if key.startswith("@"):
            number = key[1:]
            if not number.isdigit() or int(number) < 1:
                raise FaultSpecError(f"'{item}': @N needs a request number >= 1, e.g. @3=503")
            fail[int(number)] = int(value) if value.isdigit() else value
            continue
        name = _KEYS.get(key)
        if name is None:
            hint = did_you_mean(key, list(_KEYS))
            raise FaultSpecError(
                f"'{item}': unknown switch '{key}'{hint}; known: {', '.join(_KEYS)}, @N"
            )
        if name == "slow":
            values[name] = _duration(value, item)
        elif name == "seed":
            values[name] = int(_number(value, item, int))
        elif name == "retry_after":
            values[name] = None if value.lower() == "none" else int(_number(value, item, int))
        elif name in ("retry_after_format", "cross_origin_next"):
            values[name] = value
        else:
            values[name] = _number(value, item, float)
    values["fail_requests"] = fail
    return Faults(**values)

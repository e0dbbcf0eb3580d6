"""Every error restsync raises, grouped by what happens next.

    RestsyncError
    ├── ConfigError            the run stops before any request (CLI exit 2)
    │   └── SecretNotFoundError    a `restsync.secrets[...]` key that no source holds
    ├── ResourceError          that resource ends; the other resources go on (CLI exit 1)
    │   ├── HTTPStatusError        a status that is not retried, or retries used up
    │   ├── AuthError              credentials refused, or the token endpoint failed
    │   ├── PaginationError        a repeated cursor/URL, a page cap, a cross-origin next page
    │   ├── SelectorError          data_selector matched nothing, or the body is not JSON
    │   └── DataError              a record that cannot be loaded (not an object, no primary key)
    ├── LoadError              the destination refused the load; nothing of it was committed
    └── RetryableError         internal: a transient failure the retry layer handles

Messages follow one shape, on at most three lines: where (config path, resource, URL with
secrets masked), what, and how to fix.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


class RestsyncError(Exception):
    """Base class of every restsync error."""


@dataclass(frozen=True)
class Problem:
    """One config problem: the key path in the user's notation, and what is wrong there."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


class ConfigError(RestsyncError):
    """The config cannot run; every problem found is listed. Nothing was requested."""

    def __init__(self, problems: list[Problem] | Problem | str) -> None:
        if isinstance(problems, str):
            problems = [Problem("", problems)]
        elif isinstance(problems, Problem):
            problems = [problems]
        self.problems: list[Problem] = list(problems)
        super().__init__(self._format())

    def _format(self) -> str:
        n = len(self.problems)
        head = f"config error ({n} problem{'s' if n != 1 else ''}), nothing was requested:"
        return "\n".join([head, *(f"  {p}" for p in self.problems)])


class SecretNotFoundError(ConfigError):
    """A secret key that none of the places looked in holds."""

    def __init__(self, key: str, looked_in: list[str]) -> None:
        self.key = key
        self.looked_in = looked_in
        msg = f"missing secret '{key}'; looked in {', '.join(looked_in)}"
        super().__init__([Problem("", msg)])

    def _format(self) -> str:
        return self.problems[0].message


class ResourceError(RestsyncError):
    """One resource failed; the message says where, what and how to fix.

    Attributes carry the structured facts: `resource`, `url` (secrets masked), `status`.
    """

    def __init__(
        self,
        message: str,
        *,
        resource: str | None = None,
        url: str | None = None,
        status: int | None = None,
        hint: str | None = None,
    ) -> None:
        self.resource = resource
        self.url = url
        self.status = status
        self.hint = hint
        self.message = message
        super().__init__(message)

    def __str__(self) -> str:
        return self._format()

    def _format(self) -> str:
        """The message, from the fields: where, what, and the hint on a line of its own."""
        where = f"resource '{self.resource}': " if self.resource else ""
        text = f"{where}{self._what()}"
        if self.hint:
            text += f"\n  {self.hint}"
        return text

    def _what(self) -> str:
        return self.message

    def __reduce__(self) -> tuple[Any, ...]:
        # the fields cross a pickle (the normalizer process's pipe) as they are; the message
        # is formatted from them on the other side
        return (_rebuild, (type(self), dict(self.__dict__)))


def _rebuild(cls: type[ResourceError], fields: dict[str, Any]) -> ResourceError:
    exc = cls.__new__(cls)
    exc.__dict__.update(fields)
    exc.args = (exc.message,)
    return exc


class HTTPStatusError(ResourceError):
    """A response status that is not retried, or a transient one after the retries ran out."""


class AuthError(ResourceError):
    """The API refused the credentials, or the token endpoint did not issue a token."""


class PaginationError(ResourceError):
    """Pagination cannot go on safely: a repeated cursor or URL, a page cap, a cross-origin URL."""


class SelectorError(ResourceError):
    """The records could not be found in a response (selector mismatch, not JSON)."""


class DataError(ResourceError):
    """A record that cannot be loaded as configured (not an object, no primary key, ...).

    Fields: `record_index`, the record's position (in the batch the normalizer was given,
    until the error is `located`; on its page after); `page`, the 1-based page number, and
    `url`, the page's URL, once located. With a `record_index`, `message` says what is wrong
    with the record ("has no primary key 'id'") and the error reads
    "record 3 on page 2 has no primary key 'id' (https://...)" ("on this page" until located).
    """

    def __init__(
        self,
        message: str,
        *,
        resource: str | None = None,
        url: str | None = None,
        hint: str | None = None,
        record_index: int | None = None,
        page: int | None = None,
    ) -> None:
        self.record_index = record_index
        self.page = page
        super().__init__(message, resource=resource, url=url, hint=hint)

    def _what(self) -> str:
        text = self.message
        if self.record_index is not None:
            on = "this page" if self.page is None else f"page {self.page}"
            text = f"record {self.record_index} on {on} {text}"
        if self.page is not None and self.url:
            text += f" ({self.url})"
        return text

    def located(self, *, resource: str, page: int, url: str, record_index: int | None) -> DataError:
        """This error, pointed at the page (1-based `page`, `url`) and the record on it."""
        return type(self)(
            self.message,
            resource=resource,
            url=url,
            hint=self.hint,
            record_index=record_index,
            page=page,
        )


class LoadError(RestsyncError):
    """The destination refused the load. The transaction was rolled back; nothing of it remains."""


class RetryableError(RestsyncError):
    """Internal: a transient failure (429, 5xx, connection error) the retry layer handles."""

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        self.retry_after = retry_after
        super().__init__(message)

"""The config dialect as types: TypedDicts and Literals for every accepted key.

A Python-file config that annotates its dict as `RESTAPIConfig` type-checks in your editor:

    from restsync.config._dialect import RESTAPIConfig

    config: RESTAPIConfig = {
        "client": {"base_url": "https://api.example.com", "auth": {"token": secrets["api_key"]}},
        "resources": ["posts", {"name": "comments", "endpoint": {"path": "comments"}}],
    }

The dialect is dlt's `rest_api_source` dialect plus the vocabulary the reference
integrations use (`oauth2` auth, `stop_condition` on paginators, `error_handler` on
endpoints). The validator (`restsync.config._validate`) derives its key lists and value
types from these types, so a key added here is accepted there. The paginator and auth
types are registries (`restsync.paginate.PAGINATORS`, `restsync.auth.AUTH_TYPES`): the keys
of a paginator are its class's constructor parameters and those of an auth scheme its
class's `required_keys`/`optional_keys`; the TypedDicts below spell the same keys for the
built-in types (a test keeps the two in step) and give their value types.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any, Literal, Protocol, Union, get_args

from typing_extensions import TypedDict

# The paginator types are the registry's (`restsync.paginate`): validation sits above it.
from restsync.paginate._base import PaginatorType

if TYPE_CHECKING:
    import httpx

# --- Literals -------------------------------------------------------------------------

HTTPMethod = Literal["GET", "POST"]
AuthType = Literal["bearer", "api_key", "http_basic", "oauth2", "oauth2_client_credentials"]
ApiKeyLocation = Literal["header", "query", "param", "cookie"]
OAuth2ClientAuth = Literal["body", "basic"]
WriteDispositionName = Literal["append", "replace", "merge", "skip"]
MergeStrategy = Literal["delete-insert", "upsert", "insert-only", "scd2"]
ReplaceStrategy = Literal["truncate-and-insert", "insert-from-staging", "staging-optimized"]
OnCursorValueMissing = Literal["raise", "include", "exclude"]
RangeBoundary = Literal["open", "closed"]
LastValueFuncName = Literal["max", "min"]
RowOrder = Literal["asc", "desc"]
ResponseActionName = Literal["ignore"]
# restsync's column types (see restsync.schema._model.DataType), plus dlt's `complex`,
# which restsync reads as `json`.
ColumnDataType = Literal[
    "bigint", "double", "decimal", "bool", "text", "timestamp", "date", "json", "complex"
]
PlaceholderRoot = Literal["resources", "incremental"]
IncrementalPlaceholder = Literal["start_value", "initial_value", "last_value", "end_value"]
# dlt's `schema_contract` (applied by `restsync.schema._contract`)
ContractMode = Literal["evolve", "freeze", "discard_row", "discard_value"]
ContractEntity = Literal["tables", "columns", "data_type"]


@dataclass(frozen=True)
class Minimum:
    """`Annotated[int, Minimum(1)]`: the smallest value a numeric key accepts (`exclusive`:
    the value must be greater)."""

    value: float
    exclusive: bool = False


PositiveNumber = Annotated[float, Minimum(0, exclusive=True)]


AUTH_TYPES: tuple[str, ...] = get_args(AuthType)
PAGINATOR_TYPES: tuple[str, ...] = get_args(PaginatorType)
HTTP_METHODS: tuple[str, ...] = get_args(HTTPMethod)
CONTRACT_MODES: tuple[str, ...] = get_args(ContractMode)
CONTRACT_ENTITIES: tuple[str, ...] = get_args(ContractEntity)
API_KEY_LOCATIONS: tuple[str, ...] = get_args(ApiKeyLocation)
WRITE_DISPOSITIONS: tuple[str, ...] = get_args(WriteDispositionName)
MERGE_STRATEGIES: tuple[str, ...] = get_args(MergeStrategy)
REPLACE_STRATEGIES: tuple[str, ...] = get_args(ReplaceStrategy)
COLUMN_DATA_TYPES: tuple[str, ...] = get_args(ColumnDataType)
INCREMENTAL_PLACEHOLDERS: tuple[str, ...] = get_args(IncrementalPlaceholder)


class PaginatorObject(Protocol):
    """Any paginator instance (a `restsync.paginate` paginator or your own subclass)."""

    def update_state(self, *args: Any, **kwargs: Any) -> None: ...

    def update_request(self, *args: Any, **kwargs: Any) -> None: ...


# --- auth -----------------------------------------------------------------------------


class BearerAuthConfig(TypedDict, total=False):
    """`Authorization: Bearer <token>`. A dict with `token` and no `type` is bearer too."""

    type: Literal["bearer"]
    token: str


class ApiKeyAuthConfig(TypedDict, total=False):
    """An API key sent as a header (default, named `Authorization`), query parameter or cookie."""

    type: Literal["api_key"]
    name: str
    api_key: str
    location: ApiKeyLocation


class HttpBasicAuthConfig(TypedDict, total=False):
    """HTTP Basic auth."""

    type: Literal["http_basic"]
    username: str
    password: str


class _OAuth2Common(TypedDict, total=False):
    client_id: str
    client_secret: str
    scopes: str | list[str]
    scope: str | list[str]
    audience: str
    client_auth: OAuth2ClientAuth
    access_token: str
    access_token_request_data: dict[str, Any]
    default_token_expiration: Annotated[int, Minimum(1)]


class OAuth2AuthConfig(_OAuth2Common, total=False):
    """OAuth2 client credentials: the token is fetched once, cached and refreshed.

    `client_auth: basic` sends the client's credentials as HTTP Basic on the token request;
    a pre-set `access_token` is used until the API rejects it, then a new one is fetched.
    """

    type: Literal["oauth2"]
    token_url: str


class OAuth2ClientCredentialsConfig(_OAuth2Common, total=False):
    """OAuth2 client credentials in dlt's spelling (`access_token_url`)."""

    type: Literal["oauth2_client_credentials"]
    access_token_url: str


AuthConfigDict = (
    BearerAuthConfig
    | ApiKeyAuthConfig
    | HttpBasicAuthConfig
    | OAuth2AuthConfig
    | OAuth2ClientCredentialsConfig
)
AuthConfig = Union[AuthConfigDict, "httpx.Auth"]

AUTH_CONFIGS: dict[str, type[Any]] = {
    "bearer": BearerAuthConfig,
    "api_key": ApiKeyAuthConfig,
    "http_basic": HttpBasicAuthConfig,
    "oauth2": OAuth2AuthConfig,
    "oauth2_client_credentials": OAuth2ClientCredentialsConfig,
}

# --- paginators -----------------------------------------------------------------------


class AutoPaginatorConfig(TypedDict, total=False):
    """Detect the pagination from the first response (the default)."""

    type: Literal["auto"]


class SinglePagePaginatorConfig(TypedDict, total=False):
    """One request, no pagination."""

    type: Literal["single_page"]


class _GuardedPaginatorConfig(TypedDict, total=False):
    """Keys every paginating type takes: an expression that ends the pagination and a cap
    on the number of pages (reaching it is an error, never a silent end)."""

    stop_condition: str
    max_pages: Annotated[int, Minimum(1)]


class OffsetPaginatorConfig(_GuardedPaginatorConfig, total=False):
    """`offset`/`limit` query parameters; the offset advances by the records received."""

    type: Literal["offset"]
    limit: Annotated[int, Minimum(1)]
    offset: Annotated[int, Minimum(0)]
    offset_param: str
    limit_param: str
    offset_body_path: str
    limit_body_path: str
    total_path: str | None
    maximum_offset: Annotated[int, Minimum(1)]
    stop_after_empty_page: bool
    has_more_path: str


class PageNumberPaginatorConfig(_GuardedPaginatorConfig, total=False):
    """A page number parameter (first page 1 unless `base_page` says otherwise)."""

    type: Literal["page_number"]
    base_page: int
    page: int
    page_param: str
    page_body_path: str
    limit_param: str
    limit: Annotated[int, Minimum(1)]
    total_path: str | None
    maximum_page: Annotated[int, Minimum(0)]
    stop_after_empty_page: bool
    has_more_path: str


class CursorPaginatorConfig(_GuardedPaginatorConfig, total=False):
    """A cursor from the body, sent back as `cursor_param` (or followed when it is a URL)."""

    type: Literal["cursor"]
    cursor_path: str
    cursor_param: str
    cursor_body_path: str
    has_more_path: str
    stop_after_empty_page: bool


class JSONLinkPaginatorConfig(_GuardedPaginatorConfig, total=False):
    """The next page's URL found in the body."""

    type: Literal["json_link"]
    next_url_path: str


class HeaderLinkPaginatorConfig(_GuardedPaginatorConfig, total=False):
    """The next page's URL in the `Link` header."""

    type: Literal["header_link"]
    links_next_key: str


class HeaderCursorPaginatorConfig(_GuardedPaginatorConfig, total=False):
    """A cursor found in a response header, sent back as `cursor_param`."""

    type: Literal["header_cursor"]
    cursor_key: str
    cursor_param: str


PaginatorConfigDict = (
    AutoPaginatorConfig
    | SinglePagePaginatorConfig
    | OffsetPaginatorConfig
    | PageNumberPaginatorConfig
    | CursorPaginatorConfig
    | JSONLinkPaginatorConfig
    | HeaderLinkPaginatorConfig
    | HeaderCursorPaginatorConfig
)
PaginatorConfig = PaginatorType | PaginatorConfigDict | PaginatorObject

PAGINATOR_CONFIGS: dict[str, type[Any]] = {
    "auto": AutoPaginatorConfig,
    "single_page": SinglePagePaginatorConfig,
    "offset": OffsetPaginatorConfig,
    "page_number": PageNumberPaginatorConfig,
    "cursor": CursorPaginatorConfig,
    "json_link": JSONLinkPaginatorConfig,
    "header_link": HeaderLinkPaginatorConfig,
    "header_cursor": HeaderCursorPaginatorConfig,
}

# --- client ---------------------------------------------------------------------------


class ClientConfig(TypedDict, total=False):
    """Where the API is and how to talk to it; shared by every resource."""

    base_url: str
    headers: dict[str, str]
    auth: AuthConfig
    paginator: PaginatorConfig
    max_concurrency: Annotated[int, Minimum(1)]
    rate_limit: PositiveNumber | None  # requests per second, per host
    allow_cross_origin_pagination: bool
    timeout: PositiveNumber | None  # seconds


# --- endpoint -------------------------------------------------------------------------


class IncrementalConfig(TypedDict, total=False):
    """Incremental loading on a cursor field of the records."""

    cursor_path: str
    initial_value: Any
    end_value: Any
    start_param: str
    end_param: str
    convert: Callable[[Any], Any]
    lag: float | None
    on_cursor_value_missing: OnCursorValueMissing
    range_start: RangeBoundary
    range_end: RangeBoundary
    last_value_func: LastValueFuncName | Callable[[Sequence[Any]], Any]
    row_order: RowOrder | None
    primary_key: str | list[str]


class ResolveParamConfig(TypedDict, total=False):
    """Legacy param form: take `field` from each record of the parent `resource`."""

    type: Literal["resolve"]
    resource: str
    field: str


class IncrementalParamConfig(IncrementalConfig, total=False):
    """Legacy param form of an incremental cursor."""

    type: Literal["incremental"]


class ErrorHandlerConfig(TypedDict, total=False):
    """One endpoint's retry policy."""

    retry_on_status_codes: list[int]
    max_retries: Annotated[int, Minimum(0)]
    backoff_factor: Annotated[float, Minimum(0)]
    max_backoff: PositiveNumber
    respect_retry_after: bool
    retry_after_cap: float  # seconds: the longest Retry-After waited (default 300)


class ResponseActionConfig(TypedDict, total=False):
    """What to do with a matching response (`status_code` and/or `content` substring).

    `status_code` is an int or a string of digits (`"404"`), as in dlt."""

    status_code: int | str
    content: str
    action: ResponseActionName | Callable[..., Any] | list[Callable[..., Any]]


ResponseAction = ResponseActionConfig | Callable[..., Any]


class EndpointConfig(TypedDict, total=False):
    """One API endpoint: the request and how to page through and read its responses."""

    path: str
    method: HTTPMethod
    params: dict[str, Any]
    json: Any
    data: Any
    headers: dict[str, str]
    data_selector: str
    paginator: PaginatorConfig
    incremental: IncrementalConfig
    response_actions: list[ResponseAction]
    error_handler: ErrorHandlerConfig
    auth: AuthConfig


# --- resource -------------------------------------------------------------------------


class WriteDispositionConfig(TypedDict, total=False):
    """The dict form of `write_disposition`."""

    disposition: WriteDispositionName
    strategy: MergeStrategy | ReplaceStrategy
    # scd2 (dlt's names and meaning)
    validity_column_names: list[str]
    active_record_timestamp: Any
    boundary_timestamp: Any
    row_version_column_name: str


WriteDisposition = WriteDispositionName | WriteDispositionConfig


class ColumnHints(TypedDict, total=False):
    """Hints for one column; they win over the types inferred from the data."""

    name: str
    data_type: ColumnDataType
    nullable: bool
    primary_key: bool
    merge_key: bool
    precision: Annotated[int, Minimum(0)]
    scale: Annotated[int, Minimum(0)]
    hard_delete: bool  # merge: a row marked deleted deletes its key (restsync.load._merge)
    dedup_sort: str  # merge: which staged version of a key wins ("asc" / "desc")


class ProcessingStep(TypedDict, total=False):
    """One step applied to each record (Python configs only)."""

    filter: Callable[[Any], bool]
    map: Callable[[Any], Any]
    yield_map: Callable[[Any], Any]


class ResourceBase(TypedDict, total=False):
    """Everything a resource and `resource_defaults` share."""

    endpoint: str | EndpointConfig
    primary_key: str | list[str]
    merge_key: str | list[str]
    write_disposition: WriteDisposition
    table_name: str | Callable[[Any], str]  # a function is refused (config.validate.write)
    columns: dict[str, ColumnHints] | list[ColumnHints]
    selected: bool
    include_from_parent: list[str]
    processing_steps: list[ProcessingStep]
    max_table_nesting: Annotated[int, Minimum(0)]
    schema_contract: Any  # a mode, or {tables|columns|data_type: mode} (`schema.contract`)


class ResourceDefaults(ResourceBase, total=False):
    """`resource_defaults`: deep-merged into every resource (the resource wins)."""


class ResourceConfig(ResourceBase, total=False):
    """One resource: a named stream of records, loaded into a table of the same name."""

    name: str


class RESTAPIConfig(TypedDict, total=False):
    """A whole source: `client`, `resource_defaults` and `resources`."""

    client: ClientConfig
    resource_defaults: ResourceDefaults
    resources: list[str | ResourceConfig]


# --- dlt keys restsync refuses --------------------------------------------------------

_NOT_ACTED_ON = "restsync does not act on it; remove it"

#: dlt keys that are not part of restsync's dialect, by where they appear, each with what to
#: do instead. Validation refuses them with these messages (every other unknown key gets a
#: did-you-mean).
REFUSED_KEYS: dict[str, dict[str, str]] = {
    "client": {
        "session": "not supported: restsync sends requests with httpx, not a requests.Session; "
        "use 'auth', 'headers' and 'timeout' instead",
    },
    "auth": {
        "session": "not supported: restsync fetches tokens with its own httpx client; "
        "set 'access_token_request_data' for extra form fields of the token request",
    },
    "incremental": {
        "transform": "the old name of 'convert'; write 'convert'",
        "allow_external_schedulers": "not supported: restsync has no external scheduler "
        "windows; give the window as initial_value / end_value (a backfill) instead",
    },
    "resource_defaults": {
        "name": "a name cannot be a default; give each resource its own 'name'",
    },
    "resource": {
        "parallelized": "not needed: restsync extracts every resource concurrently; remove it",
        "table_format": f"a dlt destination table format; {_NOT_ACTED_ON}",
        "file_format": f"a dlt loader file format; {_NOT_ACTED_ON}",
        "nested_hints": f"dlt hints for nested tables; {_NOT_ACTED_ON}",
        "references": f"dlt table references; {_NOT_ACTED_ON}",
    },
    "column": {
        "unique": f"a dlt destination hint; {_NOT_ACTED_ON}",
        "partition": f"a dlt destination hint; {_NOT_ACTED_ON}",
        "cluster": f"a dlt destination hint; {_NOT_ACTED_ON}",
        "sort": f"a dlt destination hint; {_NOT_ACTED_ON}",
        "description": f"a dlt schema annotation; {_NOT_ACTED_ON}",
        "timezone": "not supported: timestamps are stored with their time zone; remove it",
    },
}

#: Paginator types of dlt that restsync knows under another name.
RENAMED_PAGINATORS: dict[str, str] = {
    "json_response": "'json_response' is the old name of the 'json_link' paginator; "
    "write 'json_link' (with 'next_url_path')",
}


def keys_of(typed_dict: type[Any]) -> frozenset[str]:
    """Every key a TypedDict declares, inherited ones included."""
    required: frozenset[str] = getattr(typed_dict, "__required_keys__", frozenset())
    optional: frozenset[str] = getattr(typed_dict, "__optional_keys__", frozenset())
    return required | optional


__all__ = [
    "API_KEY_LOCATIONS",
    "AUTH_CONFIGS",
    "AUTH_TYPES",
    "COLUMN_DATA_TYPES",
    "CONTRACT_ENTITIES",
    "CONTRACT_MODES",
    "HTTP_METHODS",
    "INCREMENTAL_PLACEHOLDERS",
    "PAGINATOR_CONFIGS",
    "PAGINATOR_TYPES",
    "REFUSED_KEYS",
    "RENAMED_PAGINATORS",
    "WRITE_DISPOSITIONS",
    "ApiKeyAuthConfig",
    "ApiKeyLocation",
    "AuthConfig",
    "AuthConfigDict",
    "AuthType",
    "AutoPaginatorConfig",
    "BearerAuthConfig",
    "ClientConfig",
    "ColumnDataType",
    "ColumnHints",
    "ContractEntity",
    "ContractMode",
    "CursorPaginatorConfig",
    "EndpointConfig",
    "ErrorHandlerConfig",
    "HTTPMethod",
    "HeaderCursorPaginatorConfig",
    "HeaderLinkPaginatorConfig",
    "HttpBasicAuthConfig",
    "IncrementalConfig",
    "IncrementalParamConfig",
    "JSONLinkPaginatorConfig",
    "Minimum",
    "OAuth2AuthConfig",
    "OAuth2ClientAuth",
    "OAuth2ClientCredentialsConfig",
    "OffsetPaginatorConfig",
    "PageNumberPaginatorConfig",
    "PaginatorConfig",
    "PaginatorConfigDict",
    "PaginatorObject",
    "PaginatorType",
    "ProcessingStep",
    "RESTAPIConfig",
    "ResolveParamConfig",
    "ResourceBase",
    "ResourceConfig",
    "ResourceDefaults",
    "ResponseAction",
    "ResponseActionConfig",
    "SinglePagePaginatorConfig",
    "WriteDisposition",
    "WriteDispositionConfig",
    "keys_of",
]

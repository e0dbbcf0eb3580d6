"""`restsync init URL`: write a ready-to-run, commented YAML config for a live endpoint.

The data selector, paginator, primary key and incremental cursor come from what the endpoint
serves, and the paginator is proven by walking a few pages with the written config (records
must not repeat) before it is written. `restsync init --openapi SPEC` is in
`restsync.cli.init_openapi`; both write a `Written` config (defined here).

Secrets are written as `${secrets.NAME}` references, never as values.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlsplit, urlunsplit

import yaml

from restsync.errors import ConfigError, Problem

AUTH_TYPES = ("bearer", "api_key", "basic")
#: Query parameters of a URL that are pagination, not filters (left out of `params`).
PAGING_PARAMS = {"page", "per_page", "page_size", "pagesize", "limit", "offset", "cursor", "after"}


@dataclass
class Written:
    """A config `init` wrote: the resources' dicts, the client dict and what it found out."""

    client: dict[str, Any]
    resources: list[dict[str, Any]]
    notes: dict[str, list[str]] = field(default_factory=dict)  # resource -> comment lines
    header: list[str] = field(default_factory=list)

    def yaml(self) -> str:
        """The config as commented YAML that `restsync run` reads unchanged."""
        out = [f"# {line}" if line else "#" for line in self.header]
        out.append(_dump({"client": self.client}).rstrip())
        out.append("resources:")
        for resource in self.resources:
            out.extend(f"  # {line}" for line in self.notes.get(resource["name"], []))
            block = _dump([resource]).rstrip().splitlines()
            out.extend(f"  {line}" for line in block)
        return "\n".join(out) + "\n"


def _dump(value: Any) -> str:
    return yaml.safe_dump(value, sort_keys=False, default_flow_style=False, width=100)


def auth_config(spec: str | None) -> tuple[dict[str, Any] | None, list[str]]:
    """`--auth TYPE[:SECRET[,SECRET]]` as an auth dict with secret references, and its secrets.

    bearer:NAME (default `api_token`), api_key:NAME[@header:X-Api-Key|@query:api_key]
    (default `api_key`, header `X-API-Key`), basic:USER_SECRET,PASSWORD_SECRET (default
    `username`, `password`). NAME is the secret's name (looked up as `restsync.secrets`
    does); its value is never written.
    """
    if not spec:
        return None, []
    kind, _, rest = spec.partition(":")
    if kind not in AUTH_TYPES:
        raise ConfigError(
            Problem("--auth", f"unknown auth '{kind}'; use one of {', '.join(AUTH_TYPES)}")
        )
    if kind == "bearer":
        name = rest or "api_token"
        return {"type": "bearer", "token": f"${{secrets.{name}}}"}, [name]
    if kind == "api_key":
        name, _, where = rest.partition("@")
        name = name or "api_key"
        location, _, param = where.partition(":")
        location = location or "header"
        if location not in ("header", "query"):
            raise ConfigError(Problem("--auth", "api_key goes in a 'header' or a 'query'"))
        param = param or ("X-API-Key" if location == "header" else "api_key")
        return {
            "type": "api_key",
            "name": param,
            "api_key": f"${{secrets.{name}}}",
            "location": location,
        }, [name]
    user, _, password = rest.partition(",")
    user, password = user or "username", password or "password"
    return {
        "type": "http_basic",
        "username": f"${{secrets.{user}}}",
        "password": f"${{secrets.{password}}}",
    }, [user, password]


def paginator_config(paginator: Any) -> dict[str, Any]:
    """A detected paginator as the config dict that builds the same one."""
    kind = str(getattr(paginator, "type_name", ""))
    if kind == "json_link":
        return {"type": "json_link", "next_url_path": paginator.next_url_path}
    if kind == "header_link":
        return {"type": "header_link"}
    if kind == "cursor":
        return {
            "type": "cursor",
            "cursor_path": paginator.cursor_path,
            "cursor_param": paginator.cursor_param,
        }
    if kind == "page_number":
        out: dict[str, Any] = {"type": "page_number", "base_page": paginator.base_page}
        out["page_param"] = paginator.page_param
        if isinstance(paginator.total_path, str):
            out["total_path"] = paginator.total_path
        return out
    if kind == "offset":
        return {"type": "offset", "limit": paginator.limit}
    return {"type": "single_page"}


# ---------------------------------------------------------------- init URL


def init_from_url(
    url: str,
    *,
    auth: str | None = None,
    name: str | None = None,
    pages: int = 3,
    transport: Any = None,
) -> Written:
    """Probe `url` and write its config (see the module docstring)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigError(Problem("URL", f"'{url}' is not an http(s) URL"))
    base_url = urlunsplit((parts.scheme, parts.netloc, "", "", ""))
    params = dict(parse_qsl(parts.query))
    resource = name or resource_name(parts.path)
    auth_dict, secret_names = auth_config(auth)
    endpoint = _url_endpoint(parts.path, params)
    client: dict[str, Any] = {"base_url": base_url}
    if auth_dict:
        client["auth"] = auth_dict
    findings, paginator = asyncio.run(
        _first_page(client, {"name": resource, "endpoint": dict(endpoint)}, transport)
    )
    if findings.data_selector:
        endpoint["data_selector"] = findings.data_selector
    candidates = _paginator_candidates(paginator, findings, params)
    proven, notes = _prove_paginator(
        url, client, resource, endpoint, candidates, pages, transport, findings.told_total
    )
    endpoint["paginator"] = proven
    body, lines = _resource_body(resource, findings, endpoint)
    written = Written(client, [body], {resource: notes + lines})
    written.header = header_lines(f"restsync init {url}", secret_names)
    return written


def _url_endpoint(path: str, params: Mapping[str, str]) -> dict[str, Any]:
    """The endpoint of a collection URL's path, with its query parameters that are filters."""
    endpoint: dict[str, Any] = {"path": path or "/"}
    kept = {k: v for k, v in params.items() if k.lower() not in PAGING_PARAMS}
    if kept:
        endpoint["params"] = kept
    return endpoint


def _paginator_candidates(
    paginator: Any, findings: Any, params: Mapping[str, str]
) -> list[dict[str, Any]]:
    """The paginators to try, in order: the detected one, one per next-page URL in the body,
    the URL's own paging parameters, and guesses when the API says it has more records than
    the page; the first of each type (each next-URL path)."""
    said = findings.told_total
    candidates = [paginator_config(paginator), *_next_url_candidates(findings.body)]
    size = findings.records or 1
    for key, value in params.items():  # the URL's own paging parameters
        if key.lower() == "offset" and "limit" in params:
            candidates.append({"type": "offset", "limit": int(params["limit"])})
        if key.lower() == "page":
            candidates.append({"type": "page_number", "base_page": int(value or 1)})
    if said is not None and said > findings.records:  # more records than the page: guesses
        candidates.append({"type": "page_number", "base_page": 1, "total_path": None})
        candidates.append({"type": "offset", "limit": size, "total_path": None})
    unique: list[dict[str, Any]] = []
    for candidate in candidates:
        kind = (candidate["type"], candidate.get("next_url_path"))
        if all((c["type"], c.get("next_url_path")) != kind for c in unique):
            unique.append(candidate)
    return unique


def _prove_paginator(
    url: str,
    client: dict[str, Any],
    resource: str,
    endpoint: dict[str, Any],
    candidates: list[dict[str, Any]],
    pages: int,
    transport: Any,
    said: int | None,
) -> tuple[dict[str, Any], list[str]]:
    """The first candidate that walks `pages` pages without repeating records, and a note on
    each one tried; a `ConfigError` when none does."""
    notes: list[str] = []
    for candidate in candidates:
        tried = {"name": resource, "endpoint": {**endpoint, "paginator": candidate}}
        walked = asyncio.run(_walk(client, tried, pages, transport, said))
        if walked.ok:
            notes.append(f"paginator: {candidate['type']}, {walked.text}")
            return candidate, notes
        notes.append(f"paginator {candidate['type']} refused: {walked.text}")
    raise ConfigError(
        Problem(
            "URL",
            f"no paginator walks {url} without repeating records ({'; '.join(notes)}); "
            "write the paginator yourself (see `restsync check --probe`)",
        )
    )


def _resource_body(
    resource: str, findings: Any, endpoint: dict[str, Any]
) -> tuple[dict[str, Any], list[str]]:
    """The resource's config (primary key and merge, an incremental cursor on the endpoint
    when a modification time is found) and the note lines saying why."""
    body: dict[str, Any] = {"name": resource}
    notes = [f"data_selector: {findings.data_selector or 'the body itself'}"]
    if findings.primary_key:
        body["primary_key"] = findings.primary_key[0]
        body["write_disposition"] = "merge"
        notes.append(f"primary_key: {findings.primary_key[0]} (unique in every page walked)")
    else:
        notes.append("no primary key found: rows are appended")
    modified = [(n, why) for n, why in findings.cursors if "modification" in why]
    if modified and findings.primary_key:
        endpoint = {**endpoint, "incremental": {"cursor_path": modified[0][0]}}
        notes.append(
            f"incremental cursor: {modified[0][0]} ({modified[0][1]}); restsync keeps only "
            "records at or after the last value it loaded"
        )
    body["endpoint"] = endpoint
    return body, notes


def _next_url_candidates(body: Any) -> list[dict[str, Any]]:
    """A json_link paginator for each next-page URL the body holds (another reading than
    auto-detection's first match: e.g. a token at `next` and the URL at `next_url`)."""
    from restsync.paginate._auto import NEXT_URL_PATHS
    from restsync.paginate._cursor import looks_like_url
    from restsync.util.paths import find_first

    out: list[dict[str, Any]] = []
    for path in NEXT_URL_PATHS if isinstance(body, Mapping) else ():
        node = find_first(body, path)
        if isinstance(node, str) and looks_like_url(node):
            out.append({"type": "json_link", "next_url_path": path})
    return out


def resource_name(path: str) -> str:
    parts = [p for p in path.split("/") if p and not p.startswith("{")]
    raw = parts[-1] if parts else "records"
    raw = raw.rsplit(".", 1)[0] if raw.endswith(".json") else raw
    return re.sub(r"[^0-9a-zA-Z_]+", "_", raw).strip("_").lower() or "records"


def header_lines(command: str, secret_names: list[str]) -> list[str]:
    lines = [f"Written by `{command}`.", ""]
    lines.append("The authoring loop:")
    lines.append(
        "  restsync check THIS_FILE --probe   # what restsync decides from page 1, and why"
    )
    lines.append("  restsync run THIS_FILE             # load it (DuckDB: ./<file name>.duckdb)")
    lines.append("  restsync show --pipeline <file name>")
    if secret_names:
        names = ", ".join(secret_names)
        envs = ", ".join(n.upper().replace(".", "__") for n in secret_names)
        lines.append("")
        lines.append(
            f"Secrets ({names}) are looked up at run time: env {envs}, or .restsync/secrets.toml."
        )
    return lines


async def _first_page(client: dict[str, Any], resource: dict[str, Any], transport: Any) -> Any:
    from restsync.cli.probe import explain_page
    from restsync.config._files import resolve_secret_refs
    from restsync.config._secrets import secrets
    from restsync.extract._source import rest_api_source

    config = resolve_secret_refs({"client": client, "resources": [resource]}, secrets)
    source = rest_api_source(config, name="init")
    plan = source.plans[0]
    async with _Client(source, transport) as (ex, send):
        request = ex.first_request(plan)
        paginator = ex.paginator_for(plan)
        paginator.init_request(request)
        body, records = await send(plan, request, False)
        paginator.update_state(*body, records)
        findings = explain_page(
            body=body[1],
            records=records,
            paginator=paginator,
            configured_paginator=None,
            configured_selector=None,
            plan=plan,
        )
    return findings, getattr(paginator, "delegate", None) or paginator


@dataclass
class Walk:
    ok: bool
    text: str


async def _walk(
    client: dict[str, Any],
    resource: dict[str, Any],
    pages: int,
    transport: Any,
    said: int | None = None,
) -> Walk:
    """Read up to `pages` pages with the resource's paginator; records must not repeat, and
    a walk that ends must have read the records the API said it has (`said`)."""
    from restsync.config._files import resolve_secret_refs
    from restsync.config._secrets import secrets
    from restsync.errors import RestsyncError
    from restsync.extract._source import rest_api_source

    config = resolve_secret_refs({"client": client, "resources": [resource]}, secrets)
    source = rest_api_source(config, name="init")
    plan = source.plans[0]
    seen: set[bytes] = set()
    read = 0
    async with _Client(source, transport) as (ex, send):
        request = ex.first_request(plan)
        paginator = ex.paginator_for(plan)
        paginator.init_request(request)
        follow_up = False
        try:
            for index in range(pages):
                response_body, records = await send(plan, request, follow_up)
                paginator.update_state(*response_body, records)
                import orjson

                keys = {orjson.dumps(r, option=orjson.OPT_SORT_KEYS) for r in records}
                if keys & seen:
                    return Walk(False, f"page {index + 1} repeats records of an earlier page")
                seen |= keys
                read += 1
                if not paginator.has_next_page:
                    if said is not None and len(seen) < said:
                        return Walk(
                            False,
                            f"it stops after {read} page(s) with {len(seen)} records, the API "
                            f"says {said}",
                        )
                    return Walk(True, f"proven: walked every page ({read}, {len(seen)} records)")
                paginator.update_request(request)
                follow_up = bool(getattr(paginator, "next_url_is_follow_up", False))
        except RestsyncError as exc:
            return Walk(False, str(exc).splitlines()[0])
    return Walk(True, f"proven: walked {read} pages, {len(seen)} records, none repeated")


def _ignore(page: Any) -> None:
    """Pages read by `init` go nowhere."""


class _Client:
    """A `SourceClient` and an `Extractor` for `source`, as a run builds them."""

    def __init__(self, source: Any, transport: Any) -> None:
        self.source = source
        self.transport = transport

    async def __aenter__(self) -> Any:
        from restsync.extract._engine import Extractor
        from restsync.extract._pages import PageStep
        from restsync.extract._source import build_client

        cc = self.source.client_config
        self.client = build_client(cc, transport=self.transport)
        client = await self.client.__aenter__()
        ex = Extractor(self.source.plans, client, client_config=cc, state={}, on_page=_ignore)

        async def send(plan: Any, request: Any, follow_up: bool) -> Any:
            response = await ex.send(plan, request, follow_up=follow_up)
            if response is None:
                raise ConfigError(Problem("URL", "a response action ignored the response"))
            reading = PageStep(plan).read(response)
            return (response, reading.body), reading.records

        return ex, send

    async def __aexit__(self, *exc: object) -> None:
        await self.client.__aexit__(None, None, None)


# ---------------------------------------------------------------- init --openapi

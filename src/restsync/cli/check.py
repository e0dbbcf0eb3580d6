"""`restsync check`: the resolved plan of a source, and an optional probe of page 1."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

from restsync.http._redact import MASK, redact_text


def _auth_text(auth: Any) -> str:
    """The auth scheme and how its credentials travel, as the auth itself describes them."""
    from restsync.auth import build_auth

    built = build_auth(auth)
    if built is None:
        return "none"
    kind = auth.get("type", "bearer") if isinstance(auth, Mapping) else type(built).__name__
    how = built.describe() if hasattr(built, "describe") else type(built).__name__
    return f"{kind}: {how} (values {MASK})"


def describe(source: Any) -> str:
    """One block per resource: URL, auth (masked), paginator, selector, disposition, keys."""
    from restsync.paginate import build_paginator

    cc = source.client_config
    base = str(cc.get("base_url") or "")
    lines = [
        f"source '{source.name}': {len(source.plans)} resources, base_url {base}",
        f"  auth: {_auth_text(cc.get('auth'))}",
    ]
    for p in source.plans:
        ep = p.endpoint
        pag_cfg = ep.get("paginator", cc.get("paginator"))
        try:
            pag = build_paginator(pag_cfg)
            pag_text = pag.describe() if hasattr(pag, "describe") else type(pag).__name__
        except Exception as exc:  # describe what we can even for a bad paginator
            pag_text = f"invalid ({exc})"
        keys = ",".join(p.primary_key) or "-"
        parent = f", child of '{p.parent}'" if p.parent else ""
        lines.append(f"- {p.name}{'' if p.selected else ' (not selected)'}{parent}")
        lines.append(f"    {str(ep.get('method') or 'GET').upper()} {ep.get('path')}")
        lines.append(f"    paginator: {pag_text}")
        lines.append(f"    data_selector: {ep.get('data_selector') or '(auto)'}")
        lines.append(
            f"    table: {p.table_name}, write_disposition: {p.write_disposition}, "
            f"primary_key: {keys}"
        )
        if p.incremental:
            inc = p.incremental
            lines.append(
                f"    incremental: cursor_path {inc.get('cursor_path')}, start_param "
                f"{inc.get('start_param') or '-'}, initial_value {inc.get('initial_value')}"
            )
    return redact_text("\n".join(lines))


def run_probe(source: Any, transport: Any = None) -> tuple[str, bool]:
    """Fetch page 1 of every resource (a child's for its parent's first record) and say what
    restsync decided from it and why (`restsync.cli.probe.explain_page`).

    The client, the first request, the paginator and the page step are the run's own
    (`build_client`, `Extractor.first_request`, `Extractor.paginator_for`, `PageStep`)."""

    async def probe() -> list[str]:
        from restsync.extract._engine import Extractor
        from restsync.extract._source import build_client

        cc = source.client_config
        out: list[str] = []
        first_record: dict[str, tuple[Mapping[str, Any], str]] = {}
        async with build_client(cc, transport=transport) as client:
            ex = Extractor(source.plans, client, client_config=cc, state={}, on_page=lambda p: None)
            for p in source.plans:
                found = first_record.get(p.parent) if p.parent else None
                if p.parent and found is None:
                    out.append(f"- {p.name}: skipped (its parent '{p.parent}' gave no record)")
                    continue
                try:
                    out.extend(await _probe_page(ex, p, found, first_record))
                except Exception as exc:
                    out.append(f"- {p.name}: FAILED {exc}")
        return out

    lines = asyncio.run(probe())
    ok = not any("FAILED" in line or "mismatch" in line for line in lines)
    return redact_text("probe:\n" + "\n".join(lines)), ok


async def _probe_page(
    ex: Any,
    plan: Any,
    parent: tuple[Mapping[str, Any], str] | None,
    first_record: dict[str, tuple[Mapping[str, Any], str]],
) -> list[str]:
    """Page 1 of `plan` (for a child: of the parent's first record), read by the page step
    a run reads it with, and what it says; its first record kept for the children."""
    from restsync.cli.probe import explain_page
    from restsync.extract._bind import check_parent, parent_fields
    from restsync.extract._pages import PageStep

    parent_record = None
    if parent is not None:
        parent_record, parent_url = parent
        check_parent(plan, parent_fields(plan), parent_record, parent_url)
    request = ex.first_request(plan, parent_record)
    paginator = ex.paginator_for(plan)
    paginator.init_request(request)
    response = await ex.send(plan, request)
    if response is None:
        return [f"- {plan.name}: response ignored by response_actions"]
    step = PageStep(plan)
    reading = step.read(response)
    paginator.update_state(response, reading.body, reading.records)
    loaded = step.process(list(reading.records), url=reading.url, parent_record=parent_record)
    found = explain_page(
        body=reading.body,
        records=reading.records,
        paginator=paginator,
        configured_paginator=plan.endpoint.get("paginator", ex.client_config.get("paginator")),
        configured_selector=step.selector,
        plan=plan,
        loaded=loaded,
    )
    rows = step.parent_rows(loaded)
    if rows:
        first_record[plan.name] = (rows[0], reading.url)
    more = "more pages" if found.more_pages else "last page"
    fields = found.fields
    of = f" (for the first record of '{plan.parent}')" if plan.parent else ""
    return [
        f"- {plan.name}: {len(reading.records)} records on page 1{of} ({more}); "
        f"fields: {', '.join(fields[:25])}{' ...' if len(fields) > 25 else ''}",
        f"    GET {reading.url} -> {response.status_code}",
        *(f"    {line}" for line in found.lines()),
    ]

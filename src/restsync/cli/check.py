"""`restsync check`: the resolved plan of a source, and an optional probe of page 1."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

from restsync.http.redact import MASK, redact_text


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
    restsync decided from it and why (`restsync.cli.probe.explain_page`)."""

    async def probe() -> list[str]:
        from restsync.auth import build_auth
        from restsync.cli.probe import explain_page
        from restsync.extract.engine import Extractor, decode_body
        from restsync.extract.select import select_records
        from restsync.http.client import SourceClient
        from restsync.http.redact import redact_url
        from restsync.http.retry import RetryPolicy

        cc = source.client_config
        out: list[str] = []
        first_record: dict[str, Mapping[str, Any]] = {}
        async with SourceClient(
            cc.get("base_url") or "",
            auth=build_auth(cc.get("auth")),
            headers=cc.get("headers"),
            transport=transport,
        ) as client:
            ex = Extractor(source.plans, client, client_config=cc, state={}, on_page=lambda p: None)
            for p in source.plans:
                parent_record = first_record.get(p.parent) if p.parent else None
                if p.parent and parent_record is None:
                    out.append(f"- {p.name}: skipped (its parent '{p.parent}' gave no record)")
                    continue
                try:
                    req = ex.first_request(p, parent_record)
                    pag = ex.paginator_for(p)
                    pag.init_request(req)
                    resp = await client.send(
                        req,
                        resource=p.name,
                        policy=RetryPolicy.from_config(p.endpoint.get("error_handler")),
                        follow_up=False,
                        auth=p.endpoint.get("auth"),
                    )
                    if resp is None:
                        out.append(f"- {p.name}: response ignored by response_actions")
                        continue
                    url = redact_url(str(resp.request.url))
                    body, _exact = decode_body(resp, resource=p.name, url=url)
                    selector = p.endpoint.get("data_selector")
                    records = select_records(body, selector, resource=p.name, url=url)
                    pag.update_state(resp, body, records)
                    found = explain_page(
                        body=body,
                        records=records,
                        paginator=pag,
                        configured_paginator=p.endpoint.get("paginator", cc.get("paginator")),
                        configured_selector=selector,
                        plan=p,
                    )
                    rows = [r for r in records if isinstance(r, Mapping)]
                    if rows:
                        first_record[p.name] = rows[0]
                    more = "more pages" if found.more_pages else "last page"
                    fields = found.fields
                    of = f" (for the first record of '{p.parent}')" if p.parent else ""
                    out.append(
                        f"- {p.name}: {len(records)} records on page 1{of} ({more}); "
                        f"fields: {', '.join(fields[:25])}{' ...' if len(fields) > 25 else ''}"
                    )
                    out.append(f"    GET {url} -> {resp.status_code}")
                    out.extend(f"    {line}" for line in found.lines())
                except Exception as exc:
                    out.append(f"- {p.name}: FAILED {exc}")
        return out

    lines = asyncio.run(probe())
    ok = not any("FAILED" in line or "mismatch" in line for line in lines)
    return redact_text("probe:\n" + "\n".join(lines)), ok

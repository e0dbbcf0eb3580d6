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
    """Fetch page 1 of every resource without a parent; report counts, fields and mismatches."""

    async def probe() -> list[str]:
        from restsync.auth import build_auth
        from restsync.extract.engine import Extractor
        from restsync.extract.select import select_records
        from restsync.http.body import decode_json as _decode
        from restsync.http.client import SourceClient
        from restsync.http.redact import redact_url
        from restsync.http.retry import RetryPolicy

        cc = source.client_config
        out: list[str] = []
        async with SourceClient(
            cc.get("base_url") or "",
            auth=build_auth(cc.get("auth")),
            headers=cc.get("headers"),
            transport=transport,
        ) as client:
            ex = Extractor(source.plans, client, client_config=cc, state={}, on_page=lambda p: None)
            for p in source.plans:
                if p.parent:
                    out.append(f"- {p.name}: skipped (child of '{p.parent}')")
                    continue
                try:
                    req = ex._first_request(p, None)
                    pag = ex._paginator(p)
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
                    body, _exact = _decode(resp, resource=p.name, url=url)
                    records = select_records(
                        body, p.endpoint.get("data_selector"), resource=p.name, url=url
                    )
                    pag.update_state(resp, body, records)
                    fields = sorted({k for r in records if isinstance(r, Mapping) for k in r})
                    more = "more pages" if pag.has_next_page else "last page"
                    out.append(
                        f"- {p.name}: {len(records)} records on page 1 ({more}); "
                        f"fields: {', '.join(fields[:25])}{' ...' if len(fields) > 25 else ''}"
                    )
                    missing = [
                        k
                        for k in p.primary_key
                        if records and any(isinstance(r, Mapping) and k not in r for r in records)
                    ]
                    if missing:
                        out.append(
                            f"    mismatch: primary_key {', '.join(missing)} missing in "
                            f"some records; fields seen: {', '.join(fields[:10])}"
                        )
                except Exception as exc:
                    out.append(f"- {p.name}: FAILED {exc}")
        return out

    lines = asyncio.run(probe())
    ok = not any("FAILED" in line or "mismatch" in line for line in lines)
    return redact_text("probe:\n" + "\n".join(lines)), ok

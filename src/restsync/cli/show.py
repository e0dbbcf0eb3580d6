"""`restsync show`: tables, row counts, last loads and incremental state."""

from __future__ import annotations

import yaml

from restsync.destinations.base import DestinationInfo


def show_pipeline(name: str, destination: str, dataset: str, *, schema: bool = False) -> str:
    """A text report of what the destination holds for pipeline `name`.

    Works for every destination (`Destination.show()`); the destination is printed with its
    password masked.
    """
    from restsync.pipeline import pipeline

    pipe = pipeline(name, destination=destination, dataset_name=dataset)
    dest = pipe.destination()
    dest.open()
    try:
        info: DestinationInfo = dest.show()
    finally:
        dest.close()
    return format_info(name, pipe._display_destination(), info, schema=schema)


def format_info(name: str, where: str, info: DestinationInfo, *, schema: bool = False) -> str:
    """`info` as the text `restsync show` prints (`where`: the destination, password masked)."""
    lines = [f"pipeline '{name}', dataset '{info.dataset}' at {where} ({info.destination})"]
    lines.append("tables:")
    if not info.tables:
        lines.append("  (none)")
    for t in info.tables:
        lines.append(f"  {t.name:40} {t.rows:>10} rows")
    lines.append("last loads:")
    if not info.loads:
        lines.append("  (none)")
    for load in info.loads[:10]:
        rows = load.get("rows") or {}
        total = 0
        if isinstance(rows, dict):
            for v in rows.values():
                if isinstance(v, dict):
                    total += int(v.get("inserted", 0)) + int(v.get("updated", 0))
        lines.append(
            f"  {load.get('load_id')}  {load.get('pipeline', '')}  {load.get('status', '')}  "
            f"{load.get('finished_at', '') or ''}  {total} rows written"
        )
    lines.append("incremental state:")
    resources = info.state.get(name, {})
    if not resources:
        lines.append("  (none)")
    for resource, st in sorted(resources.items()):
        lines.append(f"  {resource:30} cursor {st.get('cursor_path')} = {st.get('last_value')!s}")
    others = sorted(p for p in info.state if p != name)
    if others:
        lines.append(f"  (state of other pipelines in this dataset: {', '.join(others)})")
    if schema and info.schema is not None:
        lines.append("schema:")
        lines.append(yaml.safe_dump(info.schema.to_dict(), sort_keys=False))
    return "\n".join(lines)

"""`restsync show`: tables, row counts, last loads and incremental state."""

from __future__ import annotations

from typing import Any

import yaml


def show_pipeline(name: str, destination: str, dataset: str, *, schema: bool = False) -> str:
    """A text report of what the destination holds for pipeline `name`."""
    from restsync.pipeline import pipeline

    pipe = pipeline(name, destination=destination, dataset_name=dataset)
    dest = pipe.destination()
    dest.open()
    try:
        data: dict[str, Any] = dest.show()
        stored = dest.stored_schema() if schema else None
    finally:
        dest.close()
    lines = [f"pipeline '{name}', dataset '{dataset}' at {pipe._display_destination()}"]
    lines.append("tables:")
    for t in data.get("tables", []):
        lines.append(f"  {t['name']:40} {t['rows']:>10} rows")
    lines.append("last loads:")
    for load in data.get("loads", [])[:10]:
        lines.append(
            f"  {load.get('load_id')}  {load.get('status', '')}  "
            f"{load.get('finished_at', '') or load.get('stored_at', '')}"
        )
    lines.append("incremental state:")
    states = data.get("state", [])
    if not states:
        lines.append("  (none)")
    for s in states:
        st = s.get("state") or {}
        lines.append(
            f"  {s.get('resource'):30} cursor {st.get('cursor_path')} = "
            f"{st.get('last_value')!s:32} stored {s.get('stored_at')}"
        )
    if schema and stored is not None:
        lines.append("schema:")
        lines.append(yaml.safe_dump(stored.to_dict(), sort_keys=False))
    return "\n".join(lines)

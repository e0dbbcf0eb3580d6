"""`restsync show`: tables, row counts, last loads and incremental state.

`show` only reads: a database file or folder that does not exist is an error, never created.
Without a pipeline it lists the datasets and pipelines the destination holds (and shows the
one there is); an unknown pipeline or dataset is an error listing those that exist.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from restsync.errors import ConfigError
from restsync.load import Destination, DestinationInfo


@dataclass
class Found:
    """A restsync dataset in a destination and the pipelines that loaded into it."""

    dataset: str
    pipelines: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        names = ", ".join(f"'{p}'" for p in self.pipelines) or "(no pipeline)"
        return f"dataset '{self.dataset}': pipeline {names}"


class ShowError(ConfigError):
    """What `show` was asked for is not there (nothing was created)."""


def _opened(url: str, pipeline_name: str) -> Any:
    """The destination at `url`, opened; an error when it does not exist (never created)."""
    from restsync.pipeline import pipeline

    dest = pipeline(pipeline_name, destination=url, dataset_name="_").destination()
    kind = getattr(dest, "name", "")
    if kind == "duckdb" and not Path(dest.path).is_file():
        raise ShowError(f"no database file {dest.path}{_elsewhere(Path(dest.path).parent)}")
    if kind == "parquet" and not Path(dest.path).is_dir():
        raise ShowError(f"no folder {dest.path}")
    if kind != "parquet":
        dest.open()
    return dest


def _elsewhere(folder: Path) -> str:
    found = in_folder(folder)
    if not found:
        return ""
    return "; found there: " + "; ".join(f"{f} in {file.name}" for file, f in found)


def in_folder(folder: Path) -> list[tuple[Path, Found]]:
    """The restsync datasets of the DuckDB files in `folder` (read only, nothing created)."""
    from restsync.destinations import DuckDBDestination

    out: list[tuple[Path, Found]] = []
    for file in sorted(folder.glob("*.duckdb")) if folder.is_dir() else []:
        datasets = DuckDBDestination.datasets_in_file(file)
        if datasets is None:  # held by a run, or not a DuckDB file: named without datasets
            out.append((file, Found("?")))
            continue
        out.extend((file, Found(d, p)) for d, p in datasets.items())
    return out


def discover(dest: Destination) -> list[Found]:
    """The restsync datasets in an open destination, each with its pipelines."""
    return [Found(dataset, pipelines) for dataset, pipelines in dest.datasets().items()]


def choose(found: list[Found], pipeline: str | None, dataset: str | None) -> Found | None:
    """The dataset to show (None: list them); `ShowError` for one that is not there."""
    listing = "; ".join(str(f) for f in found) or "none (no restsync load here yet)"
    if dataset is not None:
        match = [f for f in found if f.dataset == dataset]
        if not match:
            raise ShowError(f"no dataset '{dataset}' here; found: {listing}")
        if pipeline is not None and pipeline not in match[0].pipelines:
            raise ShowError(f"no pipeline '{pipeline}' in dataset '{dataset}'; found: {listing}")
        return match[0]
    if pipeline is not None:
        match = [f for f in found if pipeline in f.pipelines]
        if not match:
            raise ShowError(f"no pipeline '{pipeline}' here; found: {listing}")
        if len(match) > 1:
            names = ", ".join(f"'{f.dataset}'" for f in match)
            raise ShowError(f"pipeline '{pipeline}' loaded datasets {names}: say --dataset")
        return match[0]
    return found[0] if len(found) == 1 else None


def show(
    pipeline: str | None,
    url: str,
    dataset: str | None,
    *,
    schema: bool = False,
) -> str:
    """The text `restsync show` prints for `url` (see the module docstring)."""
    from restsync.util.redact import redact_url

    dest = _opened(url, pipeline or "restsync")
    where = redact_url(url)
    try:
        found = discover(dest)
    finally:
        dest.close()
    chosen = choose(found, pipeline, dataset)
    if chosen is None:
        lines = [f"{where}: {len(found)} datasets" if found else f"{where}: no restsync dataset"]
        lines.extend(f"  {f}" for f in found)
        if found:
            lines.append("show one with --pipeline NAME (or --dataset NAME)")
        return "\n".join(lines)
    name = pipeline or (chosen.pipelines[0] if len(chosen.pipelines) == 1 else "")
    return show_pipeline(name, url, chosen.dataset, schema=schema)


def show_pipeline(name: str, destination: str, dataset: str, *, schema: bool = False) -> str:
    """A text report of what the destination holds for pipeline `name`.

    Works for every destination (`Destination.show()`); the destination is printed with its
    password masked.
    """
    from restsync.pipeline import pipeline

    pipe = pipeline(name or "restsync", destination=destination, dataset_name=dataset)
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

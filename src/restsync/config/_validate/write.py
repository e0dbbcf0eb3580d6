"""How a resource writes: write_disposition, columns, schema_contract, the tables it writes,
and what restsync cannot honour in them (`write_problems`)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from restsync.config._dialect import (
    COLUMN_DATA_TYPES,
    CONTRACT_ENTITIES,
    CONTRACT_MODES,
    MERGE_STRATEGIES,
    REFUSED_KEYS,
    REPLACE_STRATEGIES,
    WRITE_DISPOSITIONS,
    ColumnHints,
    WriteDispositionConfig,
    keys_of,
)
from restsync.config._validate.base import _Base
from restsync.config._validate.messages import _at, _kind, _or, _quoted
from restsync.config._write import SCD2_KEYS, WriteSettings, write_settings
from restsync.errors import Problem
from restsync.util.naming import PATH_SEPARATOR, normalize_path, shorten_identifier

#: Table names restsync keeps for itself (and dlt's, so a dataset can be shared with dlt).
RESERVED_TABLE_PREFIXES: tuple[str, ...] = ("_restsync_", "_dlt_")
_COLUMN_UNSUPPORTED = REFUSED_KEYS["column"]
_COLUMN_TYPE_HINTS = {
    "wei": "data type 'wei' is not supported by restsync; use 'decimal' with precision and scale",
    "binary": "data type 'binary' is not supported by restsync; use 'text'",
    "time": "data type 'time' is not supported by restsync; use 'text'",
}


def _well_formed(resource: Mapping[str, Any]) -> bool:
    """Whether the keys and the disposition have the shapes `write_settings` reads."""
    for key in ("primary_key", "merge_key"):
        value = resource.get(key)
        listed = isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value)
        if value is not None and not isinstance(value, str) and not listed:
            return False
    wd = resource.get("write_disposition", "append")
    if isinstance(wd, Mapping):
        return wd.get("disposition") in WRITE_DISPOSITIONS and (
            wd.get("strategy") is None
            or wd.get("strategy") in (*MERGE_STRATEGIES, *REPLACE_STRATEGIES)
        )
    return wd in WRITE_DISPOSITIONS


def write_problems(resource: Mapping[str, Any], path: str) -> list[Problem]:
    """What restsync cannot honour in a resource's write settings (checked before any request)."""
    problems = _table_name_problems(resource, path)
    if not _well_formed(resource):
        return problems  # the validator reports the malformed value itself
    at = f"{path}.write_disposition"
    try:
        w = write_settings(resource)
    except ValueError as exc:
        return [*problems, Problem(at, str(exc))]
    wd = resource.get("write_disposition")
    spec: Mapping[str, Any] = wd if isinstance(wd, Mapping) else {}
    problems += _scd2_only_key_problems(w, spec, at)
    problems += _hint_problems(w, path)
    if w.disposition != "merge":
        return problems
    problems += _merge_strategy_problems(w, path, at)
    if w.scd2:
        problems += _scd2_problems(w, spec, path, at)
    return problems


def _table_name_problems(resource: Mapping[str, Any], path: str) -> list[Problem]:
    if not callable(resource.get("table_name")):
        return []
    return [
        Problem(
            f"{path}.table_name",
            "a function as table_name (routing each record to the table it names) is not "
            "supported by restsync; give a table name, or split the records into "
            "resources with a processing_steps filter each",
        )
    ]


def _scd2_only_key_problems(w: WriteSettings, spec: Mapping[str, Any], at: str) -> list[Problem]:
    """The write_disposition keys of strategy 'scd2', set on another strategy."""
    if w.scd2:
        return []
    return [
        Problem(f"{at}.{key}", "applies only to strategy 'scd2'; remove it")
        for key in SCD2_KEYS
        if key in spec
    ]


def _hint_problems(w: WriteSettings, path: str) -> list[Problem]:
    """The hard_delete and dedup_sort column hints, which need merge (dedup_sort: a key too)."""
    problems = [
        Problem(
            f"{path}.columns",
            f"the {hint} hint applies to write_disposition 'merge' only (as in dlt); "
            "remove it or use merge",
        )
        for hint in ("hard_delete", "dedup_sort")
        if hint in w.hints and w.disposition != "merge"
    ]
    if "dedup_sort" in w.hints and w.disposition == "merge" and not w.primary_key:
        problems.append(
            Problem(
                f"{path}.columns",
                "the dedup_sort hint picks one version per primary key; it needs a "
                "primary_key (as in dlt)",
            )
        )
    return problems


def _merge_strategy_problems(w: WriteSettings, path: str, at: str) -> list[Problem]:
    """Strategies 'upsert' and 'insert-only': a primary_key and no merge_key."""
    if w.strategy not in ("upsert", "insert-only"):
        return []
    problems: list[Problem] = []
    if not w.primary_key:
        problems.append(
            Problem(
                at,
                f"merge strategy '{w.strategy}' needs a primary_key (as in dlt); add "
                "e.g. 'primary_key': 'id'",
            )
        )
    if w.merge_key:
        problems.append(
            Problem(
                f"{path}.merge_key",
                f"merge strategy '{w.strategy}' does not use a merge_key (as in dlt); "
                "remove it or use strategy 'delete-insert'",
            )
        )
    return problems


def _scd2_problems(w: WriteSettings, spec: Mapping[str, Any], path: str, at: str) -> list[Problem]:
    """Strategy 'scd2': no hard_delete hint, two validity columns, no primary_key (unless
    a row_version_column says what a version is)."""
    problems: list[Problem] = []
    if "hard_delete" in w.hints:
        problems.append(
            Problem(
                f"{path}.columns",
                "the hard_delete hint does not apply to strategy 'scd2' (a record absent "
                "from the extract is retired); remove the hint",
            )
        )
    names = spec.get("validity_column_names")
    if names is not None and not _two_column_names(names):
        problems.append(
            Problem(f"{at}.validity_column_names", "expected two column names [from, to]")
        )
    if w.primary_key and not w.hints.get("row_version_column"):
        problems.append(
            Problem(
                f"{path}.primary_key",
                "strategy 'scd2' keys its rows by a hash of their content, not by a "
                "primary_key (as in dlt); remove it, or use merge_key for the natural key",
            )
        )
    return problems


def _two_column_names(names: Any) -> bool:
    return (
        isinstance(names, (list, tuple))
        and len(names) == 2
        and all(isinstance(n, str) and n for n in names)
    )


def _is_scd2(resource: Mapping[str, Any]) -> bool:
    wd = resource.get("write_disposition")
    return isinstance(wd, Mapping) and wd.get("strategy") == "scd2"


class _WriteChecks(_Base):
    """The write settings of a resource, and the tables the resources write."""

    def write_disposition(self, path: str, value: Any) -> None:
        if isinstance(value, str):
            self.choice(path, value, WRITE_DISPOSITIONS, "write_disposition")
            return
        if not isinstance(value, Mapping):
            self.add(
                path, f"expected {_or(_quoted(WRITE_DISPOSITIONS))} or a dict, got {_kind(value)}"
            )
            return
        self.keys(path, value, keys_of(WriteDispositionConfig))
        if "disposition" not in value:
            self.add(path, f"needs a 'disposition' ({_or(_quoted(WRITE_DISPOSITIONS))})")
            return
        disposition = value["disposition"]
        if not self.choice(
            _at(path, "disposition"), disposition, WRITE_DISPOSITIONS, "write_disposition"
        ):
            return
        if "strategy" not in value:
            return
        strategy = value["strategy"]
        strategies: Sequence[str] = {"merge": MERGE_STRATEGIES, "replace": REPLACE_STRATEGIES}.get(
            disposition, ()
        )
        if not strategies:
            self.add(_at(path, "strategy"), f"'{disposition}' takes no strategy; remove it")
        else:
            self.choice(_at(path, "strategy"), strategy, strategies, f"{disposition} strategy")

    def schema_contract(self, path: str, contract: Any) -> None:
        """dlt's `schema_contract`: one mode for all, or a mode per entity."""
        if isinstance(contract, str):
            self.choice(path, contract, CONTRACT_MODES, "schema_contract mode")
            return
        if not self.mapping(path, contract, "a contract mode or a dict of entity -> mode"):
            return
        self.keys(path, contract, CONTRACT_ENTITIES)
        for entity in CONTRACT_ENTITIES:
            if entity in contract:
                self.choice(
                    _at(path, entity), contract[entity], CONTRACT_MODES, "schema_contract mode"
                )

    def columns(self, path: str, columns: Any) -> None:
        if isinstance(columns, Mapping):
            items: list[tuple[str, Any]] = [
                (_at(path, name), hints) for name, hints in columns.items()
            ]
            named = False
        elif isinstance(columns, (list, tuple)):
            items = [(_at(path, i), hints) for i, hints in enumerate(columns)]
            named = True
        else:
            self.add(path, f"expected a dict of column name -> hints, got {_kind(columns)}")
            return
        allowed = keys_of(ColumnHints)
        for hint_path, hints in items:
            if not self.mapping(hint_path, hints, "a dict of column hints"):
                continue
            self.keys(hint_path, hints, allowed, _COLUMN_UNSUPPORTED)
            if named and "name" not in hints:
                self.add(hint_path, "a column in a list needs a 'name'")
            if "name" in hints:
                self.string(_at(hint_path, "name"), hints["name"])
            if "data_type" in hints:
                data_type = hints["data_type"]
                if isinstance(data_type, str) and data_type in _COLUMN_TYPE_HINTS:
                    self.add(_at(hint_path, "data_type"), _COLUMN_TYPE_HINTS[data_type])
                else:
                    self.choice(
                        _at(hint_path, "data_type"), data_type, COLUMN_DATA_TYPES, "data type"
                    )
            self.typed(hint_path, hints, ColumnHints, skip=("name", "data_type"))

    def tables(self, resources: list[tuple[int, dict[str, Any]]]) -> None:
        """Each resource writes its own table, unless the config says to share one with an
        explicit `table_name`; no table is one restsync keeps for itself or another
        resource's child table (`items__tags` beside `items`)."""
        owners: dict[str, list[tuple[int, str, bool]]] = {}
        for i, resource in resources:
            given = resource.get("table_name")
            if callable(given):
                continue  # named per record, at run time
            raw = given if isinstance(given, str) and given else resource["name"]
            table = shorten_identifier(normalize_path(str(raw)))
            owners.setdefault(table, []).append((i, resource["name"], isinstance(given, str)))
        for table, owned in owners.items():
            i, name, _ = owned[0]
            where = _at("resources", i)
            if table.startswith(RESERVED_TABLE_PREFIXES):
                self.add(
                    where,
                    f"'{name}' would write the table '{table}', a name restsync reserves "
                    f"(tables starting with {_or(_quoted(RESERVED_TABLE_PREFIXES))}); "
                    "rename the resource or set 'table_name'",
                )
            if len(owned) > 1 and not all(explicit for _, _, explicit in owned):
                others = ", ".join(f"resources[{j}] ('{n}')" for j, n, _ in owned[1:])
                self.add(
                    where,
                    f"'{name}' and {others} would write one table, '{table}' (names are "
                    "normalized to snake_case); rename one, or give each the same "
                    "'table_name' to share the table on purpose",
                )
            parent = next(
                (t for t in owners if t != table and table.startswith(t + PATH_SEPARATOR)), None
            )
            if parent is not None:
                j, parent_name, _ = owners[parent][0]
                self.add(
                    where,
                    f"'{name}' would write the table '{table}', where resources[{j}] "
                    f"('{parent_name}') keeps its nested lists ('{parent}__<field>'); "
                    "rename the resource or set another 'table_name'",
                )

    @staticmethod
    def has_key(resource: Mapping[str, Any]) -> bool:
        if resource.get("primary_key") or resource.get("merge_key"):
            return True
        columns = resource.get("columns")
        hints: Iterable[Any] = ()
        if isinstance(columns, Mapping):
            hints = columns.values()
        elif isinstance(columns, (list, tuple)):
            hints = columns
        return any(
            isinstance(h, Mapping) and (h.get("primary_key") is True or h.get("merge_key") is True)
            for h in hints
        )

"""Name clashes: two source keys that normalize to one column name, and two origins of
lists that give one child table name (see the package docstring)."""

from __future__ import annotations

from restsync.schema._evolve import SchemaChange
from restsync.schema._model import Schema
from restsync.schema._naming import NameCollision, shorten_identifier
from restsync.schema._normalize.state import BOOKKEEPING, TableState, parent_name


class ColumnNames:
    """The column each source key is stored in, per table: the mapping stored with the
    schema first (`Table.source_keys`), so a key keeps its column in every run; a key whose
    name another key holds gets the first free `<name>_2`, `<name>_3`, ..."""

    def __init__(self, schema: Schema, changes: list[SchemaChange]) -> None:
        # (table, column) -> the raw keys it holds
        self._owners: dict[tuple[str, str], tuple[str, ...]] = {
            (t.name, c): tuple(path)
            for t in schema.tables.values()
            for c, path in t.source_keys.items()
        }
        self._new: list[tuple[str, str]] = []  # claimed, not yet in the schema
        self._changes = changes
        self.collisions: list[NameCollision] = []

    def claim(self, table: str, name: str, raw: tuple[str, ...]) -> str:
        """The column of `table` the raw key path `raw` (normalized: `name`) is stored in."""
        owners = self._owners
        key = (table, name)
        owner = owners.get(key)
        if owner is None and name not in BOOKKEEPING:
            owners[key] = raw
            self._new.append(key)
            return name
        if owner == raw:
            return name
        i = 2
        while True:
            new = shorten_identifier(f"{name}_{i}")
            o = owners.get((table, new))
            if o == raw:
                return new
            if o is None and new not in BOOKKEEPING:
                owners[(table, new)] = raw
                self._new.append((table, new))
                kept = "/".join(owner) if owner else name
                col = NameCollision(table, name, kept, "/".join(raw), new)
                self.collisions.append(col)
                self._changes.append(SchemaChange("name_collision", table, new, str(col)))
                return new
            i += 1

    def store(self, schema: Schema) -> None:
        """Record the names claimed so far in their tables' `source_keys` (a table not in
        `schema` yet keeps its claims pending)."""
        pending: list[tuple[str, str]] = []
        for key in self._new:
            table = schema.tables.get(key[0])
            if table is None:
                pending.append(key)
            else:
                table.source_keys[key[1]] = list(self._owners[key])
        self._new = pending


class TableClashes:
    """One origin per child table name: which table state owns each child table name."""

    def __init__(self, schema: Schema, changes: list[SchemaChange]) -> None:
        self._schema = schema
        self._changes = changes
        # child table name -> the table state (origin) whose rows it holds
        self._owner: dict[str, TableState] = {}

    def settle(self, states: list[TableState]) -> None:
        """The child tables a finished batch filled keep their origin in later batches."""
        for st in states:
            if st.n and st.parent is not None:
                self._owner.setdefault(st.name, st)

    def resolve(self, states: list[TableState]) -> bool:
        """Give each child table name that this batch fills to one origin (see the package
        docstring); mark the others, whose lists become JSON text. True if any was marked."""
        by_name: dict[str, list[TableState]] = {}
        for st in states:
            if st.n and st.parent is not None and not st.clash:
                by_name.setdefault(st.name, []).append(st)
        marked = False
        for name, sts in by_name.items():
            owner = self._owner.get(name)
            if owner is not None and len(sts) == 1 and sts[0] is owner:
                continue
            holder = ""
            if owner is None:
                existing = self._schema.tables.get(name)
                if existing is not None:  # stored, or made by another normalizer of the run
                    holder = f"the lists of '{existing.parent}'"
                    sts_own = [s for s in sts if parent_name(s) == existing.parent]
                else:
                    sts_own = sts
                if sts_own:
                    owner = min(sts_own, key=_precedence)
            if owner is not None:
                holder = _origin(owner)
            for s in sts:
                if s is not owner:
                    self._lose(s, holder)
                    marked = True
        return marked

    def _lose(self, st: TableState, holder: str) -> None:
        st.clash = True
        parent = parent_name(st)
        col = st.column
        detail = (
            f"{_origin(st)} would be table '{st.name}', which holds {holder}: "
            f"stored as JSON text in {parent}.{col}"
        )
        self._changes.append(SchemaChange("table_clash", parent, col, detail))


def _precedence(st: TableState) -> tuple[int, int, str]:
    """Which origin of a child table name owns it when both first appear in one batch: the
    one whose parent is fewer tables from the root, then a list directly in a list (over a
    list at a key), then the parent's name."""
    level = 0
    p = st.parent
    while p is not None:
        level += 1
        p = p.parent
    item = st.parent is not None and st.parent.list_child is st
    return (level, 0 if item else 1, parent_name(st))


def _origin(st: TableState) -> str:
    parent = parent_name(st)
    if st.parent is not None and st.parent.list_child is st:
        return f"the lists in the lists of '{parent}'"
    return f"the lists at '{parent}.{st.column}'"

"""Records -> Arrow tables in dlt's relational layout.

`Normalizer.normalize(records, load_id, seq_start)` turns one page of JSON records into one
`pyarrow.Table` per destination table touched:

* nested objects are flattened into the row with `__` (`shipping_address__city`);
* lists become child tables `<table>__<field>` (a list inside a list item gives
  `<table>__<field>__<sub>`; a list directly inside a list gives `<...>__list`), linked by
  `_dlt_parent_id` (the parent row's `_dlt_id`) and `_dlt_list_idx`; child rows of a merge
  table also carry `_dlt_root_id`; scalar list items are stored in `value`; an empty list
  gives no rows and an empty object no columns;
* objects and lists nested deeper than `max_table_nesting` levels (objects and lists both
  count; default 20) and columns hinted `json` are stored as JSON text;
* **one origin per child table name.** Names are paths, so two different lists can give
  one name: a key holding an object in one record and a list in another (`{"c": {"a": [1]}}`
  and `{"c": [{"a": [2]}]}`: the list `a` of the object `c` and the lists `a` in the items of
  `c` are both `<table>__c__a`), or a list directly in a list and a list at a key `list` in
  the items of the same list (both `<table>__c__list`). A table holds the rows of one origin
  only; the lists of the other are stored as JSON text in their column of the parent row
  (`a` of `r__c`, `c__a` of `r`, `value` for a list in a list; `<col>__v_json` when the
  column holds other types too) and a `table_clash` `SchemaChange` is reported. The owner:
  the origin that already has the table (an earlier batch of this normalizer; a table in
  the schema it started from belongs to the lists whose parent is that table's `parent`);
  between origins new in one batch, a fixed precedence, never the order of the records: the
  one whose parent is fewer tables from the root, then a list in a list over a key `list`,
  then the parent's name. A clash is found after the batch is walked; the batch is then
  walked again with the losing lists as JSON. Inputs without a clash are not affected;
* `_dlt_id` is deterministic: for root rows of a table with a primary key, a digest of the
  table name and the key values (a rerun gives the same ids); for root rows of an scd2
  table (`row_hash`), a digest of the table name and the record's content; for other root
  rows, a function of the load id, the record's ordinal `seq_start + i` (unique within a load) and
  a checksum of its content; for child rows, a function of the parent row's id, the child
  table (field path) and the list index. Ids are 14 URL-safe base64 characters;
* root rows carry `_dlt_load_id`; every row carries the staged-only `_restsync_seq` (the
  root record's ordinal), so the loader keeps the last version of a key with its children.

Speed: the record walk is plain Python with per-shape plans (the tuple of keys of an
object -> precomputed column names), so each value costs a type check and a dict store.
Type inference, timestamp parsing and id derivation are done per column with Arrow
compute kernels (see `infer` and `ids`). Once a resource's keys and types have settled,
`normalize_pages` reads whole JSON pages with `pyarrow.json` against the schema's Arrow types
and walks the struct arrays instead of Python objects (about half the cost on the bench shape);
it gives the same tables as `normalize`, or declines.

Use one `Normalizer` per resource and run: columns already in the schema when it is
created are *locked* (they exist in the destination); see `evolve`.

The modules, in the order a batch meets them:

* `normalizer`: the `Normalizer` facade (the pipeline's entry points);
* `settings`: the resource's options and `columns` hints, read once;
* `state`: the walk state (one `TableState` per table, a `Ctx` per nested object);
* `plans`, `names`: keys -> columns (per object shape), name collisions of columns and of
  child tables;
* `columns`, `rows`: the columnar walk, and the row walk it falls back to;
* `pages`: pages read by Arrow (`normalize_pages`) and its back-off;
* `primary_keys`, `ids`: key values and `_dlt_id`s;
* `layout`, `enforce`: the schema's columns for a batch (variants, hints), `schema_contract`;
* `errors`: the `DataError`s, each naming its record.
"""

from __future__ import annotations

from restsync.schema._normalize.normalizer import Normalizer, infer_batch
from restsync.schema._normalize.settings import DEFAULT_MAX_NESTING

__all__ = ["DEFAULT_MAX_NESTING", "Normalizer", "infer_batch"]

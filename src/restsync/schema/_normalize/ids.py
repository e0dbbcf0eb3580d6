"""Row ids (`_dlt_id`): two uint64 words per row, derived with Arrow kernels and written as
14 URL-safe base64 characters.

* root rows of a table with a primary key: a digest of the table name and the key values
  (under merge a rerun gives the same ids; under append and replace the load and the
  record's ordinal are mixed in, so rows sharing a key stay distinct rows);
* root rows of an scd2 table (`row_hash`): a digest of the table name and the record's
  content;
* other root rows: the load id, the record's ordinal (unique within a load) and a checksum
  of its content;
* child rows: the parent row's words, the child table (field path) and the list index.
"""

from __future__ import annotations

import base64
import hashlib
import zlib
from collections.abc import Mapping, Sequence
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.compute as pc

from restsync.schema._normalize.state import TableState

_MASK = (1 << 64) - 1

#: two uint64 arrays: the words of each row
Words = tuple[pa.Array, pa.Array]


def _u(v: int) -> pa.Scalar:
    return pa.scalar(v & _MASK, pa.uint64())


_S30, _S27, _S31 = _u(30), _u(27), _u(31)
_M1, _M2 = _u(0xBF58476D1CE4E5B9), _u(0x94D049BB133111EB)
_LOW32 = _u(0xFFFFFFFF)


def mix(z: pa.Array) -> pa.Array:
    """splitmix64's finalizer, a bijection on uint64, vectorized."""
    z = pc.multiply(pc.bit_wise_xor(z, pc.shift_right(z, _S30)), _M1)
    z = pc.multiply(pc.bit_wise_xor(z, pc.shift_right(z, _S27)), _M2)
    return pc.bit_wise_xor(z, pc.shift_right(z, _S31))


def key_words(*parts: str) -> tuple[pa.Scalar, pa.Scalar]:
    """Two uint64 words from a digest of `parts`."""
    d = hashlib.blake2b("\x1f".join(parts).encode("utf-8"), digest_size=16).digest()
    return _u(int.from_bytes(d[:8], "little")), _u(int.from_bytes(d[8:], "little"))


def words_from_digests(buf: bytes, n: int) -> Words:
    """The words of `n` rows from their 16-byte digests, one after the other in `buf`."""
    flat = pa.Array.from_buffers(pa.uint64(), 2 * n, [None, pa.py_buffer(buf)])
    even = pa.array(range(0, 2 * n, 2), pa.int64())
    return flat.take(even), flat.take(pc.add(even, 1))


def ids(w1: pa.Array, w2: pa.Array) -> pa.Array:
    """14-char URL-safe base64 ids from two uint64 words per row (w1 whole, 20 bits of w2)."""
    n = len(w1)
    if n == 0:
        return pa.array([], pa.string())
    low = pc.cast(pc.bit_wise_and(w2, _LOW32), pa.uint32())
    b1 = pa.Array.from_buffers(pa.binary(8), n, [None, w1.buffers()[1]], offset=w1.offset)
    b2 = pa.Array.from_buffers(pa.binary(4), n, [None, low.buffers()[1]], offset=low.offset)
    joined = pc.binary_join_element_wise(b1.cast(pa.binary()), b2.cast(pa.binary()), b"")
    data = joined.buffers()[2]
    start = joined.offset * 12
    enc = base64.urlsafe_b64encode(memoryview(data)[start : start + 12 * n])
    fixed = pa.Array.from_buffers(pa.binary(16), n, [None, pa.py_buffer(enc)])
    return pc.binary_slice(fixed.cast(pa.binary()), 0, 14).cast(pa.string())


def row_content(record: Any) -> bytes:
    """A record's content as stable bytes (keys sorted, `_dlt*` keys left out, nested lists
    in, as dlt's row hash): a row hash changes exactly when the record changes."""
    row = (
        {str(k): v for k, v in record.items() if not str(k).startswith("_dlt")}
        if isinstance(record, Mapping)
        else record
    )
    try:
        return orjson.dumps(row, option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS)
    except TypeError:
        return repr(row).encode("utf-8", "replace")


def crcs(records: Sequence[Any]) -> list[int]:
    """A checksum of each record's content (for the ids of rows without a primary key)."""
    dumps = orjson.dumps
    opt = orjson.OPT_NON_STR_KEYS
    crc32 = zlib.crc32
    try:
        return [crc32(dumps(r, option=opt)) for r in records]
    except TypeError:
        out = []
        for r in records:
            try:
                out.append(crc32(dumps(r, option=opt)))
            except TypeError:
                out.append(crc32(repr(r).encode("utf-8", "replace")))
        return out


def int_key_digests(table_name: str, keys: pa.Array) -> bytes:
    """The key digests of rows keyed by one integer column: the bytes `dumps_key` gives for
    `[value]` (`[12]`, `[null]`), made with Arrow string kernels instead of per-row encoding."""
    blake = hashlib.blake2b
    text = pc.fill_null(pc.cast(keys, pa.string()), "null")
    keyed = pc.binary_join_element_wise(f"{table_name}\x1f[", text, "]", "")
    return b"".join(
        [blake(k, digest_size=16).digest() for k in keyed.cast(pa.binary()).to_pylist()]
    )


def dumps_key(key: list[Any]) -> bytes:
    """The bytes of a key's values that its digest is made of."""
    try:
        return orjson.dumps(key, option=orjson.OPT_NON_STR_KEYS)
    except TypeError:
        return repr(key).encode("utf-8", "replace")


class RootWords:
    """The words of one table's root rows, batch after batch."""

    def __init__(self, table_name: str, *, merge: bool, row_hash: bool) -> None:
        self.table_name = table_name
        self.merge = merge
        self.row_hash = row_hash
        self._load_words: dict[str, tuple[pa.Scalar, pa.Scalar]] = {}

    def of(
        self,
        records: Sequence[Any] | None,
        keys: list[list[Any]] | pa.Array | None,
        n: int,
        load_id: str,
        seq_start: int,
    ) -> Words:
        """The words of `n` root rows: from `keys` (one Arrow array for one integer key
        column), else from `records` (needed then)."""
        tname = self.table_name.encode("utf-8") + b"\x1f"
        blake = hashlib.blake2b
        if isinstance(keys, pa.Array):  # one integer key column, read by Arrow
            w1, w2 = words_from_digests(int_key_digests(self.table_name, keys), n)
        elif keys is not None:
            digests = b"".join(
                [blake(tname + dumps_key(key), digest_size=16).digest() for key in keys]
            )
            w1, w2 = words_from_digests(digests, n)
        elif self.row_hash:
            assert records is not None  # SCD2: the same content gives the same id
            digests = b"".join(
                [blake(tname + row_content(r), digest_size=16).digest() for r in records]
            )
            w1, w2 = words_from_digests(digests, n)
        else:
            assert records is not None  # rows without a key: ids from the records' content
            k1, k2 = self._load_key(load_id)
            s = pa.array(range(seq_start, seq_start + n), pa.uint64())
            c = pa.array(crcs(records), pa.uint64())
            w1 = mix(pc.bit_wise_xor(s, k1))
            w2 = mix(pc.bit_wise_xor(w1, mix(pc.bit_wise_xor(c, k2))))
        if keys is not None and not self.merge:
            # A key is one row only under merge: appended or replaced rows that share a key
            # are distinct rows, so their ids also take the load and the record's ordinal
            # (else two appends of one key would share a `_dlt_id` and their child rows).
            k1, k2 = self._load_key(load_id)
            s = pa.array(range(seq_start, seq_start + n), pa.uint64())
            key_mix = pc.bit_wise_xor(w1, w2)
            w1 = mix(pc.bit_wise_xor(s, k1))
            w2 = mix(pc.bit_wise_xor(w1, mix(pc.bit_wise_xor(key_mix, k2))))
        return w1, w2

    def _load_key(self, load_id: str) -> tuple[pa.Scalar, pa.Scalar]:
        k = self._load_words.get(load_id)
        if k is None:
            k = self._load_words[load_id] = key_words(load_id, self.table_name)
        return k


def child_words(st: TableState) -> Words:
    """The words of the rows of the child table `st`, from its parent rows' words."""
    parent = st.parent
    assert parent is not None
    assert parent.w1 is not None
    assert parent.w2 is not None
    pidx = st.pidx
    assert pidx is not None
    assert st.lidx is not None
    idx = st.lidx.cast(pa.uint64())
    p1, p2 = key_words(st.name)
    pw1 = parent.w1.take(pidx)
    pw2 = parent.w2.take(pidx)
    w1 = mix(pc.add(mix(pc.bit_wise_xor(pw1, p1)), idx))
    w2 = mix(pc.bit_wise_xor(pc.bit_wise_xor(pw2, p2), mix(pc.bit_wise_xor(idx, p1))))
    return w1, w2

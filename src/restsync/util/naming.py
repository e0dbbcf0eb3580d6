"""Identifier normalization in dlt's snake_case convention.

`normalize_identifier` turns one JSON key into a column or table name the way dlt's
default (snake_case) naming convention does, so SQL written against a dlt dataset keeps
working on a restsync one:

* `+ - * @ |` become `x _ x a l`; every other character that is not an ASCII letter,
  a digit or `_` becomes `_` (so non-ASCII letters are replaced, as dlt does);
* camelCase and PascalCase are broken into words (`customerId` -> `customer_id`,
  `HTTPServer` -> `http_server`) and everything is lower-cased;
* a leading digit gets a `_` prefix (`1st` -> `_1st`);
* each trailing `_` becomes `x` (`id_` -> `idx`), so no name ends with the separator;
* runs of `_` collapse to one, which keeps `__` free as the nesting separator.

Nested names are joined with `__` *after* each part is normalized (`make_path`).
A name longer than `MAX_IDENTIFIER_LENGTH` bytes (63, PostgreSQL's limit) is shortened by
`shorten_identifier`: its head is kept and a stable 10-character hash of the full name is
appended, so the same long name always gives the same short one.

The per-key function is cached: the same field names recur millions of times.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

PATH_SEPARATOR = "__"
VARIANT_SEPARATOR = "__v_"
MAX_IDENTIFIER_LENGTH = 63
EMPTY_IDENTIFIER = "_empty"

_RE_UNDERSCORES = re.compile("__+")
_RE_LEADING_DIGITS = re.compile(r"^[0-9]")
_RE_NON_ALPHANUMERIC = re.compile(r"[^a-zA-Z0-9_]+")
_SNAKE_CASE_BREAK_1 = re.compile("([^_])([A-Z][a-z]+)")
_SNAKE_CASE_BREAK_2 = re.compile("([a-z0-9])([A-Z])")
_TR_REDUCE_ALPHABET = str.maketrans("+-*@|", "x_xal")
_HASH_LENGTH = 10

_cache: dict[str, str] = {}


def _snake_case(identifier: str) -> str:
    ident = identifier.strip()
    if not ident:
        return EMPTY_IDENTIFIER
    ident = ident.translate(_TR_REDUCE_ALPHABET)
    ident = _RE_NON_ALPHANUMERIC.sub("_", ident)
    ident = _SNAKE_CASE_BREAK_1.sub(r"\1_\2", ident)
    ident = _SNAKE_CASE_BREAK_2.sub(r"\1_\2", ident).lower()
    if _RE_LEADING_DIGITS.match(ident):
        ident = "_" + ident
    stripped = ident.rstrip("_")
    ident = stripped + "x" * (len(ident) - len(stripped))
    return _RE_UNDERSCORES.sub("_", ident)


def normalize_identifier(identifier: str) -> str:
    """Return the snake_case form of one key (cached; not shortened, see `shorten_identifier`)."""
    try:
        return _cache[identifier]
    except KeyError:
        pass
    out = _snake_case(identifier)
    if len(_cache) < 1_000_000:
        _cache[identifier] = out
    return out


def shorten_identifier(name: str, max_length: int = MAX_IDENTIFIER_LENGTH) -> str:
    """Shorten `name` to at most `max_length` bytes, keeping its head plus a stable hash tag.

    Names that fit are returned unchanged. The tag is derived from the whole name, so two
    long names that share a head still get different short names.
    """
    if len(name.encode("utf-8")) <= max_length:
        return name
    digest = hashlib.blake2b(name.encode("utf-8"), digest_size=8).hexdigest()[:_HASH_LENGTH]
    head = name.encode("utf-8")[: max_length - _HASH_LENGTH - 1].decode("utf-8", "ignore")
    return f"{head}_{digest}"


def make_path(*parts: str) -> str:
    """Join already-normalized parts with the nesting separator and shorten the result."""
    return shorten_identifier(PATH_SEPARATOR.join(p for p in parts if p))


def normalize_path(path: str) -> str:
    """Normalize a `__`-separated path part by part (`shippingAddress__zipCode`)."""
    return make_path(*(normalize_identifier(p) for p in path.split(PATH_SEPARATOR)))


def variant_name(column: str, data_type: str) -> str:
    """The name of the variant column holding `data_type` values of `column`."""
    return shorten_identifier(f"{column}{VARIANT_SEPARATOR}{data_type}")


@dataclass(frozen=True)
class NameCollision:
    """Two different keys of one object that normalize to the same name.

    `kept` keeps `name`; `renamed` got `new_name` (`name` plus a numeric suffix).
    """

    table: str
    name: str
    kept: str
    renamed: str
    new_name: str

    def __str__(self) -> str:
        return (
            f"table '{self.table}': keys '{self.kept}' and '{self.renamed}' both normalize to "
            f"'{self.name}'; '{self.renamed}' is stored as '{self.new_name}'"
        )

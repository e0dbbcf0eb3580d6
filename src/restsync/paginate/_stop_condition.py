"""A small, safe expression language for `stop_condition`.

A paginator's `stop_condition` is evaluated after every page; when it is true, pagination
stops. The text is parsed once, when the paginator is built, by a hand-written tokenizer
and recursive-descent parser. Nothing is ever handed to Python's `eval`, `exec` or `ast`:
the evaluator only walks the tree it built, and a path only indexes into the JSON body
(dict keys and list positions), so `a.__class__` is just a key that is not there.

Grammar (keywords are case-sensitive)::

    expr       := or_expr
    or_expr    := and_expr ("or" and_expr)*
    and_expr   := not_expr ("and" not_expr)*
    not_expr   := "not" not_expr | comparison
    comparison := operand [ ("==" | "!=" | "<" | "<=" | ">" | ">=") operand
                          | "is" ["not"] ("null" | "None") ]
    operand    := literal | path | "len" "(" path ")" | "(" expr ")"
    literal    := number | string | true | false | null | True | False | None
    path       := name ( "." name | "[" integer "]" | "[" string "]" )*

Names:

- a bare path (`pagination.nextPageUrl`, `meta.has_more`, `data[0].id`, `data[-1].id`)
  starts at the root of the response body;
- `response` is the body root itself (`response.records` reaches a body key that is
  called `records`);
- `records` is the list of records the data selector found on this page
  (`len(records) < 100`).

Values:

- a missing key, an index out of range, or a name used on something that is not an
  object is `null`; the evaluation itself never fails;
- truthiness follows JSON: `null`, `false`, `0`, `""`, `[]` and `{}` are false. The
  strings `"true"` and `"false"` (any case) count as the booleans they spell, because
  APIs send `"has_more": "false"`; `==`/`!=` against `true`/`false` read them so too;
- `<`, `<=`, `>`, `>=` compare numbers with numbers (a numeric string counts as a
  number) and strings with strings; anything else, `null` included, compares false;
- `len(path)` is the length of a list, object or string, and 0 for anything else.

Example::

    cond = parse_stop_condition("not pagination.nextPageUrl")
    cond.evaluate({"pagination": {"nextPageUrl": None}}, records=[])  # True: stop
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["StopCondition", "parse_stop_condition"]

# Deep enough for any real condition, shallow enough to stay far from Python's recursion limit.
_MAX_DEPTH = 64

_KEYWORDS = {"not", "and", "or", "is", "len"}
_CONSTANTS: dict[str, Any] = {
    "true": True,
    "false": False,
    "null": None,
    "True": True,
    "False": False,
    "None": None,
}
_COMPARISONS = {"==", "!=", "<", "<=", ">", ">="}
_NAME_START = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_@$")
_NAME_CHARS = _NAME_START | set("0123456789-")


# --- tokens ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _Token:
    kind: str  # "name", "number", "string", "op", "end"
    value: Any
    col: int  # 1-based
    text: str  # as written, for messages


def _fail(message: str, col: int, source: str) -> ValueError:
    return ValueError(f"{message} at column {col} in {_quote(source)}")


def _quote(source: str) -> str:
    return '"' + source.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _tokenize(source: str) -> list[_Token]:
    tokens: list[_Token] = []
    i = 0
    n = len(source)
    while i < n:
        ch = source[i]
        if ch in " \t\r\n":
            i += 1
            continue
        start = i
        if ch in "\"'":
            i += 1
            chars: list[str] = []
            while i < n and source[i] != ch:
                if source[i] == "\\" and i + 1 < n:
                    i += 1
                    chars.append({"n": "\n", "t": "\t"}.get(source[i], source[i]))
                else:
                    chars.append(source[i])
                i += 1
            if i >= n:
                raise _fail("unterminated string starting", start + 1, source)
            i += 1
            tokens.append(_Token("string", "".join(chars), start + 1, source[start:i]))
            continue
        if ch.isdigit() or (ch in "-+." and i + 1 < n and source[i + 1].isdigit()):
            i += 1
            while i < n and (source[i].isdigit() or source[i] in ".eE"):
                if source[i] in "eE" and i + 1 < n and source[i + 1] in "+-":
                    i += 1
                i += 1
            text = source[start:i]
            try:
                number: float | int = int(text) if text.lstrip("+-").isdigit() else float(text)
            except ValueError:
                raise _fail(f"bad number {text!r}", start + 1, source) from None
            tokens.append(_Token("number", number, start + 1, text))
            continue
        if ch in _NAME_START:
            i += 1
            while i < n and source[i] in _NAME_CHARS:
                i += 1
            text = source[start:i]
            tokens.append(_Token("name", text, start + 1, text))
            continue
        two = source[i : i + 2]
        if two in ("==", "!=", "<=", ">="):
            tokens.append(_Token("op", two, start + 1, two))
            i += 2
            continue
        if ch in "<>().[]":
            tokens.append(_Token("op", ch, start + 1, ch))
            i += 1
            continue
        raise _fail(f"unexpected character {ch!r}", start + 1, source)
    tokens.append(_Token("end", None, n + 1, ""))
    return tokens


# --- tree -----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Literal:
    value: Any


@dataclass(frozen=True)
class _Path:
    root: str  # "body", "response" or "records"
    steps: tuple[str | int, ...]


@dataclass(frozen=True)
class _Len:
    path: _Path


@dataclass(frozen=True)
class _Not:
    operand: _Node


@dataclass(frozen=True)
class _BoolOp:
    op: str  # "and" | "or"
    operands: tuple[_Node, ...]


@dataclass(frozen=True)
class _Compare:
    op: str
    left: _Node
    right: _Node


@dataclass(frozen=True)
class _IsNull:
    operand: _Node
    negated: bool


_Node = _Literal | _Path | _Len | _Not | _BoolOp | _Compare | _IsNull


# --- parser ---------------------------------------------------------------------------


class _Parser:
    def __init__(self, source: str) -> None:
        self.source = source
        self.tokens = _tokenize(source)
        self.pos = 0
        self.depth = 0

    @property
    def tok(self) -> _Token:
        return self.tokens[self.pos]

    def _unexpected(self, tok: _Token | None = None) -> ValueError:
        tok = tok or self.tok
        if tok.kind == "end":
            return _fail("unexpected end of expression", tok.col, self.source)
        return _fail(f"unexpected {tok.text!r}", tok.col, self.source)

    def _is(self, kind: str, value: Any = None) -> bool:
        tok = self.tok
        return tok.kind == kind and (value is None or tok.value == value)

    def _take(self, kind: str, value: Any = None) -> _Token:
        if not self._is(kind, value):
            raise self._unexpected()
        tok = self.tok
        self.pos += 1
        return tok

    def parse(self) -> _Node:
        node = self._or()
        if not self._is("end"):
            raise self._unexpected()
        return node

    def _enter(self) -> None:
        self.depth += 1
        if self.depth > _MAX_DEPTH:
            raise _fail("expression nested too deeply", self.tok.col, self.source)

    def _or(self) -> _Node:
        self._enter()
        operands = [self._and()]
        while self._is("name", "or"):
            self.pos += 1
            operands.append(self._and())
        self.depth -= 1
        return operands[0] if len(operands) == 1 else _BoolOp("or", tuple(operands))

    def _and(self) -> _Node:
        operands = [self._not()]
        while self._is("name", "and"):
            self.pos += 1
            operands.append(self._not())
        return operands[0] if len(operands) == 1 else _BoolOp("and", tuple(operands))

    def _not(self) -> _Node:
        if self._is("name", "not"):
            self.pos += 1
            self._enter()
            node = _Not(self._not())
            self.depth -= 1
            return node
        return self._comparison()

    def _comparison(self) -> _Node:
        left = self._operand()
        tok = self.tok
        if tok.kind == "op" and tok.value in _COMPARISONS:
            self.pos += 1
            return _Compare(tok.value, left, self._operand())
        if self._is("name", "is"):
            self.pos += 1
            negated = False
            if self._is("name", "not"):
                self.pos += 1
                negated = True
            if not (self.tok.kind == "name" and self.tok.value in ("null", "None")):
                raise self._unexpected()
            self.pos += 1
            return _IsNull(left, negated)
        return left

    def _operand(self) -> _Node:
        tok = self.tok
        if tok.kind in ("number", "string"):
            self.pos += 1
            return _Literal(tok.value)
        if tok.kind == "op" and tok.value == "(":
            self.pos += 1
            node = self._or()
            self._take("op", ")")
            return node
        if tok.kind == "name":
            if tok.value in _CONSTANTS:
                self.pos += 1
                return _Literal(_CONSTANTS[tok.value])
            if tok.value == "len":
                self.pos += 1
                self._take("op", "(")
                path = self._path()
                self._take("op", ")")
                return _Len(path)
            if tok.value not in _KEYWORDS:
                return self._path()
        raise self._unexpected()

    def _path(self) -> _Path:
        tok = self.tok
        if tok.kind != "name" or tok.value in _KEYWORDS or tok.value in _CONSTANTS:
            raise self._unexpected()
        self.pos += 1
        root = "body"
        steps: list[str | int] = []
        if tok.value in ("response", "records"):
            root = tok.value
        elif tok.value == "$":  # JSONPath habit: `$.meta.has_more`
            root = "response"
        else:
            steps.append(tok.value)
        while True:
            if self._is("op", "."):
                self.pos += 1
                if self.tok.kind != "name":
                    raise self._unexpected()
                steps.append(self.tok.value)
                self.pos += 1
            elif self._is("op", "["):
                self.pos += 1
                inner = self.tok
                if (inner.kind == "number" and isinstance(inner.value, int)) or (
                    inner.kind == "string"
                ):
                    steps.append(inner.value)
                else:
                    raise self._unexpected()
                self.pos += 1
                self._take("op", "]")
            else:
                return _Path(root, tuple(steps))


# --- evaluation -----------------------------------------------------------------------


def _resolve(path: _Path, body: Any, records: list[Any]) -> Any:
    value: Any = records if path.root == "records" else body
    for step in path.steps:
        # Only JSON containers are indexed; nothing else is ever looked into, so a name
        # such as `__class__` cannot reach a Python attribute.
        if isinstance(step, str):
            if type(value) is not dict:
                return None
            value = value.get(step)
        else:
            if type(value) is not list or not -len(value) <= step < len(value):
                return None
            value = value[step]
    return value


def _truthy(value: Any) -> bool:
    if isinstance(value, str):
        low = value.strip().lower()
        if low == "false":
            return False
        if low == "true":
            return True
        return value != ""
    if isinstance(value, (bool, int, float, str, list, dict)):
        return bool(value)
    return value is not None


def _as_number(value: Any) -> float | int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return value
    if isinstance(value, str):
        try:
            return float(value.strip())
        except ValueError:
            return None
    return None


def _equal(left: Any, right: Any) -> bool:
    if isinstance(left, bool) or isinstance(right, bool):
        if isinstance(left, bool) and isinstance(right, bool):
            return left == right
        other, flag = (right, left) if isinstance(left, bool) else (left, right)
        if isinstance(other, str) and other.strip().lower() in ("true", "false"):
            return (other.strip().lower() == "true") == flag
        return False
    if isinstance(left, (int, float)) and isinstance(right, (int, float)):
        return left == right
    if type(left) is not type(right):
        return False
    return bool(left == right)


def _order(op: str, left: Any, right: Any) -> bool:
    if isinstance(left, str) and isinstance(right, str):
        a: Any = left
        b: Any = right
    else:
        a, b = _as_number(left), _as_number(right)
        if a is None or b is None:
            return False
    if op == "<":
        return bool(a < b)
    if op == "<=":
        return bool(a <= b)
    if op == ">":
        return bool(a > b)
    return bool(a >= b)


def _eval(node: _Node, body: Any, records: list[Any]) -> Any:
    if isinstance(node, _Literal):
        return node.value
    if isinstance(node, _Path):
        return _resolve(node, body, records)
    if isinstance(node, _Len):
        value = _resolve(node.path, body, records)
        return len(value) if isinstance(value, (list, dict, str)) else 0
    if isinstance(node, _Not):
        return not _truthy(_eval(node.operand, body, records))
    if isinstance(node, _BoolOp):
        if node.op == "and":
            return all(_truthy(_eval(n, body, records)) for n in node.operands)
        return any(_truthy(_eval(n, body, records)) for n in node.operands)
    if isinstance(node, _IsNull):
        is_null = _eval(node.operand, body, records) is None
        return not is_null if node.negated else is_null
    left = _eval(node.left, body, records)
    right = _eval(node.right, body, records)
    if node.op == "==":
        return _equal(left, right)
    if node.op == "!=":
        return not _equal(left, right)
    return _order(node.op, left, right)


class StopCondition:
    """A parsed `stop_condition`; build it with `parse_stop_condition`.

    `evaluate(body, records)` is true when pagination should stop after this page.
    """

    __slots__ = ("_tree", "text")

    def __init__(self, text: str, tree: _Node) -> None:
        self.text = text
        self._tree = tree

    def evaluate(self, body: Any, records: list[Any] | None = None) -> bool:
        """Evaluate against one response body and the records selected from it."""
        return _truthy(_eval(self._tree, body, records if records is not None else []))

    def __repr__(self) -> str:
        return f"StopCondition({self.text!r})"


def parse_stop_condition(text: str) -> StopCondition:
    """Parse `text`, raising `ValueError` that points at the column of the first problem.

    >>> parse_stop_condition("meta.has_more == false or len(records) < 100")
    StopCondition('meta.has_more == false or len(records) < 100')
    """
    if not isinstance(text, str):
        raise ValueError(f"stop_condition must be a string, got {type(text).__name__}")
    return StopCondition(text, _Parser(text).parse())

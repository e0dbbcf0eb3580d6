"""restsync's own messages name only keys that exist: every `client.…` / `endpoint.…` key path
in a message string of the package resolves in the dialect (a hint such as "raise
endpoint.paginator.max_pages" must name a key validation accepts)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import restsync
from restsync.config._dialect import (
    AUTH_CONFIGS,
    PAGINATOR_CONFIGS,
    ClientConfig,
    EndpointConfig,
    ErrorHandlerConfig,
    IncrementalConfig,
    ResponseActionConfig,
    keys_of,
)

SRC = Path(restsync.__file__).parent
KEY_PATH = re.compile(r"\b(client|endpoint)((?:\.[a-z_]+)+)")


def _paginator_keys() -> set[str]:
    return {k for config in PAGINATOR_CONFIGS.values() for k in keys_of(config)}


def _auth_keys() -> set[str]:
    return {k for config in AUTH_CONFIGS.values() for k in keys_of(config)}


NESTED: dict[str, set[str]] = {
    "paginator": _paginator_keys(),
    "auth": _auth_keys(),
    "incremental": set(keys_of(IncrementalConfig)),
    "error_handler": set(keys_of(ErrorHandlerConfig)),
    "response_actions": set(keys_of(ResponseActionConfig)),
}


def _resolves(root: str, parts: list[str]) -> bool:
    top = keys_of(ClientConfig) if root == "client" else keys_of(EndpointConfig)
    if parts[0] not in top:
        return False
    if len(parts) == 1:
        return True
    return parts[0] in NESTED and len(parts) == 2 and parts[1] in NESTED[parts[0]]


def _message_strings(tree: ast.AST) -> list[str]:
    docstrings = {
        id(node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)
    }
    return [
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and id(node) not in docstrings
    ]


def test_every_key_path_in_a_message_exists_in_the_dialect() -> None:
    unknown = []
    for file in sorted(SRC.rglob("*.py")):
        for text in _message_strings(ast.parse(file.read_text())):
            for match in KEY_PATH.finditer(text):
                parts = match.group(2)[1:].split(".")
                if not _resolves(match.group(1), parts):
                    unknown.append(f"{file.relative_to(SRC)}: {match.group(0)}")
    assert unknown == []


def test_the_loop_guard_hint_names_an_accepted_key() -> None:
    text = (SRC / "paginate" / "_base.py").read_text()
    assert "endpoint.paginator.max_pages" in text
    assert _resolves("endpoint", ["paginator", "max_pages"])

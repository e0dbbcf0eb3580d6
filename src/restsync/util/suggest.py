"""The did-you-mean of every "unknown ..." message: one rule for config keys, types,
resources, destinations and connectors alike."""

from __future__ import annotations

import difflib
from collections.abc import Iterable

__all__ = ["did_you_mean", "suggest"]


def suggest(word: str, choices: Iterable[str]) -> str | None:
    """The choice `word` most likely meant, or None.

    A choice equal but for case first (`Offset` -> `offset`), then the closest spelling
    (difflib, ratio at least 0.6), then the one choice `word` is a prefix of, when it is at
    least 4 characters long (`retry_on` -> `retry_on_status_codes`).
    """
    options = [str(c) for c in choices]
    word = str(word)
    lowered = {c.lower(): c for c in options}
    if word.lower() in lowered:
        return lowered[word.lower()]
    matches = difflib.get_close_matches(word, options, n=1, cutoff=0.6)
    if matches:
        return matches[0]
    prefixed = [c for c in options if len(word) >= 4 and c.startswith(word)]
    return prefixed[0] if len(prefixed) == 1 else None


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """` (did you mean 'x'?)` for the choice `word` most likely meant, else an empty string."""
    match = suggest(word, choices)
    return f" (did you mean '{match}'?)" if match is not None else ""

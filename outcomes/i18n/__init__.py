"""English and Spanish message catalogs (en.toml, es.toml), one key per visible string.

`t(key, lang, **values)` falls back to English for a key the Spanish catalog lacks, and to
the key itself when neither has it, so a missing translation never breaks a page; the tests
check that both catalogs have the same keys.
"""

from __future__ import annotations

import tomllib
from functools import cache
from pathlib import Path

HERE = Path(__file__).parent


def _flatten(d: dict, prefix: str = "") -> dict[str, str]:
    out: dict[str, str] = {}
    for k, v in d.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict):
            out |= _flatten(v, key + ".")
        else:
            out[key] = str(v)
    return out


@cache
def messages(lang: str) -> dict[str, str]:
    with open(HERE / f"{lang}.toml", "rb") as fh:
        return _flatten(tomllib.load(fh))


def thresholds() -> dict[str, int]:
    """The disclosure thresholds in force (outcomes.settings), for every message that
    names one: {min_cell}, {min_den}, {unstable}."""
    from outcomes import settings
    return {"min_cell": settings.min_cell(), "min_den": settings.min_denominator(),
            "unstable": settings.unstable_denominator(),
            "min_cell_less": settings.min_cell() - 1}


def t(key: str, lang: str = "en", **values) -> str:
    text = messages(lang).get(key) or messages("en").get(key) or key
    if "{" not in text:
        return text
    # placeholders not given stay as they are (a chart fills {median} in itself)
    return text.format_map(_Keep({**thresholds(), **values}))


class _Keep(dict):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def label(kind: str, value: str, lang: str = "en") -> str:
    """A code value in words: label('responder', 'civilian_team') -> 'Civilian crisis team'."""
    text = messages(lang).get(f"{kind}.{value}") or messages("en").get(f"{kind}.{value}")
    return text or value.replace("_", " ")

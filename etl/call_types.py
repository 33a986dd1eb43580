"""The call type code table (etl/call_types.toml): which codes belong to which group."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

CODE_TABLE = Path(__file__).resolve().parent / "call_types.toml"
OTHER = "other"


@dataclass(frozen=True)
class Group:
    name: str
    label: str
    pilot: bool
    codes: dict[str, str]


@dataclass(frozen=True)
class CodeTable:
    version: str
    groups: dict[str, Group]

    def pilot_groups(self) -> list[str]:
        return [g.name for g in self.groups.values() if g.pilot]

    def labels(self) -> dict[str, str]:
        out = {g.name: g.label for g in self.groups.values()}
        out[OTHER] = "Other or unknown call type"
        return out

    def group_of(self, code: str | None) -> str:
        """A group's own name, else the exact code, else the longest listed code followed only
        by letters."""
        if not code:
            return OTHER
        code = code.strip().upper()
        if code.lower() in self.groups:
            return code.lower()  # a mapping may name the group itself
        best, best_len = OTHER, -1
        for g in self.groups.values():
            for listed in g.codes:
                listed_u = listed.upper()
                if code == listed_u:
                    return g.name
                rest = code[len(listed_u):]
                if code.startswith(listed_u) and rest.isalpha() and len(listed_u) > best_len:
                    best, best_len = g.name, len(listed_u)
        return best

    def rows(self) -> list[dict[str, str]]:
        return [
            {"call_type_group": g.name, "label": g.label, "pilot": str(g.pilot).lower(),
             "code": code, "meaning": meaning}
            for g in self.groups.values() for code, meaning in g.codes.items()
        ]


@lru_cache(maxsize=1)
def load_code_table(path: Path = CODE_TABLE) -> CodeTable:
    with open(path, "rb") as fh:
        data = tomllib.load(fh)
    groups = {
        name: Group(name, g["label"], bool(g.get("pilot", False)), dict(g.get("codes", {})))
        for name, g in data["groups"].items()
    }
    return CodeTable(str(data["version"]), groups)

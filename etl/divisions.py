"""The 21 LAPD geographic Areas (divisions): number, canonical name and the spellings seen.

Canonical names follow the City's open-data "Area" names; the boundary file spells them in
upper case (APREC) and some exports spell them out ("North Hollywood", "West Los Angeles").
"""

from __future__ import annotations

DIVISIONS: dict[int, str] = {
    1: "Central", 2: "Rampart", 3: "Southwest", 4: "Hollenbeck", 5: "Harbor",
    6: "Hollywood", 7: "Wilshire", 8: "West LA", 9: "Van Nuys", 10: "West Valley",
    11: "Northeast", 12: "77th Street", 13: "Newton", 14: "Pacific", 15: "N Hollywood",
    16: "Foothill", 17: "Devonshire", 18: "Southeast", 19: "Mission", 20: "Olympic",
    21: "Topanga",
}

# The canonical lapd_division value for a record placed in no LAPD division (LAPD's own
# calls-for-service export writes "Outside"); never a pilot coverage area.
OUTSIDE = "outside"

_EXTRA_SPELLINGS = {
    "west los angeles": "West LA",
    "north hollywood": "N Hollywood",
    "77th": "77th Street",
    "seventy-seventh street": "77th Street",
}


def _key(text: str) -> str:
    return " ".join(text.strip().lower().split())


SPELLINGS: dict[str, str] = {_key(name): name for name in DIVISIONS.values()}
SPELLINGS.update({_key(k): v for k, v in _EXTRA_SPELLINGS.items()})
SPELLINGS.update({str(n): name for n, name in DIVISIONS.items()})
SPELLINGS.update({f"{n:02d}": name for n, name in DIVISIONS.items()})


def canonical_division(text: str | None) -> str | None:
    """The canonical division name for a spelling, or None when it is not a division."""
    if text is None:
        return None
    return SPELLINGS.get(_key(text))

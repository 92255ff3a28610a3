"""What is wrong with an input, named by its field, in Thai and English — the one shape that
services give to pages, the API and imports (non-negotiable: bad input is named, in both
languages)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    field: str
    th: str
    en: str


class Invalid(ValueError):
    """Raised by a service when an input does not fit; nothing was written."""

    def __init__(self, problems: Sequence[Problem]):
        self.problems = list(problems)
        super().__init__("; ".join(f"{p.field}: {p.en}" for p in self.problems[:10]))

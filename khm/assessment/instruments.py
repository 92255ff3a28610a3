"""Instrument versions: the defaults shipped with KHM, the current version of each code, and
the bundle a scoring run uses."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

from khm.assessment.models import Instrument
from khm.engines import scoring

DEFAULTS_DIR = Path(__file__).with_name("instruments")
DEFAULT_CODES = {"capitals": "five-capitals", "bmn": "bmn-2560", "needs": "needs"}


def default_definitions() -> list[dict[str, Any]]:
    """The instrument files shipped in ``khm/assessment/instruments/`` (version 1 of each)."""
    out = []
    for path in sorted(DEFAULTS_DIR.glob("*.v1.json")):
        out.append(json.loads(path.read_text(encoding="utf-8")))
    return out


def current(code: str) -> Instrument | None:
    return Instrument.objects.filter(code=code).order_by("-version").first()


def current_of_kind(kind: str) -> Instrument | None:
    code = DEFAULT_CODES[kind]
    found = current(code)
    if found is not None:
        return found
    return Instrument.objects.filter(kind=kind).order_by("-created_at", "-version").first()


@lru_cache(maxsize=64)
def _definition(pk: int, checksum: str) -> dict[str, Any]:
    # Versions are immutable, so a definition read once stays right for the process. The
    # checksum is part of the key: a database that was emptied and filled again (tests) may
    # give the same id to another instrument.
    value: dict[str, Any] = Instrument.objects.values_list("definition", flat=True).get(pk=pk)
    return value


def definition(instrument: Instrument | None) -> dict[str, Any] | None:
    if instrument is None:
        return None
    return _definition(instrument.pk, instrument.checksum)


def bundle(capitals: Instrument, bmn: Instrument | None, needs: Instrument | None) -> scoring.Instruments:
    cap = definition(capitals)
    assert cap is not None
    return scoring.Instruments(capitals=cap, bmn=definition(bmn), needs=definition(needs))


def label(obj: Any, lang: str) -> str:
    """A {th, en} label in the page's language (Thai first)."""
    if isinstance(obj, dict):
        return str(obj.get("en") if lang.startswith("en") and obj.get("en") else obj.get("th", ""))
    return str(obj or "")

"""Install version 1 of the shipped instruments (khm/assessment/instruments/*.json)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from django.db import migrations

DIR = Path(__file__).resolve().parent.parent / "instruments"


def install(apps: Any, schema_editor: Any) -> None:
    Instrument = apps.get_model("assessment", "Instrument")
    for path in sorted(DIR.glob("*.v1.json")):
        d = json.loads(path.read_text(encoding="utf-8"))
        if Instrument.objects.filter(code=d["code"]).exists():
            continue
        canonical = json.dumps(d, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        Instrument.objects.create(
            kind=d["kind"],
            code=d["code"],
            version=1,
            title_th=d["title"]["th"],
            title_en=d["title"]["en"],
            definition=d,
            checksum=hashlib.sha256(canonical.encode("utf-8")).hexdigest(),
            note="KHM default",
        )


class Migration(migrations.Migration):
    dependencies = [("assessment", "0001_initial")]
    operations = [migrations.RunPython(install, migrations.RunPython.noop)]

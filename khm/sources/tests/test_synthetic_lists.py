"""The three synthetic source lists (TPMAP cp874 CSV, KHM XLSX, bottom-20 UTF-8 CSV) go
through the real import path with the shipped mapping profiles."""

from __future__ import annotations

import csv

import pytest

from khm.engines.sources_synth import build_lists, write_lists
from khm.engines.synth import VillageWeight, generate
from khm.registry.models import Person
from khm.sources import services
from khm.sources.models import MappingProfile, PersonSource, Source
from khm.sources.profiles import install_profiles

pytestmark = pytest.mark.django_db


def test_synthetic_lists_import_with_the_shipped_profiles(cast, tmp_path, settings):
    settings.KHM_IMPORT_DIR = str(tmp_path / "imports")
    villages = [VillageWeight("46010101", 1.0), VillageWeight("46010102", 1.0)]
    files = write_lists(build_lists(generate(villages=villages, people=400, seed=7), seed=7), tmp_path)
    install_profiles()
    with open(files["truth"], encoding="utf-8") as fh:
        truth = {r["record_id"]: r["true_person_id"] for r in csv.DictReader(fh)}
    imported: dict[str, int] = {}
    for kind in ("tpmap", "khm", "bottom20"):
        source = Source.objects.create(code=f"{kind}-2568", kind=kind, name_th=kind, round_label="2568")
        profile = MappingProfile.objects.get(kind=kind)
        batch = services.batch_upload(
            actor=cast.ploy,
            source=source,
            profile=profile,
            file_name=files[kind].name,
            content=files[kind].read_bytes(),
        )
        batch = services.batch_stage(actor=cast.ploy, batch=batch)
        assert batch.status == "preview", batch.error
        counts = batch.counts
        # Nearly every row is readable; rejects are the deliberate ID typos and in-file duplicates.
        assert counts["rejected"] <= 0.08 * counts["rows"], counts
        for r in batch.rows.filter(outcome="rejected"):
            assert {e["field"] for e in r.errors} <= {"id_number"}, r.errors
        services.batch_commit(actor=cast.ploy, batch=batch)
        imported[kind] = PersonSource.objects.filter(source=source).count()
    assert all(n > 0 for n in imported.values())
    # Lists overlap: people with a valid ID on two lists are one person with two sources.
    on_two = [p for p in Person.objects.filter(household__area_code__startswith="460101") if p.sources.count() >= 2]
    assert on_two
    for p in on_two[:20]:
        assert p.national_id() in set(truth.values())

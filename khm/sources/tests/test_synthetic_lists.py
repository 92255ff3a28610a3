"""The synthetic source lists (TPMAP cp874 CSV, KHM XLSX, bottom-20 UTF-8 CSV and the BMN
survey extract, UTF-8 CSV) go through the real import path with the shipped mapping profiles."""

from __future__ import annotations

import csv

import pytest

from khm.engines.sources_synth import ALL_LISTS, ListSelection, build_lists, write_lists
from khm.engines.synth import VillageWeight, generate
from khm.registry.models import Person
from khm.sources import services
from khm.sources.models import ImportBatch, MappingProfile, PersonSource, Source
from khm.sources.profiles import PROFILES, install_profiles

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


def _import(actor, kind: str, path) -> ImportBatch:
    source = Source.objects.create(code=f"{kind}-2568", kind=kind, name_th=kind, round_label="2568")
    profile = MappingProfile.objects.get(kind=kind)
    batch = services.batch_upload(
        actor=actor, source=source, profile=profile, file_name=path.name, content=path.read_bytes()
    )
    return services.batch_stage(actor=actor, batch=batch)


def test_shipped_profiles_fit_the_exported_layouts(tmp_path):
    """Each ready profile maps the columns the exporter writes, for all four layouts."""
    villages = [VillageWeight("46010101", 1.0)]
    lists = build_lists(
        generate(villages=villages, people=200, seed=3), seed=3, lists=ALL_LISTS,
        selection=ListSelection(bmn_village_share=1.0),
    )  # fmt: skip
    kinds = {p["kind"]: p for p in PROFILES.values()}
    assert set(kinds) == set(ALL_LISTS)
    assert "BMN (ข้อมูล จปฐ.)" in PROFILES
    for name, source in lists.lists.items():
        profile = kinds[name]
        assert profile["fields"] == source.fields, name
        assert set(profile["extra"].values()) <= set(source.frame.columns), name


def test_bmn_list_imports_and_links_to_the_same_people(cast, tmp_path, settings):
    """The BMN extract, imported after TPMAP as the province admin: nearly every row is
    readable, its households hold together, and the rows linked to registry people are
    the right people (checked against the ground truth column)."""
    settings.KHM_IMPORT_DIR = str(tmp_path / "imports")
    villages = [VillageWeight(c, 1.0) for c in ("46010101", "46010102", "46010201", "46050101")]
    lists = build_lists(
        generate(villages=villages, people=600, seed=11), seed=11, lists=("tpmap", "bmn"),
        selection=ListSelection(bmn_village_share=1.0),
    )  # fmt: skip
    files = write_lists(lists, tmp_path)
    install_profiles()
    # Ground truth by list row (staged rows keep the record_id among their cleaned values).
    true_id = {r["record_id"]: r["true_person_id"] for r in csv.DictReader(files["truth"].open(encoding="utf-8"))}

    tpmap = _import(cast.admin, "tpmap", files["tpmap"])
    assert tpmap.status == "preview", tpmap.error
    services.batch_commit(actor=cast.admin, batch=tpmap)
    # Who each registry person really is: the truth of the row that created them.
    truth_of = {r.person_id: true_id[r.clean["record_id"]] for r in tpmap.rows.filter(person__isnull=False)}

    batch = _import(cast.admin, "bmn", files["bmn"])
    assert batch.status == "preview", batch.error
    counts = batch.counts
    assert counts["rows"] == lists["bmn"].frame.height
    # Rejects are the deliberate ID typos and the people met twice (an ID twice in the file).
    assert counts["rejected"] <= 0.06 * counts["rows"], counts
    for r in batch.rows.filter(outcome="rejected"):
        assert {e["field"] for e in r.errors} <= {"id_number"}, r.errors
    # No date, sex, name or area problem: the Thai-month BE dates and ช/ญ parse.
    assert not batch.rows.filter(outcome="rejected", errors__icontains="birth_date").exists()

    matched = [(r.person_id, true_id[r.clean["record_id"]]) for r in batch.rows.filter(outcome="matched")]
    assert len(matched) > 0.3 * counts["rows"]  # BMN and TPMAP share many people
    judged = [(pid, true) for pid, true in matched if pid in truth_of]
    right = sum(truth_of[pid] == true for pid, true in judged)
    assert judged and right / len(judged) >= 0.97, (right, len(judged))

    batch = services.batch_commit(actor=cast.admin, batch=batch)
    assert batch.status == "committed"
    assert batch.counts["people_created"] > 0  # BMN surveys everyone, not only the poor
    bmn = Source.objects.get(code="bmn-2568")
    assert PersonSource.objects.filter(source=bmn).count() >= counts["matched"] + batch.counts["people_created"] - 5
    assert Person.objects.filter(sources__source=bmn).filter(sources__source__code="tpmap-2568").exists()
    # People created from one survey household (รหัสบ้าน) live in one registry household.
    by_house: dict[str, set[int | None]] = {}
    household_of = dict(Person.objects.values_list("id", "household_id"))
    for r in batch.rows.filter(outcome="new", person__isnull=False):
        by_house.setdefault(r.clean["household_key"], set()).add(household_of.get(r.person_id or 0))
    assert by_house and sum(len(h) == 1 for h in by_house.values()) >= 0.9 * len(by_house)

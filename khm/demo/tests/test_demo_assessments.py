"""Demo assessments: two scored rounds with every level, change between them, valid answers,
idempotent."""

from __future__ import annotations

from collections import Counter
from io import StringIO

import pytest
from django.core.management import call_command

from khm.assessment import instruments as inst
from khm.assessment.models import Assessment, AssessmentResult, RunStatus, ScoringRun
from khm.audit.models import AuditEvent
from khm.demo.assessments import seed_assessments
from khm.engines import scoring
from khm.registry.models import Household, Person
from khm.sources.models import ImportBatch, MappingProfile, PersonSource, Source, SourceKind
from khm.sources.profiles import install_profiles


@pytest.fixture
def seeded(cast):
    # The cast's four villages get a small synthetic population next to the memorable household.
    call_command("generate_population", people=600, seed=1, area="46", stdout=StringIO())
    lines = seed_assessments(seed=46)
    return cast, lines


def current_levels(round_: str) -> dict[int, int]:
    rows = AssessmentResult.objects.filter(current=True, round=round_).values_list("household_id", "level")
    return dict(rows)


@pytest.mark.django_db
def test_two_scored_rounds_with_every_level(seeded):
    _, lines = seeded
    assert set(Assessment.objects.values_list("round", flat=True)) == {"2567", "2568"}
    runs = ScoringRun.objects.order_by("id")
    assert [r.round for r in runs] == ["2567", "2568"]  # one run per round, the older first
    assert all(r.status == RunStatus.DONE for r in runs)
    for r in runs:
        assert r.n_assessments == Assessment.objects.filter(round=r.round).count()
    households = Household.objects.count()
    first = Assessment.objects.filter(round="2567").count()
    assert 0.5 * households <= first <= 0.7 * households  # about 60 %
    assert 0.75 * first <= Assessment.objects.filter(round="2568").count() <= first  # most again
    for round_ in ("2567", "2568"):
        levels = Counter(current_levels(round_).values())
        assert set(levels) == {1, 2, 3, 4}, levels
    assert {a.assessed_on.year for a in Assessment.objects.filter(round="2567")} == {2024}
    assert {a.assessed_on.month for a in Assessment.objects.all()} == {6}
    assert any(line.startswith("scoring run") for line in lines)


@pytest.mark.django_db
def test_households_improve_and_decline_between_rounds(seeded):
    before, after = current_levels("2567"), current_levels("2568")
    both = before.keys() & after.keys()
    better = sum(1 for h in both if after[h] > before[h])
    worse = sum(1 for h in both if after[h] < before[h])
    assert better > worse > 0
    assert better + worse < len(both)  # most stay where they were


@pytest.mark.django_db
def test_every_assessment_fits_its_instruments(seeded):
    cast, _ = seeded
    for a in Assessment.objects.select_related("capitals_instrument", "bmn_instrument", "household"):
        capitals = inst.definition(a.capitals_instrument)
        assert capitals is not None
        assert scoring.check_answers(capitals, inst.definition(a.bmn_instrument), a.data) == [], a.ref
        assert a.data_hash == scoring.digest(a.data)
        assert a.method == "field"
        # every question answered, every household indicator answered
        items = {it["code"] for cap in capitals["capitals"] for it in cap["items"]}
        assert set(a.data["capitals"]) == items
        bmn = inst.definition(a.bmn_instrument) or {}
        hh = {i["code"] for i in bmn["indicators"] if i["level"] == "household"}
        assert set(a.data["bmn"]["household"]) == hh
        assert {m["key"] for m in a.data["members"]} >= set(a.data["bmn"]["persons"])
    # The volunteer of 46010101 assessed its households; nobody's assessment is unscored.
    village = Assessment.objects.filter(area_code="46010101")
    assert village.exists() and all(a.assessor_id == cast.vee.pk for a in village)
    assert not Assessment.objects.exclude(pk__in=AssessmentResult.objects.values("assessment_id")).exists()


@pytest.mark.django_db
def test_poor_households_hold_welfare_cards(seeded):
    poor = cards = 0
    for r in AssessmentResult.objects.filter(current=True, level__lte=2).select_related("assessment"):
        adults = [m for m in r.assessment.data["members"] if (m.get("age") or 0) >= 18]
        poor += len(adults)
        cards += sum(1 for m in adults if m["welfare_card"])
    assert poor and cards / poor > 0.6


@pytest.mark.django_db
def test_memorable_household_is_assessed_in_both_rounds(seeded):
    cast, _ = seeded
    levels = {r.round: r.level for r in AssessmentResult.objects.filter(household=cast.household, current=True)}
    assert set(levels) == {"2567", "2568"}
    assert levels["2568"] >= levels["2567"]


@pytest.mark.django_db
def test_households_on_a_poor_list_come_first(cast):
    call_command("generate_population", people=600, seed=1, area="46", stdout=StringIO())
    install_profiles()
    source = Source.objects.create(code="tpmap-2568", kind=SourceKind.TPMAP, name_th="TPMAP", round_label="2568")
    batch = ImportBatch.objects.create(
        code="B1", source=source, profile=MappingProfile.objects.filter(kind="tpmap").first(), file_name="t.csv",
        file_sha256="0" * 64, file_path="t.csv", uploaded_by=cast.admin,
    )  # fmt: skip
    heads = list(Person.objects.filter(relation="head").order_by("id")[::3])  # a third of the households
    PersonSource.objects.bulk_create(
        PersonSource(person=p, source=source, batch=batch, row_no=i) for i, p in enumerate(heads, start=2)
    )
    seed_assessments(seed=46)
    assessed = set(Assessment.objects.filter(round="2567").values_list("household_id", flat=True))
    listed = {p.household_id for p in heads}
    others = set(Household.objects.values_list("id", flat=True)) - listed
    assert listed <= assessed  # fewer listed households than assessments: every one of them
    assert 0 < len(assessed & others) < len(others)


@pytest.mark.django_db
def test_running_again_adds_nothing(seeded):
    counts = (Assessment.objects.count(), AssessmentResult.objects.count(), ScoringRun.objects.count())
    events = AuditEvent.objects.filter(action="assessment.bulk_load").count()
    assert events == 1
    assert seed_assessments(seed=46) == ["assessments already exist: left as they are"]
    assert (Assessment.objects.count(), AssessmentResult.objects.count(), ScoringRun.objects.count()) == counts
    assert AuditEvent.objects.filter(action="assessment.bulk_load").count() == events

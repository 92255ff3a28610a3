"""Every write of the assessment capability: instrument versions, assessments, scoring runs.

A scoring run is the only code that writes results. It records the instrument versions, the
code version and two hashes: ``inputs_hash`` (instrument definitions + every assessment's
answers) and ``outputs_hash`` (every result). Re-running an old run with its own instrument
versions must give the same ``outputs_hash``; the run says so in ``reproduced``.
"""

from __future__ import annotations

import builtins
import time
from collections.abc import Sequence
from importlib import metadata
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from khm.accounts.scoping import can, scope_for
from khm.assessment import instruments as inst
from khm.assessment.models import (
    Assessment,
    AssessmentMethod,
    AssessmentResult,
    Instrument,
    RunStatus,
    ScoringRun,
)
from khm.audit.services import audit_record
from khm.core.bulk import insert_rows
from khm.core.dates import age_on
from khm.engines import scoring
from khm.registry.models import Household, Person, PersonStatus, Relation, new_code

CHUNK = 2000


class AssessmentInvalid(ValueError):
    """The answers or the instrument do not fit: ``problems`` name each field, in Thai and English."""

    def __init__(self, problems: Sequence[scoring.Problem]):
        self.problems = list(problems)
        super().__init__("; ".join(str(p) for p in self.problems[:10]))


def code_version() -> str:
    try:
        version = metadata.version("khm")
    except metadata.PackageNotFoundError:  # pragma: no cover - running from a bare checkout
        version = "0"
    return f"khm {version} / {scoring.ENGINE_VERSION}"


# --------------------------------------------------------------------------- instruments


def instrument_save_version(*, actor: Any, code: str, definition: dict[str, Any], note: str) -> Instrument:
    """Save an edited instrument as the next version of ``code``; history is never changed."""
    if not can(actor, "instrument.edit"):
        raise PermissionDenied
    problems = scoring.validate(definition)
    if not problems and definition.get("code") != code:
        problems = [scoring.Problem("code", f"must stay '{code}'", f"รหัสต้องเป็น '{code}' เหมือนเดิม")]
    with transaction.atomic():
        previous = Instrument.objects.select_for_update().filter(code=code).order_by("-version").first()
        if previous is not None and not problems and definition.get("kind") != previous.kind:
            problems = [
                scoring.Problem("kind", f"must stay '{previous.kind}'", f"ชนิดต้องเป็น '{previous.kind}' เหมือนเดิม")
            ]
        if not problems:
            problems = _cross_check(definition)
        if problems:
            raise AssessmentInvalid(problems)
        checksum = scoring.digest(definition)
        if previous is not None and previous.checksum == checksum:
            raise AssessmentInvalid([scoring.Problem("", "nothing changed", "ไม่มีการเปลี่ยนแปลง")])
        created = Instrument.objects.create(
            kind=definition["kind"],
            code=code,
            version=(previous.version + 1) if previous else 1,
            title_th=definition["title"]["th"],
            title_en=definition["title"]["en"],
            definition=definition,
            checksum=checksum,
            note=note,
            created_by=actor,
        )
        audit_record(
            actor=actor,
            action="instrument.create",
            object_type="instrument",
            object_ref=str(created),
            changes={"version": created.version, "checksum": checksum},
            note=note,
        )
    return created


def _cross_check(definition: dict[str, Any]) -> list[scoring.Problem]:
    """A needs table must name questions, options and indicators that exist; a new
    questionnaire or indicator set must keep what the current needs table names."""
    kind = definition["kind"]
    cap = definition if kind == "capitals" else inst.definition(inst.current_of_kind("capitals"))
    bmn = definition if kind == "bmn" else inst.definition(inst.current_of_kind("bmn"))
    needs = definition if kind == "needs" else inst.definition(inst.current_of_kind("needs"))
    if needs is None:
        return []
    problems = scoring.cross_check(needs, cap, bmn)
    if kind != "needs" and problems:
        code = needs.get("code", "needs")
        return [
            scoring.Problem(
                p.path, f"the needs table {code} still uses it: {p.en}", f"ตารางความจำเป็น {code} ยังใช้อยู่: {p.th}"
            )
            for p in problems
        ]
    return problems


def instruments_install_defaults() -> list[Instrument]:
    """Version 1 of every shipped instrument that the database does not have yet."""
    made = []
    for d in inst.default_definitions():
        scoring.check(d)
        if Instrument.objects.filter(code=d["code"]).exists():
            continue
        made.append(
            Instrument.objects.create(
                kind=d["kind"],
                code=d["code"],
                version=1,
                title_th=d["title"]["th"],
                title_en=d["title"]["en"],
                definition=d,
                checksum=scoring.digest(d),
                note="KHM default",
            )
        )
    return made


# --------------------------------------------------------------------------- assessments


def roster(household: Household, on: Any) -> list[dict[str, Any]]:
    """The members as the assessment sees them (no names, no IDs: the person's ref is the key)."""
    out = []
    people = household.people.filter(status=PersonStatus.MEMBER).order_by("id")  # type: ignore[attr-defined]
    for p in people:
        assert isinstance(p, Person)
        out.append(
            {
                "key": p.ref,
                "age": age_on(p.birth_date, on) if p.birth_date else None,
                "sex": p.sex,
                "relation": p.relation,
                "disabled": bool(p.disability),
                "chronic": bool(p.chronic_illness),
                "welfare_card": False,
            }
        )
    return out


def assessment_record(
    *,
    actor: Any,
    household: Household,
    round: str,
    assessed_on: Any,
    method: str = AssessmentMethod.DESK,
    data: dict[str, Any],
    supersedes: Assessment | None = None,
    score_now: bool = True,
) -> Assessment:
    """Record one assessment taken with the current instruments and score it at once.

    Raises :class:`AssessmentInvalid` naming every wrong field; nothing is written then.
    """
    if not can(actor, "assessment.create", household.area_code):
        raise PermissionDenied
    capitals = inst.current_of_kind("capitals")
    bmn = inst.current_of_kind("bmn")
    if capitals is None:
        raise AssessmentInvalid([scoring.Problem("", "no questionnaire is installed", "ยังไม่มีแบบสอบถาม")])
    problems: list[scoring.Problem] = []
    if not str(round).strip().isdigit() or len(str(round).strip()) != 4:
        problems.append(scoring.Problem("round", "must be a Buddhist-Era year such as 2568", "ต้องเป็นปี พ.ศ. เช่น 2568"))
    problems += scoring.check_answers(inst.definition(capitals) or {}, inst.definition(bmn), data)
    if supersedes is not None and supersedes.household_id != household.pk:
        problems.append(scoring.Problem("supersedes", "belongs to another household", "เป็นของครัวเรือนอื่น"))
    if supersedes is None:
        # One current assessment per household and round: a new one replaces the last.
        supersedes = (
            Assessment.objects.filter(household=household, round=str(round).strip(), superseded_by__isnull=True)
            .order_by("-id")
            .first()
        )
    if problems:
        raise AssessmentInvalid(problems)
    # The round is part of the answers: it picks the survey period's income threshold.
    data = {**data, "round": str(round).strip()}
    with transaction.atomic():
        a = Assessment.objects.create(
            ref=new_code("A"),
            household=household,
            area_code=household.area_code,
            round=str(round).strip(),
            assessed_on=assessed_on,
            method=method,
            capitals_instrument=capitals,
            bmn_instrument=bmn,
            data=data,
            data_hash=scoring.digest(data),
            assessor=actor if getattr(actor, "is_authenticated", False) else None,
        )
        if supersedes is not None:
            Assessment.objects.filter(pk=supersedes.pk).update(superseded_by=a)
            AssessmentResult.objects.filter(assessment=supersedes).update(current=False)
        audit_record(
            actor=actor,
            action="assessment.create",
            object_type="assessment",
            object_ref=a.ref,
            area_code=household.area_code,
            changes={"household": household.code, "round": a.round, "method": method},
        )
        if score_now:
            _run(
                actor=actor,
                assessments=Assessment.objects.filter(pk=a.pk),
                area_code=household.area_code,
                round=a.round,
            )
    return a


# --------------------------------------------------------------------------- scoring runs


def _bits(bmn: dict[str, Any] | None, flags: dict[str, int | None]) -> tuple[int, int]:
    if bmn is None:
        return 0, 0
    dep = mis = 0
    for i, ind in enumerate(bmn["indicators"]):
        f = flags.get(ind["code"])
        if f == 1:
            dep |= 1 << i
        elif f is None:
            mis |= 1 << i
    return dep, mis


def _head(members: Sequence[dict[str, Any]]) -> tuple[str, int | None]:
    for m in members:
        if m.get("relation") == Relation.HEAD:
            return str(m.get("sex") or ""), m.get("age")
    return "", None


def _result_row(
    run: ScoringRun, a: tuple[int, int, str, str, Any], result: dict[str, Any], rhash: str, bmn: Any, current: bool
) -> tuple[Any, ...]:
    aid, hid, area, rnd, data = a
    caps = result["capitals"]
    dep, mis = _bits(bmn, (result.get("bmn") or {}).get("household", {}))
    sex, age = _head(data.get("members") or [])
    return (
        run.pk, aid, hid, area, rnd, current, result["level"], result["overall"],
        caps["human"]["score"], caps["physical"]["score"], caps["financial"]["score"],
        caps["natural"]["score"], caps["social"]["score"], dep, mis,
        bool(result.get("tpmap_poor")), bool(result.get("target_poor")), result.get("mpi_score"), result.get("mpi_poor"),
        sex, age, len(data.get("members") or []), [n["code"] for n in result["needs"]], result, rhash,
    )  # fmt: skip


RESULT_COLUMNS = (
    "run_id", "assessment_id", "household_id", "area_code", "round", "current", "level", "overall",
    "human", "physical", "financial", "natural", "social", "deprived_bits", "missing_bits",
    "tpmap_poor", "target_poor", "mpi_score", "mpi_poor", "head_sex", "head_age", "size", "needs", "detail", "result_hash",
)  # fmt: skip


def _run(
    *,
    actor: Any,
    assessments: QuerySet[Assessment],
    area_code: str,
    round: str,
    instruments: tuple[Instrument, Instrument | None, Instrument | None] | None = None,
    rerun_of: ScoringRun | None = None,
) -> ScoringRun:
    started = time.perf_counter()
    if instruments is None:
        capitals = inst.current_of_kind("capitals")
        assert capitals is not None
        instruments = (capitals, inst.current_of_kind("bmn"), inst.current_of_kind("needs"))
    cap_i, bmn_i, needs_i = instruments
    bundle = inst.bundle(cap_i, bmn_i, needs_i)
    with transaction.atomic():
        run = ScoringRun.objects.create(
            capitals_instrument=cap_i,
            bmn_instrument=bmn_i,
            needs_instrument=needs_i,
            code_version=code_version(),
            area_code=area_code,
            round=round,
            rerun_of=rerun_of,
            created_by=actor if getattr(actor, "is_authenticated", False) else None,
        )
        rows = assessments.order_by("pk").values_list("pk", "household_id", "area_code", "round", "data", "data_hash")
        current = rerun_of is None
        inputs: list[tuple[int, str]] = []
        outputs: list[tuple[int, str]] = []
        ids: list[int] = []
        batch: list[tuple[Any, ...]] = []
        n = 0

        def flush() -> None:
            if current and ids:
                AssessmentResult.objects.filter(assessment_id__in=ids, current=True).update(current=False)
            insert_rows(AssessmentResult, RESULT_COLUMNS, batch)
            batch.clear()
            ids.clear()

        for aid, hid, area, rnd, data, dhash in rows.iterator(chunk_size=CHUNK):
            result = scoring.score(bundle, data)
            rhash = scoring.digest(result)
            inputs.append((aid, dhash))
            outputs.append((aid, rhash))
            ids.append(aid)
            batch.append(_result_row(run, (aid, hid, area, rnd, data), result, rhash, bundle.bmn, current))
            n += 1
            if len(batch) >= CHUNK:
                flush()
        flush()
        run.n_assessments = n
        run.inputs_hash = scoring.digest(
            {"engine": scoring.ENGINE_VERSION, "instruments": bundle.key(), "assessments": inputs}
        )
        run.outputs_hash = scoring.digest(outputs)
        if rerun_of is not None:
            run.reproduced = run.inputs_hash == rerun_of.inputs_hash and run.outputs_hash == rerun_of.outputs_hash
        run.status = RunStatus.DONE
        run.finished_at = timezone.now()
        run.seconds = builtins.round(time.perf_counter() - started, 3)
        run.save()
        audit_record(
            actor=actor,
            action="scoring_run.create",
            object_type="scoring_run",
            object_ref=str(run.pk),
            area_code=area_code,
            changes={
                "assessments": n,
                "instruments": [str(i) for i in instruments if i is not None],
                "rerun_of": rerun_of.pk if rerun_of else None,
                "reproduced": run.reproduced,
            },
        )
    return run


def scoring_run_start(*, actor: Any, area_code: str = "", round: str = "") -> ScoringRun:
    """Score every current assessment in ``area_code`` (within the actor's scope) with the
    current instrument versions. Earlier results stay; the new ones become current."""
    scope = scope_for(actor, "assessment.score")
    if area_code:
        if not can(actor, "assessment.score", area_code):
            raise PermissionDenied
        scope = scope.restricted_to(area_code)
    elif scope.empty:
        raise PermissionDenied
    qs = Assessment.objects.filter(scope.q("area_code"), superseded_by__isnull=True)
    if round:
        qs = qs.filter(round=round)
    return _run(actor=actor, assessments=qs, area_code=area_code, round=round)


def scoring_run_rerun(*, actor: Any, run: ScoringRun) -> ScoringRun:
    """Compute ``run`` again with its own instrument versions on its own assessments; the
    new run says whether it reproduced the old one exactly. Results of a re-run are kept but
    never become current."""
    if not can(actor, "assessment.score", run.area_code or None):
        raise PermissionDenied
    scope = scope_for(actor, "assessment.score")
    ids = AssessmentResult.objects.filter(run=run).values("assessment_id")
    qs = Assessment.objects.filter(scope.q("area_code"), pk__in=ids)
    return _run(
        actor=actor,
        assessments=qs,
        area_code=run.area_code,
        round=run.round,
        instruments=(run.capitals_instrument, run.bmn_instrument, run.needs_instrument),
        rerun_of=run,
    )

"""The figures of a set of villages, computed from the data: every dashboard number starts here.

Each function returns rows ``(village, round, dim, metric, value)``; all metrics are additive.

Registry (round ""): ``households`` (active), ``people`` (current members).

Lists (round = the source's year): ``listed_people`` / ``listed_households`` — current members
(and their households) on any list (dim "") or on lists of one kind (dim ``source:<kind>``).

Verification (round = the campaign's round, else the Buddhist-Era year of the visit):
``verified`` — households verified in the round (dim ""), and by the outcome of their latest
verification (dim ``outcome:<outcome>``).

Assessment (round = the result's round, current results only), for every subset (dim "" all
assessed households, ``sex:F|M`` of the head, ``age:<band>`` of the head, ``size:<band>``,
``level:<1-4>``, ``dep:<indicator>`` households deprived in that BMN indicator):
``assessed``, ``level1`` … ``level4``, ``target_poor``, ``tpmap_poor``, ``mpi_n`` (households
with an MPI score), ``mpi_q`` (MPI poor), ``mpi_sum`` (sum of the scores of the MPI poor: A =
mpi_sum / mpi_q, H = mpi_q / mpi_n, M0 = mpi_sum / mpi_n); for all households (dim "") also
``cap_n`` and ``cap_<capital>`` (sums of the five capital scores, for the mean pentagon).

Help (as in referral tracking, docs/referrals.md): per round, of the target poor,
``target_referred`` (a referral was sent) and ``target_helped`` (any assistance record), and
``help_value_target`` (baht given to them); round "": ``help_value`` and ``help_records`` (all
assistance), ``referrals_sent``, ``referrals_open``, ``referrals_overdue`` (open and past due on
the day of the refresh).

Forums (round ""): ``confirmed``, ``not_poor``, ``graduated``, ``followed`` (graduated and still
followed on the day of the refresh) — households by standing.

Livelihoods (round ""): ``linked`` (households linked to an enterprise), ``income_n`` (of them,
with a baseline and a follow-up income, as on the impact page), ``income_pct_n`` (baseline
above 0), ``income_gain20`` (more than 20 % gain), ``income_change_sum`` (baht a month).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence

import polars as pl
from django.db.models import Count, Min, Q, Sum
from django.utils import timezone

from khm.assessment.selectors import CAPITALS, _band_age, _band_size, _decode
from khm.core.dates import BE_OFFSET
from khm.fieldwork.models import Verification
from khm.forums.models import HouseholdStanding, Standing
from khm.livelihoods.models import IncomeRecord, Link
from khm.referrals.models import OPEN_STATES, Assistance, Referral
from khm.registry.models import Household, HouseholdStatus, Person, PersonStatus
from khm.sources.models import PersonSource

Row = tuple[str, str, str, str, float]
CHUNK = 400  # villages per query


def _chunks(codes: Sequence[str]) -> Iterable[list[str]]:
    for i in range(0, len(codes), CHUNK):
        yield list(codes[i : i + CHUNK])


def registry(villages: list[str]) -> list[Row]:
    out: list[Row] = []
    for v, n in (
        Household.objects.filter(area_code__in=villages, status=HouseholdStatus.ACTIVE)
        .values_list("area_code")
        .annotate(n=Count("id"))
        .order_by()
    ):
        out.append((v, "", "", "households", n))
    for v, n in (
        Person.objects.filter(
            household__area_code__in=villages, household__status=HouseholdStatus.ACTIVE, status=PersonStatus.MEMBER
        )
        .values_list("household__area_code")
        .annotate(n=Count("id"))
        .order_by()
    ):
        out.append((v, "", "", "people", n))
    return out


def lists(villages: list[str]) -> list[Row]:
    out: list[Row] = []
    base = PersonSource.objects.filter(person__household__area_code__in=villages, person__status=PersonStatus.MEMBER)
    area, rnd, kind = "person__household__area_code", "source__round_label", "source__kind"
    for v, r, n, h in (
        base.values_list(area, rnd)
        .annotate(n=Count("person_id", distinct=True), h=Count("person__household_id", distinct=True))
        .order_by()
    ):
        out += [(v, r, "", "listed_people", n), (v, r, "", "listed_households", h)]
    for v, r, k, n, h in (
        base.values_list(area, rnd, kind)
        .annotate(n=Count("person_id", distinct=True), h=Count("person__household_id", distinct=True))
        .order_by()
    ):
        out += [(v, r, f"source:{k}", "listed_people", n), (v, r, f"source:{k}", "listed_households", h)]
    return out


def verification(villages: list[str]) -> list[Row]:
    latest: dict[tuple[str, str, int], str] = {}
    rows = (
        Verification.objects.filter(area_code__in=villages)
        .order_by("verified_on", "received_at")
        .values_list("area_code", "campaign__round", "verified_on", "household_id", "outcome")
    )
    for v, campaign_round, on, hid, outcome in rows:
        r = campaign_round or str(on.year + BE_OFFSET)
        latest[(v, r, hid)] = outcome  # later visits win
    counts: dict[tuple[str, str, str], int] = defaultdict(int)
    for (v, r, _hid), outcome in latest.items():
        counts[(v, r, "")] += 1
        counts[(v, r, f"outcome:{outcome}")] += 1
    return [(v, r, d, "verified", n) for (v, r, d), n in counts.items()]


_RESULT_COLUMNS = (
    "area_code", "level", *CAPITALS, "deprived_bits", "missing_bits", "tpmap_poor", "target_poor",
    "mpi_score", "mpi_poor", "head_sex", "head_age", "size", "run__bmn_instrument_id",
)  # fmt: skip
_RESULT_SCHEMA = {
    "area_code": pl.Utf8, "level": pl.Int64, **dict.fromkeys(CAPITALS, pl.Float64), "deprived_bits": pl.Int64,
    "missing_bits": pl.Int64, "tpmap_poor": pl.Boolean, "target_poor": pl.Boolean, "mpi_score": pl.Float64,
    "mpi_poor": pl.Boolean, "head_sex": pl.Utf8, "head_age": pl.Int64, "size": pl.Int64, "bmn": pl.Int64,
}  # fmt: skip


def _results(villages: list[str], rnd: str) -> pl.DataFrame:
    from khm.assessment.models import AssessmentResult

    rows = AssessmentResult.objects.filter(area_code__in=villages, current=True, round=rnd).values_list(
        *_RESULT_COLUMNS
    )
    return pl.DataFrame(list(rows), schema=_RESULT_SCHEMA, orient="row")


def assessment(villages: list[str], rounds: Iterable[str]) -> list[Row]:
    out: list[Row] = []
    for rnd in rounds:
        df = _results(villages, rnd)
        if df.is_empty():
            continue
        df, codes = _decode(df)
        df = df.with_columns(_band_age("head_age").alias("age_band"), _band_size("size").alias("size_band"))
        subsets: list[tuple[str, pl.Expr]] = [("", pl.lit(True))]
        subsets += [(f"sex:{s}", pl.col("head_sex") == s) for s in ("F", "M")]
        subsets += [(f"age:{b}", pl.col("age_band") == b) for b in df["age_band"].drop_nulls().unique().to_list()]
        subsets += [(f"size:{b}", pl.col("size_band") == b) for b in df["size_band"].drop_nulls().unique().to_list()]
        subsets += [(f"level:{n}", pl.col("level") == n) for n in (1, 2, 3, 4)]
        subsets += [(f"dep:{c}", pl.col(c) == 1) for c in codes if c in df.columns]
        aggs = [
            pl.len().alias("assessed"),
            *[(pl.col("level") == n).sum().alias(f"level{n}") for n in (1, 2, 3, 4)],
            pl.col("target_poor").sum().alias("target_poor"),
            pl.col("tpmap_poor").sum().alias("tpmap_poor"),
            pl.col("mpi_score").is_not_null().sum().alias("mpi_n"),
            (pl.col("mpi_poor") == True).sum().alias("mpi_q"),  # noqa: E712  (polars expression)
            pl.when(pl.col("mpi_poor") == True).then(pl.col("mpi_score")).otherwise(0).sum().alias("mpi_sum"),  # noqa: E712
            pl.col(CAPITALS[0]).is_not_null().sum().alias("cap_n"),
            *[pl.col(c).fill_null(0).sum().alias(f"cap_{c}") for c in CAPITALS],
        ]
        for dim, cond in subsets:
            part = df.filter(cond)
            if part.is_empty():
                continue
            # The mean pentagon is drawn for all households only: subsets skip its sums.
            wanted = aggs if dim == "" else aggs[: -len(CAPITALS) - 1]
            for row in part.group_by("area_code").agg(wanted).iter_rows(named=True):
                v = row.pop("area_code")
                out += [(v, rnd, dim, k, float(val or 0)) for k, val in row.items() if val]
    return out


def help_(villages: list[str], rounds: Iterable[str], today: dt.date) -> list[Row]:
    from khm.assessment.models import AssessmentResult

    out: list[Row] = []
    for rnd in rounds:
        target = AssessmentResult.objects.filter(area_code__in=villages, current=True, round=rnd, target_poor=True)
        ids = target.values("household_id")
        for v, n in (
            target.filter(household__referrals__sent_at__isnull=False)
            .values_list("area_code")
            .annotate(n=Count("household_id", distinct=True))
            .order_by()
        ):
            out.append((v, rnd, "", "target_referred", n))
        helped = Assistance.objects.filter(household_id__in=ids, area_code__in=villages)
        for v, n, value in (
            helped.values_list("area_code")
            .annotate(n=Count("household_id", distinct=True), s=Sum("value_baht"))
            .order_by()
        ):
            out += [(v, rnd, "", "target_helped", n), (v, rnd, "", "help_value_target", float(value or 0))]
    for v, n, value in (
        Assistance.objects.filter(area_code__in=villages)
        .values_list("area_code")
        .annotate(n=Count("id"), s=Sum("value_baht"))
        .order_by()
    ):
        out += [(v, "", "", "help_records", n), (v, "", "", "help_value", float(value or 0))]
    refs = Referral.objects.filter(area_code__in=villages, sent_at__isnull=False)
    for v, n, o, late in (
        refs.values_list("area_code")
        .annotate(
            n=Count("id"),
            o=Count("id", filter=Q(state__in=OPEN_STATES)),
            late=Count("id", filter=Q(state__in=OPEN_STATES, due_on__lt=today)),
        )
        .order_by()
    ):
        out += [
            (v, "", "", "referrals_sent", n),
            (v, "", "", "referrals_open", o),
            (v, "", "", "referrals_overdue", late),
        ]
    return out


def standing(villages: list[str], today: dt.date) -> list[Row]:
    out: list[Row] = []
    metric = {Standing.CONFIRMED: "confirmed", Standing.NOT_POOR: "not_poor", Standing.GRADUATED: "graduated"}
    for v, status, n, followed in (
        HouseholdStanding.objects.filter(area_code__in=villages)
        .values_list("area_code", "status")
        .annotate(n=Count("id"), f=Count("id", filter=Q(follow_until__gte=today)))
        .order_by()
    ):
        if status in metric:
            out.append((v, "", "", metric[status], n))
        if status == Standing.GRADUATED and followed:
            out.append((v, "", "", "followed", followed))
    return out


def livelihoods(villages: list[str]) -> list[Row]:
    from khm.engines import matching

    out: list[Row] = []
    # Households are counted where they live now (a linked household may have moved).
    starts = dict(
        Link.objects.filter(household__area_code__in=villages)
        .values_list("household_id")
        .annotate(s=Min("started_on"))
        .order_by()
        .values_list("household_id", "s")
    )
    if not starts:
        return out
    area = dict(Household.objects.filter(pk__in=list(starts)).values_list("pk", "area_code"))
    periods: dict[int, list[matching.Period]] = defaultdict(list)
    for hid, start, end, total in (
        IncomeRecord.objects.filter(household_id__in=list(starts))
        .values("household_id", "period_start", "period_end")
        .annotate(total=Sum("amount_baht"))
        .values_list("household_id", "period_start", "period_end", "total")
        .order_by()
    ):
        periods[hid].append(matching.Period(start, end, float(total)))
    acc: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for hid, start in starts.items():
        a = acc[area[hid]]
        a["linked"] += 1
        change = matching.change_at(str(hid), periods.get(hid, []), start)
        if change is None:
            continue
        a["income_n"] += 1
        a["income_change_sum"] += change.change
        if change.pct is not None:
            a["income_pct_n"] += 1
            a["income_gain20"] += 1 if change.gained_over_threshold else 0
    for v, metrics in acc.items():
        out += [(v, "", "", k, val) for k, val in metrics.items() if val]
    return out


def rounds_present(villages: list[str]) -> list[str]:
    from khm.assessment.models import AssessmentResult

    return sorted(
        set(
            AssessmentResult.objects.filter(area_code__in=villages, current=True)
            .values_list("round", flat=True)
            .order_by()  # no default ordering in the DISTINCT: the (round, area_code) index answers
            .distinct()
        )
    )


def village_facts(villages: Sequence[str], today: dt.date | None = None) -> list[Row]:
    """Every figure of these villages."""
    today = today or timezone.localdate()
    out: list[Row] = []
    for chunk in _chunks(sorted(villages)):
        rounds = rounds_present(chunk)
        out += registry(chunk)
        out += lists(chunk)
        out += verification(chunk)
        out += assessment(chunk, rounds)
        out += help_(chunk, rounds, today)
        out += standing(chunk, today)
        out += livelihoods(chunk)
    return [r for r in out if r[4]]

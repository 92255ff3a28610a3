"""Tracking: is help reaching the target poor? Aggregates only, never a name.

Every figure is computed for one *area* (any level) inside the asker's ``tracking.view``
scope, one survey *round* and, optionally, one agency. Agency workers (who hold no other
role that may track) see only their own agency's referrals and assistance; the target-poor
count, a plain aggregate, stays the area's.

Definitions (the same words are on the page and in the export):

``target``
    Households with a *current* :class:`~khm.assessment.models.AssessmentResult` of the
    round (a corrected assessment's old result is not current) with ``target_poor=True``,
    in the area. Each household counts once.
``referred``
    Of ``target``: households with at least one referral that was *sent* (``sent_at`` set;
    drafts never left the office), whatever its state now.
``helped``
    Of ``target``: households with at least one assistance record (any date, any kind,
    including 0-baht services such as a welfare registration).
``not_helped``
    ``target − helped``.
``share_helped``
    ``helped / target`` (None when there is no target household). The programme's goal is
    ``TARGET_SHARE`` = at least 10 % of the target poor helped.
``value_total`` (baht)
    Sum of ``value_baht`` of every assistance record in the area (any household, any date),
    also split by kind and by agency; ``value_target`` is the part given to ``target``
    households. Sums are exact (kept in satang).
``days`` (time from need to help)
    For each ``helped`` household: *start* = the local date of its first referral's
    ``sent_at`` (the earliest sent referral) or, when it has no sent referral, the date of the
    assessment that made it target poor; *end* = the earliest assistance ``given_on`` on or
    after *start*. ``days = end − start``. A household whose every assistance predates
    *start* has no such time and is counted in ``help_before_need`` instead.
    ``days_median`` is the median (mean of the two middle values for an even count);
    ``days_p90`` is the 90th percentile by the nearest-rank method (the smallest value such
    that at least 90 % of the households took that long or less).
``open`` / ``overdue``
    Referrals in the area whose state is open (sent, accepted, in progress); ``overdue`` are
    the open ones whose ``due_on`` is before *today*. Split by agency.

Loading (:func:`load_frames`) turns scoped querysets into polars frames; :func:`compute` is
a pure function of those frames, so the figures are tested on hand-built frames as well.
"""

from __future__ import annotations

import datetime as dt
import math
import statistics
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import polars as pl
from django.utils import timezone

from khm.accounts.scoping import Scope, scope_for
from khm.referrals.models import OPEN_STATES, Agency, Assistance, Referral

ACTION = "tracking.view"
TARGET_SHARE = 0.10

TARGET_SCHEMA = {"household_id": pl.Int64, "area_code": pl.Utf8, "assessed_on": pl.Date}
REFERRAL_SCHEMA = {
    "household_id": pl.Int64, "area_code": pl.Utf8, "agency_id": pl.Int64, "state": pl.Utf8,
    "sent_on": pl.Date, "due_on": pl.Date,
}  # fmt: skip
ASSISTANCE_SCHEMA = {
    "household_id": pl.Int64, "area_code": pl.Utf8, "agency_id": pl.Int64, "kind": pl.Utf8,
    "satang": pl.Int64, "given_on": pl.Date,
}  # fmt: skip


# --------------------------------------------------------------------------- who sees what


def agency_restriction(actor: Any) -> frozenset[int] | None:
    """The agencies whose referrals and assistance ``actor`` may count, or None for all.

    None when any current role other than agency worker lets the actor track (officers,
    forum secretaries, analysts); otherwise the agencies of the actor's organisations (an
    empty set when there are none, which counts nothing)."""
    from khm.accounts.roles import Role, role_allows
    from khm.referrals.services import agency_orgs

    now = timezone.now()
    for a in actor.assignments.all():
        if a.is_current(now) and a.role != Role.AGENCY_WORKER and role_allows(a.role, ACTION):
            return None
    orgs = agency_orgs(actor)
    return frozenset(Agency.objects.filter(organisation_id__in=orgs).values_list("pk", flat=True))


def tracking_scope(actor: Any, area_code: str) -> Scope:
    """The part of ``area_code`` the actor may track (empty when none)."""
    return scope_for(actor, ACTION).restricted_to(area_code)


# --------------------------------------------------------------------------- loading


def _local_date(value: dt.datetime | None) -> dt.date | None:
    if value is None:
        return None
    return timezone.localtime(value).date() if timezone.is_aware(value) else value.date()


def target_frame(scope: Scope, round: str) -> pl.DataFrame:
    """One row per target-poor household of the round in ``scope``."""
    from khm.assessment.models import AssessmentResult

    rows = (
        AssessmentResult.objects.filter(scope.q("area_code"), current=True, round=round, target_poor=True)
        .values_list("household_id", "area_code", "assessment__assessed_on")
        .order_by()
    )
    df = pl.DataFrame(list(rows), schema=TARGET_SCHEMA, orient="row")
    return df.group_by("household_id").agg(pl.col("area_code").first(), pl.col("assessed_on").min())


def referral_frame(scope: Scope, agencies: Iterable[int] | None) -> pl.DataFrame:
    qs = Referral.objects.filter(scope.q("area_code"))
    if agencies is not None:
        qs = qs.filter(agency_id__in=list(agencies))
    rows = [
        (h, area, ag, state, _local_date(sent), due)
        for h, area, ag, state, sent, due in qs.values_list(
            "household_id", "area_code", "agency_id", "state", "sent_at", "due_on"
        ).order_by()
    ]
    return pl.DataFrame(rows, schema=REFERRAL_SCHEMA, orient="row")


def assistance_frame(scope: Scope, agencies: Iterable[int] | None) -> pl.DataFrame:
    qs = Assistance.objects.filter(scope.q("area_code"))
    if agencies is not None:
        qs = qs.filter(agency_id__in=list(agencies))
    rows = [
        (h, area, ag, kind, int(value * 100), on)
        for h, area, ag, kind, value, on in qs.values_list(
            "household_id", "area_code", "agency_id", "kind", "value_baht", "given_on"
        ).order_by()
    ]
    return pl.DataFrame(rows, schema=ASSISTANCE_SCHEMA, orient="row")


@dataclass
class Frames:
    target: pl.DataFrame
    referrals: pl.DataFrame
    assistance: pl.DataFrame


def load_frames(scope: Scope, round: str, agencies: Iterable[int] | None) -> Frames:
    if scope.empty:
        return Frames(
            pl.DataFrame(schema=TARGET_SCHEMA),
            pl.DataFrame(schema=REFERRAL_SCHEMA),
            pl.DataFrame(schema=ASSISTANCE_SCHEMA),
        )
    agencies = None if agencies is None else list(agencies)
    return Frames(
        target_frame(scope, round) if round else pl.DataFrame(schema=TARGET_SCHEMA),
        referral_frame(scope, agencies),
        assistance_frame(scope, agencies),
    )


# --------------------------------------------------------------------------- figures


@dataclass
class Figures:
    target: int = 0
    referred: int = 0
    helped: int = 0
    not_helped: int = 0
    share_helped: float | None = None
    target_met: bool = False
    records: int = 0
    value_total: Decimal = Decimal("0.00")
    value_target: Decimal = Decimal("0.00")
    by_kind: list[dict[str, Any]] = field(default_factory=list)  # kind, records, value
    by_agency: list[dict[str, Any]] = field(default_factory=list)  # agency_id, records, households, value
    days_n: int = 0
    days_median: float | None = None
    days_p90: int | None = None
    help_before_need: int = 0
    open: int = 0
    overdue: int = 0
    open_by_agency: list[dict[str, Any]] = field(default_factory=list)  # agency_id, open, overdue
    children: dict[str, Figures] = field(default_factory=dict)


def baht(satang: int) -> Decimal:
    return (Decimal(satang) / 100).quantize(Decimal("0.01"))


def median(values: list[int]) -> float | None:
    return float(statistics.median(values)) if values else None


def p90(values: list[int]) -> int | None:
    """Nearest rank: the ⌈0.9·n⌉-th smallest value."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(math.ceil(0.9 * len(ordered)) - 1, 0)]


def days_to_help(target: pl.DataFrame, referrals: pl.DataFrame, assistance: pl.DataFrame) -> tuple[list[int], int]:
    """Days from need to help of each helped target household, and how many were helped only
    before their need was recorded (see the module's definition of ``days``)."""
    first_sent = (
        referrals.filter(pl.col("sent_on").is_not_null())
        .group_by("household_id")
        .agg(pl.col("sent_on").min().alias("first_sent"))
    )
    helped = target.join(assistance.select("household_id").unique(), on="household_id", how="semi")
    start = helped.join(first_sent, on="household_id", how="left").select(
        "household_id", pl.coalesce("first_sent", "assessed_on").alias("start")
    )
    after = (
        start.join(assistance.select("household_id", "given_on"), on="household_id", how="inner")
        .filter(pl.col("given_on") >= pl.col("start"))
        .group_by("household_id", "start")
        .agg(pl.col("given_on").min().alias("end"))
    )
    days = [int(d) for d in after.select((pl.col("end") - pl.col("start")).dt.total_days().alias("d"))["d"].to_list()]
    return days, start.height - after.height


def compute(frames: Frames, *, today: dt.date, child_len: int | None = None) -> Figures:
    """Every figure of the tracking page from the three frames (pure)."""
    fig = _figures(frames.target, frames.referrals, frames.assistance, today=today)
    if child_len:
        child = pl.col("area_code").str.slice(0, child_len)
        codes = set()
        for df in (frames.target, frames.referrals, frames.assistance):
            codes |= set(df.select(child.alias("c"))["c"].to_list())
        for code in sorted(codes):
            fig.children[code] = _figures(
                frames.target.filter(child == code),
                frames.referrals.filter(child == code),
                frames.assistance.filter(child == code),
                today=today,
            )
    return fig


def _figures(target: pl.DataFrame, referrals: pl.DataFrame, assistance: pl.DataFrame, *, today: dt.date) -> Figures:
    fig = Figures()
    sent = referrals.filter(pl.col("sent_on").is_not_null())
    fig.target = target.height
    fig.referred = target.join(sent.select("household_id").unique(), on="household_id", how="semi").height
    fig.helped = target.join(assistance.select("household_id").unique(), on="household_id", how="semi").height
    fig.not_helped = fig.target - fig.helped
    fig.share_helped = fig.helped / fig.target if fig.target else None
    fig.target_met = fig.share_helped is not None and fig.share_helped >= TARGET_SHARE
    fig.records = assistance.height
    fig.value_total = baht(int(assistance["satang"].sum() or 0))
    to_target = assistance.join(target.select("household_id"), on="household_id", how="semi")
    fig.value_target = baht(int(to_target["satang"].sum() or 0))
    fig.by_kind = [
        {"kind": r["kind"], "records": int(r["records"]), "value": baht(int(r["satang"]))}
        for r in assistance.group_by("kind")
        .agg(pl.len().alias("records"), pl.col("satang").sum())
        .sort(["satang", "kind"], descending=[True, False])
        .iter_rows(named=True)
    ]
    fig.by_agency = [
        {
            "agency_id": r["agency_id"],
            "records": int(r["records"]),
            "households": int(r["households"]),
            "value": baht(int(r["satang"])),
        }
        for r in assistance.group_by("agency_id")
        .agg(pl.len().alias("records"), pl.col("household_id").n_unique().alias("households"), pl.col("satang").sum())
        .sort(["satang", "agency_id"], descending=[True, False])
        .iter_rows(named=True)
    ]
    days, before = days_to_help(target, referrals, assistance)
    fig.days_n, fig.help_before_need = len(days), before
    fig.days_median, fig.days_p90 = median(days), p90(days)
    open_ = referrals.filter(pl.col("state").is_in([str(s) for s in OPEN_STATES])).with_columns(
        (pl.col("due_on").is_not_null() & (pl.col("due_on") < pl.lit(today))).alias("late")
    )
    fig.open = open_.height
    fig.overdue = int(open_["late"].sum() or 0)
    fig.open_by_agency = [
        {"agency_id": r["agency_id"], "open": int(r["open"]), "overdue": int(r["overdue"])}
        for r in open_.group_by("agency_id")
        .agg(pl.len().alias("open"), pl.col("late").sum().alias("overdue"))
        .sort(["overdue", "open", "agency_id"], descending=[True, True, False])
        .iter_rows(named=True)
    ]
    return fig


def tracking_figures(
    actor: Any, area_code: str, round: str, *, agency: Agency | None = None, today: dt.date | None = None
) -> Figures:
    """The figures ``actor`` may see for the area (empty figures outside their scope)."""
    scope = tracking_scope(actor, area_code)
    allowed = agency_restriction(actor)
    agencies: frozenset[int] | None = allowed
    if agency is not None:
        agencies = frozenset({agency.pk}) & allowed if allowed is not None else frozenset({agency.pk})
    frames = load_frames(scope, round, agencies)
    child_len = len(area_code) + 2 if len(area_code) < 8 else None
    return compute(frames, today=today or timezone.localdate(), child_len=child_len)

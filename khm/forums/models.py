"""Poverty forums (เวทีแก้จน), their agendas and resolutions; the household's standing on the
poor list and graduation out of it; community validation of a list (posting and appeals);
and agreements (MOUs) between organisations.

A resolution takes effect only through the services (services.py): a resolution to refer
creates referrals through the referral services, a decision on the list changes the
household's :class:`HouseholdStanding` through ``standing_set``; everything is audited.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from khm.accounts.models import Organisation
from khm.registry.models import Household

# --------------------------------------------------------------------------- standing


class Standing(models.TextChoices):
    """Where a household stands on the poor list."""

    LISTED = "listed", _("On a list, not yet decided")
    CONFIRMED = "confirmed", _("Confirmed poor")
    NOT_POOR = "not_poor", _("Not poor (taken off the list)")
    GRADUATED = "graduated", _("Graduated out of poverty")


ON_LIST = (Standing.LISTED, Standing.CONFIRMED)


class HouseholdStanding(models.Model):
    """The current standing of a household on the poor list (one row per household that was
    ever decided on). Households on a source list without a row are ``listed``."""

    household = models.OneToOneField(Household, on_delete=models.PROTECT, related_name="standing")
    area_code = models.CharField(max_length=8)
    status = models.CharField(_("standing"), max_length=12, choices=Standing.choices)
    since = models.DateField(_("since"))
    round = models.CharField(_("survey round"), max_length=4, blank=True)
    # Graduated households stay followed until this date; a fall back returns them.
    follow_until = models.DateField(_("followed until"), null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [models.Index(fields=["area_code", "status"], name="standing_area_idx")]

    def __str__(self) -> str:
        return f"{self.household_id}:{self.status}"


class StandingEvent(models.Model):
    """Every change of standing: from, to, when, why, by whom and on which decision."""

    household = models.ForeignKey(Household, on_delete=models.PROTECT, related_name="standing_events")
    area_code = models.CharField(max_length=8)
    from_status = models.CharField(max_length=12, choices=Standing.choices)
    to_status = models.CharField(max_length=12, choices=Standing.choices)
    on = models.DateField()
    reason = models.TextField(blank=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    resolution = models.ForeignKey("Resolution", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    appeal = models.ForeignKey("Appeal", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.from_status}→{self.to_status}"


class GraduationCriteria(models.Model):
    """Versioned graduation criteria (data, not code). Old versions are never changed."""

    version = models.PositiveIntegerField(unique=True)
    definition = models.JSONField()
    note = models.CharField(max_length=300, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-version"]
        verbose_name_plural = _("graduation criteria")

    def __str__(self) -> str:
        return f"graduation v{self.version}"


# --------------------------------------------------------------------------- forums


class ForumStatus(models.TextChoices):
    PLANNED = "planned", _("Planned")
    HELD = "held", _("Held (minutes in draft)")
    CLOSED = "closed", _("Closed (minutes final)")


class Forum(models.Model):
    """One meeting of a poverty forum at village, subdistrict, district or province level."""

    ref = models.CharField(max_length=16, unique=True)
    area_code = models.CharField(_("area"), max_length=8)
    # The area code padded to 8 digits, so the scoping primitive's ranges find the forum.
    area_key = models.CharField(max_length=8, editable=False)
    round = models.CharField(_("survey round"), max_length=4)
    number = models.PositiveIntegerField(_("meeting number"), default=1)  # ครั้งที่ n/ปี
    year_be = models.PositiveIntegerField(_("year (B.E.)"))
    title = models.CharField(_("title"), max_length=300)
    held_on = models.DateField(_("date"))
    starts_at = models.TimeField(_("starts at"), null=True, blank=True)
    ends_at = models.TimeField(_("ends at"), null=True, blank=True)
    place = models.CharField(_("place"), max_length=300)
    status = models.CharField(max_length=10, choices=ForumStatus.choices, default=ForumStatus.PLANNED)
    organisations = models.ManyToManyField(Organisation, blank=True, related_name="forums")
    chair_name = models.CharField(_("chair"), max_length=200, blank=True)
    chair_position = models.CharField(_("chair's position"), max_length=200, blank=True)
    recorder_name = models.CharField(_("minutes taken by"), max_length=200, blank=True)
    recorder_position = models.CharField(_("recorder's position"), max_length=200, blank=True)
    opening = models.TextField(_("matters the chair informs the meeting of"), blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-held_on", "-id"]
        indexes = [models.Index(fields=["area_key", "held_on"], name="forum_area_idx")]

    def __str__(self) -> str:
        return self.title

    def save(self, *args: object, **kwargs: object) -> None:
        self.area_key = self.area_code.ljust(8, "0")
        super().save(*args, **kwargs)  # type: ignore[arg-type]

    @property
    def level(self) -> int:
        return {2: 1, 4: 2, 6: 3, 8: 4}[len(self.area_code)]


class Attendee(models.Model):
    forum = models.ForeignKey(Forum, on_delete=models.CASCADE, related_name="attendees")
    name = models.CharField(_("name"), max_length=200)
    position = models.CharField(_("position"), max_length=200, blank=True)
    organisation = models.ForeignKey(Organisation, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    organisation_name = models.CharField(_("organisation"), max_length=200, blank=True)
    present = models.BooleanField(_("present"), default=True)
    note = models.CharField(_("note"), max_length=200, blank=True)  # e.g. on leave
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["order", "id"]

    def __str__(self) -> str:
        return self.name


class ItemKind(models.TextChoices):
    VERIFIED = "verified", _("Verified as poor: confirm the list")
    UNVERIFIED = "unverified", _("On a list, not verified this round")
    DISPUTED = "disputed", _("Disputed household")
    INTEGRATE = "integrate", _("Needs no single agency can meet")
    RETURNED = "returned", _("Referral returned by the agency")
    OVERDUE = "overdue", _("Referral overdue")
    GRADUATION = "graduation", _("Graduation candidate")
    APPEAL = "appeal", _("Appeal from the community")
    OTHER = "other", pgettext_lazy("agenda", "Other matter")


class ItemStatus(models.TextChoices):
    OPEN = "open", pgettext_lazy("agenda", "Waiting for a decision")
    DECIDED = "decided", _("Decided")
    CARRIED = "carried", _("Carried over to the next forum")
    ESCALATED = "escalated", _("Escalated to the higher forum")
    DROPPED = "dropped", _("Taken off the agenda")


class AgendaItem(models.Model):
    forum = models.ForeignKey(Forum, on_delete=models.PROTECT, related_name="items")
    number = models.PositiveIntegerField()
    kind = models.CharField(_("kind"), max_length=12, choices=ItemKind.choices)
    title = models.CharField(_("title"), max_length=300)
    detail = models.TextField(_("detail"), blank=True)
    # The village (households) or the forum's area: the scope in which the item may be read.
    area_code = models.CharField(max_length=8)
    household = models.ForeignKey(Household, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    referral = models.ForeignKey(
        "referrals.Referral", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    appeal = models.ForeignKey("Appeal", null=True, blank=True, on_delete=models.PROTECT, related_name="items")
    data = models.JSONField(default=dict, blank=True)  # why it is on the agenda (needs, criteria…)
    key = models.CharField(max_length=80)  # what the item is about, to add it once per forum
    carried_from = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="carried_to")
    escalated_from = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="escalated_to"
    )
    status = models.CharField(max_length=10, choices=ItemStatus.choices, default=ItemStatus.OPEN)
    drop_reason = models.CharField(max_length=300, blank=True)
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )  # None: built from the data

    class Meta:
        ordering = ["forum", "number"]
        constraints = [models.UniqueConstraint(fields=["forum", "key"], name="agenda_item_once")]
        indexes = [models.Index(fields=["area_code", "status"], name="agenda_area_idx")]

    def __str__(self) -> str:
        return f"{self.forum_id}/{self.number}"


class ResolutionKind(models.TextChoices):
    CONFIRM_POOR = "confirm_poor", _("Confirm as poor")
    NOT_POOR = "not_poor", _("Not poor: take off the list")
    REFER = "refer", _("Refer to agencies")
    HELP_PLAN = "help_plan", _("Integrated help plan")
    LINK_ENTERPRISE = "link_enterprise", _("Link to a community enterprise")
    APPROVE_GRADUATION = "approve_graduation", _("Approve graduation")
    DEFER_GRADUATION = "defer_graduation", _("Defer graduation")
    UPHOLD_APPEAL = "uphold_appeal", _("Uphold the appeal")
    REJECT_APPEAL = "reject_appeal", _("Reject the appeal")
    ESCALATE = "escalate", _("Escalate to the higher forum")
    CARRY_OVER = "carry_over", _("Carry over to the next forum")
    NOTED = "noted", _("Noted")


class Resolution(models.Model):
    """The forum's decision on one agenda item and what it did (``effects``)."""

    item = models.OneToOneField(AgendaItem, on_delete=models.PROTECT, related_name="resolution")
    kind = models.CharField(_("resolution"), max_length=20, choices=ResolutionKind.choices)
    text = models.TextField(_("resolution text"))
    data = models.JSONField(default=dict, blank=True)
    # Who decided: [{"name": ..., "role": ...}], printed under the resolution.
    signatures = models.JSONField(default=list, blank=True)
    effects = models.JSONField(default=list, blank=True)  # ["referral R…", "standing confirmed", …]
    decided_on = models.DateField()
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["item__number"]

    def __str__(self) -> str:
        return f"{self.item_id}:{self.kind}"


class PlanTask(models.Model):
    """One responsibility of an integrated help plan: who does what by when."""

    resolution = models.ForeignKey(Resolution, on_delete=models.PROTECT, related_name="tasks")
    agency = models.ForeignKey("referrals.Agency", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    responsible = models.CharField(_("responsible"), max_length=200, blank=True)  # when not an agency
    need = models.CharField(_("need"), max_length=60, blank=True)
    task = models.CharField(_("task"), max_length=300)
    due_on = models.DateField(_("due on"))
    referral = models.ForeignKey(
        "referrals.Referral", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["due_on", "id"]

    def __str__(self) -> str:
        return self.task


# --------------------------------------------------------------------------- validation


class PostingStatus(models.TextChoices):
    OPEN = "open", _("Posted for comment")
    FINAL = "final", _("Final")
    WITHDRAWN = "withdrawn", _("Withdrawn")


class Posting(models.Model):
    """A list posted for the community to check (notice board and a page) before it is final."""

    ref = models.CharField(max_length=16, unique=True)
    area_code = models.CharField(_("village"), max_length=8)
    round = models.CharField(_("survey round"), max_length=4)
    opens_on = models.DateField(_("posted on"))
    closes_on = models.DateField(_("open for appeals until"))
    appeal_days = models.PositiveSmallIntegerField(_("days for the forum to decide an appeal"), default=15)
    token = models.CharField(max_length=43, unique=True)  # the page's unguessable address
    status = models.CharField(max_length=10, choices=PostingStatus.choices, default=PostingStatus.OPEN)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    finalised_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-opens_on", "-id"]

    def __str__(self) -> str:
        return self.ref


class PostedEntry(models.Model):
    """One line of the posted list, as posted: masked, numbered."""

    posting = models.ForeignKey(Posting, on_delete=models.PROTECT, related_name="entries")
    number = models.PositiveIntegerField()
    household = models.ForeignKey(Household, on_delete=models.PROTECT, related_name="+")
    masked_name = models.CharField(max_length=200)
    house_no = models.CharField(max_length=20)

    class Meta:
        ordering = ["posting", "number"]
        constraints = [models.UniqueConstraint(fields=["posting", "number"], name="posted_entry_once")]

    def __str__(self) -> str:
        return f"{self.posting_id}#{self.number}"


class AppealCategory(models.TextChoices):
    WRONGLY_INCLUDED = "wrongly_included", _("Wrongly included: this household is not poor")
    WRONGLY_EXCLUDED = "wrongly_excluded", _("Wrongly excluded: a poor household is missing")
    WRONG_DATA = "wrong_data", _("Wrong data about a household")
    GRIEVANCE = "grievance", _("Other grievance")


class AppealStatus(models.TextChoices):
    OPEN = "open", _("Waiting for the forum")
    UPHELD = "upheld", _("Upheld")
    REJECTED = "rejected", _("Rejected")


class Appeal(models.Model):
    ref = models.CharField(max_length=16, unique=True)
    posting = models.ForeignKey(Posting, null=True, blank=True, on_delete=models.PROTECT, related_name="appeals")
    area_code = models.CharField(max_length=8)
    category = models.CharField(_("category"), max_length=20, choices=AppealCategory.choices)
    entry = models.ForeignKey(PostedEntry, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    household = models.ForeignKey(Household, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    about = models.CharField(_("household concerned (name, house number)"), max_length=300, blank=True)
    description = models.TextField(_("what is wrong"))
    lodged_by_name = models.CharField(_("your name"), max_length=200, blank=True)
    lodged_by_contact = models.CharField(_("phone or address to reply to"), max_length=200, blank=True)
    lodged_via = models.CharField(max_length=10, default="web")  # web | paper
    lodged_at = models.DateTimeField(auto_now_add=True)
    due_on = models.DateField(_("decide by"))
    status = models.CharField(max_length=10, choices=AppealStatus.choices, default=AppealStatus.OPEN)
    decision = models.TextField(_("decision"), blank=True)
    decided_on = models.DateField(null=True, blank=True)
    corrections = models.JSONField(default=dict, blank=True)  # wrong data: field → new value

    class Meta:
        ordering = ["-lodged_at", "-id"]
        indexes = [models.Index(fields=["area_code", "status"], name="appeal_area_idx")]

    def __str__(self) -> str:
        return self.ref


# --------------------------------------------------------------------------- agreements


class Agreement(models.Model):
    """A memorandum of understanding between organisations: who, what, where, how long."""

    ref = models.CharField(max_length=16, unique=True)
    title = models.CharField(_("title"), max_length=300)
    parties = models.ManyToManyField(Organisation, related_name="agreements")
    scope = models.TextField(_("scope of cooperation"))
    areas = models.JSONField(_("areas"), default=list)  # area codes (any level)
    signed_on = models.DateField(_("signed on"))
    starts_on = models.DateField(_("valid from"))
    ends_on = models.DateField(_("valid until"), null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-signed_on", "-id"]

    def __str__(self) -> str:
        return self.title

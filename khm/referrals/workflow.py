"""The referral workflow as one table: every allowed transition, who may make it and whether
a reason is required. ``services.referral_transition`` is the only code that changes a state
and refuses everything not listed here."""

from __future__ import annotations

from dataclasses import dataclass

from khm.referrals.models import State


@dataclass(frozen=True)
class Rule:
    by: str  # "officer" (referral.create in the area) or "agency" (a worker of the referral's agency)
    reason: bool = False  # a reason is required
    new_agency: bool = False  # the referral must go to another agency


TRANSITIONS: dict[tuple[str, str], Rule] = {
    (State.DRAFT, State.SENT): Rule("officer"),
    (State.DRAFT, State.CANCELLED): Rule("officer"),
    (State.SENT, State.ACCEPTED): Rule("agency"),
    (State.SENT, State.RETURNED): Rule("agency", reason=True),
    (State.SENT, State.CANCELLED): Rule("officer", reason=True),
    (State.ACCEPTED, State.IN_PROGRESS): Rule("agency"),
    (State.ACCEPTED, State.NOT_POSSIBLE): Rule("agency", reason=True),
    (State.IN_PROGRESS, State.COMPLETED): Rule("agency"),
    (State.IN_PROGRESS, State.NOT_POSSIBLE): Rule("agency", reason=True),
    (State.RETURNED, State.SENT): Rule("officer", new_agency=True),
    (State.RETURNED, State.CANCELLED): Rule("officer", reason=True),
}


def allowed(from_state: str, to_state: str) -> Rule | None:
    return TRANSITIONS.get((from_state, to_state))


def next_states(from_state: str, by: str) -> list[str]:
    return [to for (fr, to), rule in TRANSITIONS.items() if fr == from_state and rule.by == by]

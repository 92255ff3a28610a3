"""Referral fixtures on top of the project cast (conftest.py at the root).

* ``pso`` — the Agency of ``cast.orgs["agency"]`` (the cast's ``agency`` user works there),
  covering Kalasin, with an e-mail, a LINE ID and an escalation e-mail;
* ``other`` — a second agency with its own organisation and worker (``other.worker``);
* ``service`` — a service of ``pso`` with its own ``due_days``;
* ``ploy`` and ``dara`` get e-mail addresses (the creator of a returned referral is told;
  the district officer is told of overdue ones).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Any

import pytest

from khm.referrals import services, workflow
from khm.referrals.models import Agency, Referral, Service, State

SERVICE_DUE_DAYS = 14


@dataclass
class Other:
    agency: Agency
    worker: Any


@dataclass
class World:
    cast: Any
    pso: Agency
    other: Other
    service: Service

    def worker_of(self, agency: Agency) -> Any:
        return self.cast.agency if agency.pk == self.pso.pk else self.other.worker

    def actor_for(self, rule: workflow.Rule, referral: Referral) -> Any:
        return self.cast.ploy if rule.by == "officer" else self.worker_of(referral.agency)

    def new(self, *, household: Any = None, send: bool = False, actor: Any = None) -> Referral:
        return services.referral_create(
            actor=actor or self.cast.ploy,
            household=household or self.cast.household,
            need="housing_repair",
            need_label="ซ่อมแซมที่อยู่อาศัย",
            agency=self.pso,
            service=self.service,
            note="หลังคารั่ว",
            send=send,
        )

    def step(self, referral: Referral, to: str, **kw: Any) -> Referral:
        """One allowed transition by the right actor (a reason and another agency when the
        rule asks for them)."""
        rule = workflow.allowed(referral.state, to)
        assert rule is not None, (referral.state, to)
        if rule.reason:
            kw.setdefault("reason", f"เหตุผล {referral.state}→{to}")
        if rule.new_agency:
            kw.setdefault("agency", self.other.agency if referral.agency_id == self.pso.pk else self.pso)
        return services.referral_transition(actor=self.actor_for(rule, referral), referral=referral, to=to, **kw)

    def bring_to(self, state: str, **kw: Any) -> Referral:
        """A referral of the memorable household in ``state``, reached through the workflow."""
        r = self.new(**kw)
        for to in path_to(state):
            r = self.step(r, to)
        assert r.state == state
        return r


def path_to(state: str) -> list[str]:
    """The shortest list of transitions from a draft to ``state`` (from the table itself)."""
    seen: dict[str, list[str]] = {State.DRAFT: []}
    todo = deque([str(State.DRAFT)])
    while todo:
        here = todo.popleft()
        for fr, to in workflow.TRANSITIONS:
            if fr == here and to not in seen:
                seen[to] = [*seen[here], to]
                todo.append(to)
    return seen[state]


@pytest.fixture
def world(cast: Any) -> World:
    from khm.accounts.models import Organisation, OrganisationKind, RoleAssignment, User
    from khm.accounts.roles import Role

    cast.ploy.email = "ploy@lga.example"
    cast.ploy.save(update_fields=["email"])
    cast.dara.email = "dara@district4601.example"
    cast.dara.save(update_fields=["email"])
    pso = Agency.objects.create(
        code="pso", name_th="พมจ.กาฬสินธุ์", name_en="Kalasin PSO", type="social_development",
        organisation=cast.orgs["agency"], areas=["46"], email="pso@agency.example", line_to="Upso0001",
        escalation_email="escalate@pso.example",
    )  # fmt: skip
    org = Organisation.objects.create(
        code="agency-ppho", kind=OrganisationKind.AGENCY, name_th="สสจ.กาฬสินธุ์", area=cast.areas["46"]
    )
    other_agency = Agency.objects.create(
        code="ppho", name_th="สสจ.กาฬสินธุ์", name_en="Kalasin PPHO", type="public_health", organisation=org,
        areas=["46"], email="ppho@agency.example", line_to="Uppho0001",
    )  # fmt: skip
    worker = User.objects.create_user(username="nurse", password="correct-horse-battery", email="nurse@ppho.example")
    RoleAssignment.objects.create(user=worker, role=Role.AGENCY_WORKER, organisation=org, area=cast.areas["46"])
    service = Service.objects.create(
        agency=pso, code="house-repair", name_th="ซ่อมบ้านผู้ยากไร้", needs=["housing_repair"], due_days=SERVICE_DUE_DAYS
    )
    return World(cast=cast, pso=pso, other=Other(agency=other_agency, worker=worker), service=service)

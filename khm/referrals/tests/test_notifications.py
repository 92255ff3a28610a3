"""Notifications and escalation, against a fake LINE endpoint on 127.0.0.1 and Django's
in-memory mail: who is told of what, no personal data in any message, failures kept and
retried."""

from __future__ import annotations

import datetime as dt
import json
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.utils import timezone

from khm.accounts.models import RoleAssignment, User
from khm.accounts.roles import Role
from khm.audit.models import AuditEvent
from khm.referrals import services
from khm.referrals.models import Channel, Notification, Referral, State

from .conftest import World

pytestmark = pytest.mark.django_db

TOKEN = "test-channel-token"
SECRETS = ["บุญมี", "คำปุน", "ศรีสุข", "99/1", "3460100123458"]


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    body: Any


@dataclass
class FakeLine:
    url: str
    requests: list[Seen] = field(default_factory=list)
    status: int = 200


@pytest.fixture
def line(settings: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeLine]:
    """A local LINE push endpoint that records every request and answers ``status``."""
    for var in ("http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    state: dict[str, FakeLine] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            fake = state["fake"]
            raw = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            fake.requests.append(Seen("POST", self.path, dict(self.headers.items()), json.loads(raw or b"null")))
            self.send_response(fake.status)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(b"{}")

        def log_message(self, format: str, *args: Any) -> None:  # quiet
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    port = server.server_address[1]
    fake = FakeLine(url=f"http://127.0.0.1:{port}/v2/bot/message/push")
    state["fake"] = fake
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    settings.KHM_LINE_API_URL = fake.url
    settings.KHM_LINE_CHANNEL_TOKEN = TOKEN
    settings.KHM_NOTIFY_LINE = True
    settings.KHM_NOTIFY_EMAIL = True
    settings.KHM_NOTIFY_TIMEOUT = 3
    settings.KHM_BASE_URL = "https://khm.example/"
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def closed_port_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/v2/bot/message/push"


def link(r: Referral) -> str:
    return f"https://khm.example/referrals/{r.ref}/"


# --------------------------------------------------------------------------- sending


def test_sending_pushes_one_line_message_and_one_email(
    world: World, line: FakeLine, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        r = world.new(send=True)
    assert len(line.requests) == 1
    req = line.requests[0]
    assert req.method == "POST" and req.path == "/v2/bot/message/push"
    assert req.headers["Authorization"] == f"Bearer {TOKEN}"
    assert req.headers["Content-Type"] == "application/json"
    assert req.body["to"] == "Upso0001"
    (message,) = req.body["messages"]
    assert message["type"] == "text"
    assert r.ref in message["text"] and link(r) in message["text"]
    assert len(mailoutbox) == 1
    mail = mailoutbox[0]
    assert mail.to == ["pso@agency.example"]
    assert r.ref in mail.subject and link(r) in mail.body
    sent = Notification.objects.filter(referral=r)
    assert {(n.channel, n.to) for n in sent} == {(Channel.EMAIL, "pso@agency.example"), (Channel.LINE, "Upso0001")}
    assert all(n.sent_at is not None and n.attempts == 1 and n.error == "" for n in sent)


def test_a_returned_referral_emails_its_creator(
    world: World, line: FakeLine, mailoutbox, django_capture_on_commit_callbacks
):
    r = world.bring_to(State.SENT)
    Notification.objects.all().delete()
    with django_capture_on_commit_callbacks(execute=True):
        r = services.referral_transition(actor=world.cast.agency, referral=r, to=State.RETURNED, reason="นอกพื้นที่")
    assert [m.to for m in mailoutbox] == [["ploy@lga.example"]]
    assert r.ref in mailoutbox[0].subject and link(r) in mailoutbox[0].body
    assert line.requests == []  # the officer is told by e-mail only
    # Re-sent to the other agency: that agency is told.
    with django_capture_on_commit_callbacks(execute=True):
        services.referral_transition(actor=world.cast.ploy, referral=r, to=State.SENT, agency=world.other.agency)
    assert mailoutbox[-1].to == ["ppho@agency.example"]
    assert [q.body["to"] for q in line.requests] == ["Uppho0001"]


def test_other_steps_notify_nobody(world: World, line: FakeLine, mailoutbox, django_capture_on_commit_callbacks):
    r = world.bring_to(State.SENT)
    before = Notification.objects.count()
    with django_capture_on_commit_callbacks(execute=True):
        for to in (State.ACCEPTED, State.IN_PROGRESS, State.COMPLETED):
            r = services.referral_transition(actor=world.cast.agency, referral=r, to=to)
    assert Notification.objects.count() == before


def test_with_notifications_off_nothing_is_queued(
    world: World, settings, mailoutbox, django_capture_on_commit_callbacks
):
    settings.KHM_NOTIFY_EMAIL = False
    settings.KHM_NOTIFY_LINE = False
    settings.KHM_LINE_API_URL = closed_port_url()
    with django_capture_on_commit_callbacks(execute=True):
        r = world.new(send=True)
        r = services.referral_transition(actor=world.cast.agency, referral=r, to=State.RETURNED, reason="x")
    Referral.objects.filter(pk=r.pk).update(state=State.SENT, due_on=timezone.localdate() - dt.timedelta(days=3))
    assert services.referrals_escalate() == 1
    assert not Notification.objects.exists()
    assert mailoutbox == []


def test_an_agency_without_addresses_gets_nothing_queued(world: World, line: FakeLine):
    world.pso.email = ""
    world.pso.line_to = ""
    world.pso.save()
    world.new(send=True)
    assert not Notification.objects.exists()


# --------------------------------------------------------------------------- failures


def test_a_failing_endpoint_keeps_the_message_and_it_is_retried(
    world: World, line: FakeLine, mailoutbox, django_capture_on_commit_callbacks
):
    line.status = 500
    with django_capture_on_commit_callbacks(execute=True):
        r = world.new(send=True)
    push = Notification.objects.get(referral=r, channel=Channel.LINE)
    assert push.sent_at is None and push.attempts == 1 and "500" in push.error
    assert len(line.requests) == 1
    # The e-mail went regardless.
    assert Notification.objects.get(referral=r, channel=Channel.EMAIL).sent_at is not None
    assert len(mailoutbox) == 1
    line.status = 200
    assert services.send_pending() == 1
    push.refresh_from_db()
    assert push.sent_at is not None and push.attempts == 2 and push.error == ""
    assert len(line.requests) == 2
    assert services.send_pending() == 0  # nothing left: not sent twice
    assert len(line.requests) == 2 and len(mailoutbox) == 1


def test_a_closed_port_keeps_the_message_with_its_error(
    world: World, line: FakeLine, settings, django_capture_on_commit_callbacks
):
    settings.KHM_LINE_API_URL = closed_port_url()
    with django_capture_on_commit_callbacks(execute=True):
        r = world.new(send=True)
    push = Notification.objects.get(referral=r, channel=Channel.LINE)
    assert push.sent_at is None and push.attempts == 1
    assert "refused" in push.error.lower() or "URLError" in push.error
    settings.KHM_LINE_API_URL = line.url
    out = StringIO()
    call_command("send_notifications", stdout=out)
    assert "sent 1 notification(s); 0 waiting" in out.getvalue()
    push.refresh_from_db()
    assert push.sent_at is not None and push.error == ""
    assert [q.body["to"] for q in line.requests] == ["Upso0001"]


def test_a_message_is_given_up_after_five_tries(world: World, line: FakeLine, settings):
    settings.KHM_LINE_API_URL = closed_port_url()
    world.new(send=True)
    for _ in range(7):
        services.send_pending()
    push = Notification.objects.get(channel=Channel.LINE)
    assert push.sent_at is None and push.attempts == 5
    out = StringIO()
    call_command("send_notifications", stdout=out)
    assert "sent 0 notification(s); 0 waiting; 1 given up" in out.getvalue()


# --------------------------------------------------------------------------- escalation


@pytest.fixture
def kanya(world: World) -> User:
    """The district officer of another district (4605): never told of 4601's referrals."""
    u = User.objects.create_user(username="kanya", password="correct-horse-battery", email="kanya@district4605.example")
    RoleAssignment.objects.create(
        user=u, role=Role.DISTRICT_OFFICER, organisation=world.cast.orgs["province"], area=world.cast.areas["4605"]
    )
    return u


def overdue(r: Referral, days: int = 2) -> None:
    Referral.objects.filter(pk=r.pk).update(due_on=timezone.localdate() - dt.timedelta(days=days))


def test_overdue_open_referrals_are_escalated_once(world: World, line: FakeLine, kanya: User):
    open_ = [world.bring_to(s) for s in (State.SENT, State.ACCEPTED, State.IN_PROGRESS)]
    due_today = world.bring_to(State.SENT)
    Referral.objects.filter(pk=due_today.pk).update(due_on=timezone.localdate())
    for r in open_:
        overdue(r)
    Notification.objects.all().delete()
    assert services.referrals_escalate() == 3
    for r in open_:
        r.refresh_from_db()
        assert r.escalated_at is not None
        assert AuditEvent.objects.filter(action="referral.escalate", object_ref=r.ref, actor=None).count() == 1
        told = {(n.channel, n.to) for n in Notification.objects.filter(referral=r)}
        assert told == {
            (Channel.EMAIL, "dara@district4601.example"),
            (Channel.EMAIL, "escalate@pso.example"),
            (Channel.LINE, "Upso0001"),
        }
        assert all("overdue" in n.subject and r.ref in n.subject for n in Notification.objects.filter(referral=r))
    due_today.refresh_from_db()
    assert due_today.escalated_at is None
    # Not twice.
    queued = Notification.objects.count()
    assert services.referrals_escalate() == 0
    assert services.referrals_escalate(today=timezone.localdate() + dt.timedelta(days=30)) == 1  # only due_today
    assert Notification.objects.count() == queued + 3
    assert AuditEvent.objects.filter(action="referral.escalate").count() == 4


def test_closed_draft_and_returned_referrals_are_never_escalated(world: World, line: FakeLine):
    for s in (State.DRAFT, State.RETURNED, State.COMPLETED, State.NOT_POSSIBLE, State.CANCELLED):
        r = world.bring_to(s)
        Referral.objects.filter(pk=r.pk).update(due_on=timezone.localdate() - dt.timedelta(days=40))
    Notification.objects.all().delete()
    assert services.referrals_escalate() == 0
    assert not Referral.objects.filter(escalated_at__isnull=False).exists()
    assert not Notification.objects.exists()
    assert not AuditEvent.objects.filter(action="referral.escalate").exists()


def test_escalation_without_an_escalation_email_tells_the_district_officer(world: World, line: FakeLine):
    r = services.referral_create(
        actor=world.cast.ploy, household=world.cast.household, need="health_service", need_label="สาธารณสุข",
        agency=world.other.agency,
    )  # fmt: skip
    overdue(r)
    Notification.objects.all().delete()
    assert services.referrals_escalate() == 1
    assert {(n.channel, n.to) for n in Notification.objects.all()} == {
        (Channel.EMAIL, "dara@district4601.example"),
        (Channel.LINE, "Uppho0001"),
    }


def test_resending_a_returned_referral_starts_a_new_due_date(world: World, line: FakeLine):
    r = world.bring_to(State.SENT)
    overdue(r)
    assert services.referrals_escalate() == 1
    r = services.referral_transition(actor=world.cast.agency, referral=r, to=State.RETURNED, reason="นอกภารกิจ")
    r = services.referral_transition(actor=world.cast.ploy, referral=r, to=State.SENT, agency=world.other.agency)
    r.refresh_from_db()
    assert r.escalated_at is None and r.due_on is not None and r.due_on > timezone.localdate()


def test_the_escalation_command_escalates_then_sends(world: World, line: FakeLine, mailoutbox):
    r = world.bring_to(State.ACCEPTED)
    overdue(r, days=5)
    call_command("send_notifications", stdout=StringIO())  # the "sent" messages
    mailoutbox.clear()
    line.requests.clear()
    out = StringIO()
    call_command("escalate_referrals", stdout=out)
    assert "escalated 1 referral(s); sent 3 notification(s); 0 waiting" in out.getvalue()
    assert sorted(m.to[0] for m in mailoutbox) == ["dara@district4601.example", "escalate@pso.example"]
    assert [q.body["to"] for q in line.requests] == ["Upso0001"]
    out = StringIO()
    call_command("escalate_referrals", stdout=out)
    assert "escalated 0 referral(s); sent 0 notification(s)" in out.getvalue()


# --------------------------------------------------------------------------- no personal data


def test_no_message_names_a_household_member(
    world: World, line: FakeLine, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        a = world.new(send=True)
        services.referral_transition(actor=world.cast.agency, referral=a, to=State.RETURNED, reason="บุญมีย้ายออก")
        b = world.new(send=True)
    overdue(b)
    services.referrals_escalate()
    services.send_pending()
    assert {n.subject.split(" ")[1] for n in Notification.objects.all()} >= {"ส่งต่อใหม่", "ส่งต่อถูกส่งคืน", "ส่งต่อเกินกำหนด"}
    assert Notification.objects.filter(sent_at__isnull=True).count() == 0
    texts = [f"{n.to} {n.subject} {n.body}" for n in Notification.objects.all()]
    texts += [f"{m.subject} {m.body}" for m in mailoutbox]
    texts += [json.dumps(q.body, ensure_ascii=False) for q in line.requests]
    assert len(mailoutbox) >= 4 and len(line.requests) >= 3
    for text in texts:
        for secret in SECRETS:
            assert secret not in text, (secret, text)

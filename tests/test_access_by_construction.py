"""Build-failing checks that Local Data Ownership cannot be bypassed by a new page.

1. Every URL pattern and API operation declares its access (deny by default).
2. Walking every URL pattern and API operation as an officer of another area — and as an
   anonymous visitor — leaks none of the memorable household's personal data.
3. No view, API or form module queries a protected model directly: they must go through
   selectors/access functions, which apply the scope.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from khm.api.urls import operations
from khm.core.access import declared_access

ROOT = Path(__file__).resolve().parent.parent
PROTECTED = {
    "Household",
    "Person",
    "Membership",
    "StagedRow",
    "PersonSource",
    "PersonMerge",
    "CompositionFlag",
    "Assessment",
    "AssessmentResult",
    "Assignment",
    "Verification",
    "Photo",
    "Conflict",
    "Referral",
    "Assistance",
    "HouseholdStanding",
    "StandingEvent",
    "AgendaItem",
    "Resolution",
    "PlanTask",
    "PostedEntry",
    "Appeal",
    "Link",
    "IncomeRecord",
}


def walk(patterns=None, prefix=""):
    for p in patterns if patterns is not None else get_resolver().url_patterns:
        if isinstance(p, URLResolver):
            yield from walk(p.url_patterns, prefix + str(p.pattern))
        elif isinstance(p, URLPattern):
            yield prefix + str(p.pattern), p


def is_api(pattern: URLPattern) -> bool:
    target = getattr(pattern.callback, "func", pattern.callback)
    return getattr(target, "__module__", "").startswith("ninja.")


def test_every_page_declares_its_access():
    undeclared = [
        route
        for route, p in walk()
        if not is_api(p)
        and declared_access(p.callback) is None
        and f"{p.callback.__module__}.{p.callback.__name__}" != "django.views.i18n.set_language"
    ]
    assert undeclared == []


def test_every_api_operation_declares_its_access():
    ops = operations()
    assert len(ops) >= 5
    assert [(m, path) for m, path, view in ops if declared_access(view) is None] == []


def fill(route: str, cast, referral: str = "R0000000") -> str:
    values = {"code": cast.household.code, "ref": cast.head.ref, "level": "3"}

    def value(m: re.Match) -> str:
        return referral if m.group(1) == "referral_ref" else values.get(m.group(2), "46")

    url = re.sub(r"<(?:(\w+):)?(\w+)>", value, route)
    url = url.replace("^", "").replace("$", "")
    return "/" + url.lstrip("/")


def api_url(path: str, cast, referral: str = "x") -> str:
    values = {"code": cast.household.code, "ref": referral if path.startswith("/referrals/") else "x"}
    return "/api/v1/" + re.sub(r"\{(\w+)\}", lambda m: values.get(m.group(1), "x"), path).lstrip("/")


def referral_of_memorable_household(cast):
    """A referral (with a comment and the help given) of the memorable household to an agency
    none of the outsiders works for: the walk must reach it and leak nothing of it."""
    import datetime as dt

    from khm.accounts.models import Organisation, OrganisationKind
    from khm.referrals import services
    from khm.referrals.models import Agency

    org = Organisation.objects.create(
        code="agency-walk", kind=OrganisationKind.AGENCY, name_th="หน่วยงาน", area=cast.areas["46"]
    )
    agency = Agency.objects.create(code="walk", name_th="หน่วยงาน", type="ngo", organisation=org, areas=["46"])
    r = services.referral_create(
        actor=cast.ploy, household=cast.household, need="housing_repair", need_label="ซ่อมแซมที่อยู่อาศัย", agency=agency,
        person=cast.head, note="หลังคารั่ว",
    )  # fmt: skip
    services.referral_comment(actor=cast.ploy, referral=r, text="บ้านหลังที่สองทางซ้าย")
    services.assistance_record(
        actor=cast.ploy, household=cast.household, kind="cash", agency=agency, given_on=dt.date(2025, 6, 1),
        value_baht=1000, person=cast.head, referral=r,
    )  # fmt: skip
    return r


def secrets_of(cast) -> list[str]:
    nid = cast.head_nid
    return ["บุญมี", "คำปุน", "ศรีสุข", nid, f"{nid[0]}-{nid[1:5]}-{nid[5:10]}-{nid[10:12]}-{nid[12]}", "99/1"]


def assert_no_leak(response, secrets, where):
    if hasattr(response, "streaming_content"):
        body = b"".join(response.streaming_content).decode("utf-8", "replace")
    else:
        body = response.content.decode("utf-8", "replace")
    body += " ".join(f"{k}: {v}" for k, v in response.items())
    leaked = [s for s in secrets if s in body]
    assert leaked == [], f"{where} leaks {leaked}"


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["somchai", "anonymous", "agency", "analyst", "sysadmin", "nobody", "expired"])
def test_walk_every_url_as_outsider_leaks_nothing(cast, who):
    client = Client()
    if who != "anonymous":
        client.force_login(getattr(cast, who))
    secrets = secrets_of(cast)
    referral = referral_of_memorable_household(cast)
    routes = [(route, p) for route, p in walk() if not is_api(p)]
    assert len(routes) >= 12
    assert any("referral_ref" in route for route, _p in routes)
    # The referral's pages are really reached: its owner sees the household there.
    insider = Client()
    insider.force_login(cast.ploy)
    assert "99/1" in insider.get(fill("referrals/<referral_ref:ref>/", cast, referral.ref)).content.decode()
    for route, _p in routes:
        url = fill(route, cast, referral.ref)
        for method in ("get", "post"):
            data = {"q": "บุญมี", "area": "46", "house_no": "1", "village": "46010101", "reason": "x", "event": "died",
                    "to": "cancelled", "referral": referral.ref, "household": cast.household.code, "text": "x"}  # fmt: skip
            r = getattr(client, method)(url, data) if method == "post" else client.get(url, {"area": "46"})
            assert_no_leak(r, secrets, f"{method.upper()} {url} as {who}")
    for method, path, _view in operations():
        url = api_url(path, cast, referral.ref)
        r = client.generic(
            method,
            url,
            '{"q": "บุญมี", "village_code": "46010101", "house_no": "1", "first_name": "a", "last_name": "b", "sex": "M", "relation": "child", "to": "cancelled", "reason": "x"}',
            content_type="application/json",
        )
        assert_no_leak(r, secrets, f"{method} {url} as {who}")
    # Nothing an outsider did may have written to the memorable household.
    cast.household.refresh_from_db()
    assert cast.household.house_no == "99/1" and cast.household.area_code == "46010101"
    assert cast.household.people.count() == 2
    referral.refresh_from_db()
    assert referral.state == "sent" and referral.comments.count() == 1 and referral.assistance.count() == 1


def protected_queries(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr in {"objects", "_default_manager", "_base_manager"}:
            base = node.value
            name = base.id if isinstance(base, ast.Name) else getattr(base, "attr", "")
            if name in PROTECTED:
                found.append(f"{path.relative_to(ROOT)}:{node.lineno} {name}.{node.attr}")
        if isinstance(node, ast.Attribute) and node.attr in {"raw", "extra"} and isinstance(node.value, ast.Attribute):
            found.append(f"{path.relative_to(ROOT)}:{node.lineno} .{node.attr}()")
    return found


# views.py, views_app.py, api.py, forms.py, urls_referrals.py …: every presentation module.
PRESENTATION = re.compile(r"^(?:\w+_)?(?:views|api|forms|urls)(?:_\w+)?\.py$")


def test_views_and_api_never_query_protected_models_directly():
    modules = [p for p in (ROOT / "khm").rglob("*.py") if PRESENTATION.match(p.name) or p.parent.name == "templatetags"]
    assert len(modules) >= 8
    names = {p.name for p in modules}
    assert {"views_assistance.py", "views_app.py", "urls_referrals.py", "api.py"} <= names
    offenders = [hit for m in modules for hit in protected_queries(m)]
    assert offenders == []


def test_the_lint_catches_a_direct_query(tmp_path):
    # The check above must be able to fail: a view that queries Person.objects is caught.
    bad = ROOT / "khm" / "registry" / "_tmp_bad_view_for_test.py"
    bad.write_text("from khm.registry.models import Person\n\ndef v(request):\n    return Person.objects.all()\n")
    try:
        assert protected_queries(bad) == ["khm/registry/_tmp_bad_view_for_test.py:4 Person.objects"]
    finally:
        bad.unlink()

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


def fill(route: str, cast) -> str:
    values = {"code": cast.household.code, "ref": cast.head.ref, "level": "3"}
    url = re.sub(r"<(?:\w+:)?(\w+)>", lambda m: values.get(m.group(1), "46"), route)
    url = url.replace("^", "").replace("$", "")
    return "/" + url.lstrip("/")


def api_url(path: str, cast) -> str:
    return "/api/v1/" + re.sub(r"\{(\w+)\}", lambda m: {"code": cast.household.code}.get(m.group(1), "x"), path).lstrip(
        "/"
    )


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
    routes = [(route, p) for route, p in walk() if not is_api(p)]
    assert len(routes) >= 12
    for route, _p in routes:
        url = fill(route, cast)
        for method in ("get", "post"):
            data = {"q": "บุญมี", "area": "46", "house_no": "1", "village": "46010101", "reason": "x", "event": "died"}
            r = getattr(client, method)(url, data) if method == "post" else client.get(url, {"area": "46"})
            assert_no_leak(r, secrets, f"{method.upper()} {url} as {who}")
    for method, path, _view in operations():
        url = api_url(path, cast)
        r = client.generic(
            method,
            url,
            '{"q": "บุญมี", "village_code": "46010101", "house_no": "1", "first_name": "a", "last_name": "b", "sex": "M", "relation": "child"}',
            content_type="application/json",
        )
        assert_no_leak(r, secrets, f"{method} {url} as {who}")
    # Nothing an outsider did may have written to the memorable household.
    cast.household.refresh_from_db()
    assert cast.household.house_no == "99/1" and cast.household.area_code == "46010101"
    assert cast.household.people.count() == 2


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


def test_views_and_api_never_query_protected_models_directly():
    modules = [
        p
        for p in (ROOT / "khm").rglob("*.py")
        if p.name.endswith(("views.py", "api.py", "forms.py", "urls.py")) or p.parent.name == "templatetags"
    ]
    assert len(modules) >= 8
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

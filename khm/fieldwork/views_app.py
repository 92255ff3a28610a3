"""The phone app (installable PWA) with which village volunteers verify households offline.

Three responses, all free of personal data (the data comes from the fieldwork API and lives
in the phone's IndexedDB):

- ``/m/``: the app shell (signed-in users). The service worker caches it, so it must never
  hold anything but the user's own name, the language and a CSRF token.
- ``/m/sw.js``: the service worker, served from ``/m/`` so that its scope is ``/m/``. Its
  cache name carries a hash of the app's files: changing any of them installs a new worker,
  which replaces the cached copies.
- ``/m/manifest.webmanifest``: what makes the app installable.
"""

from __future__ import annotations

import functools
import hashlib
import json
from pathlib import Path

from django.conf import settings
from django.contrib.staticfiles import finders
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.templatetags.static import static
from django.urls import reverse
from django.utils.cache import patch_cache_control
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import ensure_csrf_cookie

from khm.core.access import authenticated, public

APP_NAME = "KHM ตรวจสอบครัวเรือน"
THEME = "#0b5d3b"
STATIC_FILES = ("fieldwork/app.js", "fieldwork/app.css", "fieldwork/icon-192.png", "fieldwork/icon-512.png")
TEMPLATE = Path(__file__).resolve().parent / "templates" / "fieldwork" / "app.html"


def _read(name: str) -> bytes:
    found = finders.find(name)
    if not found:
        raise FileNotFoundError(name)
    return Path(str(found)).read_bytes()


def _compute_version() -> str:
    digest = hashlib.sha256()
    for name in (*STATIC_FILES, "fieldwork/sw.js"):
        digest.update(_read(name))
    digest.update(TEMPLATE.read_bytes())
    digest.update(json.dumps(_manifest(), sort_keys=True).encode())
    return digest.hexdigest()[:12]


_cached_version = functools.cache(_compute_version)


def app_version() -> str:
    """A hash of everything the service worker caches (re-read on every call when DEBUG)."""
    return _compute_version() if settings.DEBUG else _cached_version()


def _manifest() -> dict[str, object]:
    shell = reverse("fieldwork_app")
    return {
        "name": APP_NAME,
        "short_name": "KHM",
        "lang": "th",
        "dir": "ltr",
        "start_url": shell,
        "scope": shell,
        "id": shell,
        "display": "standalone",
        "orientation": "portrait",
        "theme_color": THEME,
        "background_color": "#ffffff",
        "icons": [
            {"src": static(f"fieldwork/icon-{n}.png"), "sizes": f"{n}x{n}", "type": "image/png", "purpose": "any"}
            for n in (192, 512)
        ]
        + [{"src": static("fieldwork/icon-512.png"), "sizes": "512x512", "type": "image/png", "purpose": "maskable"}],
    }


@authenticated
@never_cache
@ensure_csrf_cookie
def shell(request: HttpRequest) -> HttpResponse:
    """The app shell: no personal data, everything else comes from the API."""
    user = request.user
    context = {
        "username": user.get_username(),
        "display_name": getattr(user, "display_name", "") or user.get_username(),
        "version": app_version(),
        "app_name": APP_NAME,
        "theme": THEME,
    }
    return render(request, "fieldwork/app.html", context)


@public
def service_worker(request: HttpRequest) -> HttpResponse:
    """The service worker, with its cache version and the files to cache put in front."""
    shell_url = reverse("fieldwork_app")
    config = {
        "version": app_version(),
        "shell": shell_url,
        "assets": [static(name) for name in STATIC_FILES] + [reverse("fieldwork_app_manifest")],
        "api": "/api/",
    }
    body = f"const KHM_SW = {json.dumps(config)};\n".encode() + _read("fieldwork/sw.js")
    response = HttpResponse(body, content_type="application/javascript; charset=utf-8")
    patch_cache_control(response, no_cache=True)
    response["Service-Worker-Allowed"] = shell_url
    return response


@public
def manifest(request: HttpRequest) -> HttpResponse:
    response = HttpResponse(
        json.dumps(_manifest(), ensure_ascii=False, indent=1), content_type="application/manifest+json; charset=utf-8"
    )
    patch_cache_control(response, no_cache=True)
    return response

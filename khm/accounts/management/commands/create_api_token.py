from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from khm.accounts.models import User
from khm.accounts.services import api_token_create


class Command(BaseCommand):
    help = "Create an API bearer token for a user and print it once."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("username")
        parser.add_argument("--name", default="cli")
        parser.add_argument("--days", type=int, default=365)

    def handle(self, *args: Any, **opts: Any) -> None:
        try:
            user = User.objects.get(username=opts["username"])
        except User.DoesNotExist:
            raise CommandError(f"no user {opts['username']!r}") from None
        self.stdout.write(api_token_create(actor=None, user=user, name=opts["name"], days=opts["days"]))

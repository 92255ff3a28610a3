from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from khm.accounts.models import User
from khm.sources import services
from khm.sources.models import MappingProfile, Source


class Command(BaseCommand):
    help = "Import a source list file as a staged batch (and commit it with --commit)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("file")
        parser.add_argument("--source", required=True, help="source code, e.g. tpmap-2566")
        parser.add_argument("--profile", required=True, help="mapping profile name")
        parser.add_argument("--user", required=True, help="username of the officer importing (their area applies)")
        parser.add_argument("--commit", action="store_true")

    def handle(self, *args: Any, **o: Any) -> None:
        try:
            user = User.objects.get(username=o["user"])
            source = Source.objects.get(code=o["source"])
            profile = MappingProfile.objects.get(name=o["profile"])
        except (User.DoesNotExist, Source.DoesNotExist, MappingProfile.DoesNotExist) as exc:
            raise CommandError(str(exc)) from None
        path = Path(o["file"])
        try:
            batch = services.batch_upload(
                actor=user, source=source, profile=profile, file_name=path.name, content=path.read_bytes()
            )
        except ValidationError as exc:
            raise CommandError("; ".join(m for ms in exc.message_dict.values() for m in ms)) from None
        batch = services.batch_stage(actor=user, batch=batch)
        self.stdout.write(f"batch {batch.code}: {batch.status} {batch.counts} {batch.error}")
        if o["commit"] and batch.status == "preview":
            batch = services.batch_commit(actor=user, batch=batch)
            self.stdout.write(f"committed: {batch.counts}")

from __future__ import annotations

import time
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from khm.sources.checks import run_checks
from khm.sources.models import FlagKind


class Command(BaseCommand):
    help = "Run the household composition checks and file new flags in the review queue."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--area",
            action="append",
            metavar="CODE",
            help="only households whose village code starts with CODE (repeatable); default: everything",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        started = time.perf_counter()
        try:
            counts = run_checks(area_codes=options["area"])
        except ValidationError as exc:
            raise CommandError("; ".join(m for ms in exc.message_dict.values() for m in ms)) from None
        for kind, label in FlagKind.choices:
            self.stdout.write(f"{kind:22} {counts.get(kind, 0):>8}  {label}")
        total = sum(counts.values())
        self.stdout.write(f"{'new flags':22} {total:>8}  ({time.perf_counter() - started:.1f} s)")

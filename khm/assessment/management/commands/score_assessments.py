from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from khm.accounts.models import User
from khm.assessment import services
from khm.assessment.models import ScoringRun


class Command(BaseCommand):
    help = (
        "Score assessments with the current instrument versions (a new scoring run), or re-run an "
        "old run with its own versions to check that it reproduces."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--as", dest="username", required=True, help="the user the run is recorded for")
        parser.add_argument("--area", default="", help="area code (default: the user's whole scope)")
        parser.add_argument("--round", default="", help="survey round, e.g. 2568 (default: all)")
        parser.add_argument("--rerun", type=int, help="id of a run to compute again")

    def handle(self, *args: Any, **o: Any) -> None:
        user = User.objects.filter(username=o["username"], is_active=True).first()
        if user is None:
            raise CommandError(f"no active user {o['username']!r}")
        try:
            if o["rerun"]:
                old = ScoringRun.objects.filter(pk=o["rerun"]).first()
                if old is None:
                    raise CommandError(f"no scoring run {o['rerun']}")
                run = services.scoring_run_rerun(actor=user, run=old)
            else:
                run = services.scoring_run_start(actor=user, area_code=o["area"], round=o["round"])
        except services.PermissionDenied:
            raise CommandError("this user may not score that area") from None
        self.stdout.write(
            f"run {run.pk}: {run.n_assessments} assessments in {run.seconds} s; "
            f"inputs {run.inputs_hash[:12]}, results {run.outputs_hash[:12]}"
        )
        if run.rerun_of_id:
            self.stdout.write("reproduced: yes" if run.reproduced else "reproduced: NO (results differ)")
            if not run.reproduced:
                raise CommandError("the re-run did not reproduce the original results")

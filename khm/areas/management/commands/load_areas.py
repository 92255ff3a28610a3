"""``manage.py load_areas``: load or refresh the area tree. Safe to run again at any time."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from khm.areas.loaders import VillageFileError, load_all


class Command(BaseCommand):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # argparse needs real strings, so help is translated here, once settings are loaded.
        self.help = gettext(
            "Load the Thai area tree (provinces, districts, subdistricts and abolished codes from "
            "geothai), Kalasin villages, 2021 registered population and Kalasin boundaries. "
            "Idempotent: a second run changes nothing; changed names are updated in place."
        )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--villages",
            type=Path,
            metavar="PATH",
            help=gettext(
                "Official DOPA village CSV (columns code,name_th[,name_en]; 8-digit codes) "
                "to load instead of the bundled Kalasin list."
            ),
        )
        parser.add_argument(
            "--no-boundaries",
            action="store_true",
            help=gettext("Do not load or update boundary polygons."),
        )
        parser.add_argument(
            "--retire-missing-villages",
            action="store_true",
            help=gettext(
                "With --villages: mark villages that the file does not list, inside the "
                "subdistricts it covers, as not in force. Use only with a complete list."
            ),
        )

    def handle(self, *args: Any, **options: Any) -> None:
        villages: Path | None = options["villages"]
        if villages is not None and not villages.is_file():
            raise CommandError(_("No such file: %(path)s") % {"path": villages})
        if options["retire_missing_villages"] and villages is None:
            raise CommandError(_("--retire-missing-villages needs --villages."))
        started = time.monotonic()
        try:
            report = load_all(
                villages_path=villages,
                boundaries=not options["no_boundaries"],
                retire_missing_villages=options["retire_missing_villages"],
            )
        except VillageFileError as error:
            raise CommandError(str(error)) from error
        lines = [
            _("Provinces in force: %(count)d") % {"count": report.provinces},
            _("Districts in force: %(count)d") % {"count": report.districts},
            _("Subdistricts in force: %(count)d") % {"count": report.subdistricts},
            _("Villages in force: %(count)d") % {"count": report.villages},
            _("Abolished codes: %(count)d") % {"count": report.abolished},
            _("Boundaries: %(count)d") % {"count": report.boundaries},
            _("Areas created: %(created)d, updated: %(updated)d, unchanged: %(unchanged)d")
            % {
                "created": report.created,
                "updated": report.updated,
                "unchanged": report.unchanged,
            },
            _("Boundaries created: %(created)d, updated: %(updated)d")
            % {"created": report.boundaries_created, "updated": report.boundaries_updated},
        ]
        if report.villages_retired:
            lines.append(_("Villages marked not in force: %(count)d") % {"count": report.villages_retired})
        if report.unmatched_boundaries:
            lines.append(
                _("Boundaries skipped, no such area: %(codes)s") % {"codes": " ".join(report.unmatched_boundaries)}
            )
        lines.append(_("Done in %(seconds).1f s.") % {"seconds": time.monotonic() - started})
        for line in lines:
            self.stdout.write(str(line))

"""Per-row and per-file messages (English msgids, Thai in locale/); tests assert on them."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

NID_FORMAT = _("National ID must be 13 digits.")
NID_CHECKSUM = _("National ID check digit is wrong: please check the number on the ID card.")
NAME_REQUIRED = _("First and last name are required.")
DATE_UNREADABLE = _("Birth date not understood: use day/month/Buddhist year, for example 25/12/2530.")
DATE_FUTURE = _("Birth date cannot be in the future.")
SEX_UNKNOWN = _("Sex not understood: use ชาย/หญิง, M/F or 1/2.")
AREA_MISSING = _(
    "The village cannot be found: give an 8-digit village code, or a subdistrict code and the village number (หมู่)."
)
AREA_UNKNOWN = _("Unknown area code.")
AREA_OUTSIDE = _("This village is outside your area: only your own area's records can be imported.")
DUPLICATE_IN_FILE = _("The same national ID appears on an earlier row of this file.")
FILE_ALREADY = _("This file was already imported into this source: nothing was changed.")
FILE_UNREADABLE = _("The file could not be read: %(reason)s")
FILE_COLUMNS = _("The file does not have the columns the mapping profile expects: %(reason)s")
FILE_EMPTY = _("The file has no data rows.")
TRANSITION = _("This batch cannot go from %(old)s to %(new)s.")
REVIEW_DONE = _("This row has already been decided, or its batch is not committed yet.")
UNKNOWN_SOURCE_OR_PROFILE = _("Unknown source list or mapping profile: use the codes shown on the imports page.")

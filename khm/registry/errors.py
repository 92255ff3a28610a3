"""Error messages as constants, in English (msgid) with the Thai translation in locale/.

Tests assert on these constants; forms and the API show them in the user's language.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

NID_FORMAT = _("National ID must be 13 digits.")
NID_CHECKSUM = _("National ID check digit is wrong: please check the number on the ID card.")
NID_DUPLICATE = _("This national ID is already registered in another record.")
DATE_FORMAT = _("Date not understood: type day/month/Buddhist year, for example 25/12/2530.")
DATE_YEAR = _("Year not understood: use the Buddhist Era (for example 2530) or the Common Era (1987).")
DATE_INVALID = _("This date does not exist.")
DATE_FUTURE = _("Birth date cannot be in the future.")
VILLAGE_OUTSIDE = _("You can only register households in villages of your own area.")
VILLAGE_UNKNOWN = _("Unknown village code.")
HOUSE_NO_FORMAT = _("House number may contain digits, '/' and '-' only, for example 45/1.")
NAME_REQUIRED = _("First and last name are required.")
HEAD_EXISTS = _("This household already has a head; change the current head's relation first.")
INCOME_RANGE = _("Income must be between 0 and 100,000,000 baht per year.")
TRANSFER_SAME = _("The household is already in that village.")
TRANSFER_DENIED = _("You may only transfer households between villages of your own area.")
HOUSEHOLD_NOT_FOUND = _("Household not found in your area.")

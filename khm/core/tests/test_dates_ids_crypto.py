from __future__ import annotations

import datetime as dt

import pytest

from khm.core.crypto import decrypt, encrypt, lookup_hash
from khm.core.dates import ThaiDateError, format_be_numeric, format_thai_date, parse_thai_date
from khm.engines.ids import complete_national_id, format_national_id, is_valid_national_id, mask_national_id


@pytest.mark.parametrize(
    "typed",
    [
        "25/12/2530",
        "25-12-2530",
        "2530-12-25",
        "๒๕/๑๒/๒๕๓๐",
        "25 ธ.ค. 2530",
        "25 ธันวาคม 2530",
        "25/12/1987",
        "1987-12-25",
    ],
)
def test_parse_buddhist_and_common_era(typed):
    assert parse_thai_date(typed) == dt.date(1987, 12, 25)


@pytest.mark.parametrize(
    ("typed", "code"), [("31/02/2530", "invalid"), ("12/2530", "format"), ("1/1/0530", "year"), ("", "format")]
)
def test_bad_dates_say_what_is_wrong(typed, code):
    with pytest.raises(ThaiDateError) as e:
        parse_thai_date(typed)
    assert e.value.code == code


def test_format_in_thai_and_english():
    d = dt.date(2026, 11, 25)
    assert format_thai_date(d) == "25 พฤศจิกายน 2569"
    assert format_thai_date(d, short=True) == "25 พ.ย. 2569"
    assert format_thai_date(d, lang="en") == "25 November 2026"
    assert format_be_numeric(d) == "25/11/2569"


def test_national_id_check_digit():
    assert is_valid_national_id("3460100123458")
    assert is_valid_national_id("3-4601-00123-45-8")
    assert is_valid_national_id("๓๔๖๐๑๐๐๑๒๓๔๕๘")
    assert not is_valid_national_id("3460100123459")
    assert not is_valid_national_id("346010012345")
    assert complete_national_id("346010012345") == "3460100123458"
    assert format_national_id("3460100123458") == "3-4601-00123-45-8"
    assert mask_national_id("3460100123458") == "3-4601-xxxxx-xx-8"


def test_encryption_round_trip_hides_the_number():
    token = encrypt("3460100123458")
    assert "3460100123458" not in token
    assert encrypt("3460100123458") != token  # random nonce: equal IDs do not look equal
    assert decrypt(token) == "3460100123458"
    assert lookup_hash("3460100123458") == lookup_hash("3460100123458") != lookup_hash("3460100123459")

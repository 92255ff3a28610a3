"""Thai national identification numbers (เลขประจำตัวประชาชน).

13 digits; the last is a check digit: d13 = (11 - (sum(d_i * (14 - i) for i in 1..12) mod 11)) mod 10.
Thai digits (๐-๙), spaces and dashes in input are accepted and normalised away.
"""

from __future__ import annotations

THAI_DIGITS = str.maketrans("๐๑๒๓๔๕๖๗๘๙", "0123456789")


def normalise_digits(value: str) -> str:
    """Turn Thai digits into Arabic digits and drop spaces and dashes."""
    return value.translate(THAI_DIGITS).replace("-", "").replace(" ", "").strip()


def check_digit(first12: str) -> int:
    """Return the check digit for the first 12 digits of a national ID."""
    if len(first12) != 12 or not first12.isdigit():
        raise ValueError("need exactly 12 digits")
    total = sum(int(d) * (13 - i) for i, d in enumerate(first12))
    return (11 - total % 11) % 10


def is_valid_national_id(value: str) -> bool:
    """True when value (after normalising) is 13 digits with a correct check digit."""
    digits = normalise_digits(value)
    if len(digits) != 13 or not digits.isdigit() or digits[0] == "0":
        return False
    return check_digit(digits[:12]) == int(digits[12])


def complete_national_id(first12: str) -> str:
    """Append the check digit to 12 digits."""
    return first12 + str(check_digit(first12))


def format_national_id(digits: str) -> str:
    """1-2345-67890-12-3, the way it is printed on the ID card."""
    d = normalise_digits(digits)
    return f"{d[0]}-{d[1:5]}-{d[5:10]}-{d[10:12]}-{d[12]}"


def mask_national_id(digits: str) -> str:
    """Mask the middle digits: 1-2345-xxxxx-xx-3 (first five and the check digit stay)."""
    d = normalise_digits(digits)
    if len(d) != 13:
        return "x-xxxx-xxxxx-xx-x"
    return f"{d[0]}-{d[1:5]}-xxxxx-xx-{d[12]}"

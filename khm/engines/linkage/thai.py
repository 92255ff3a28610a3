"""Thai-aware (and Latin-aware) name normalisation and phonetic keys for record linkage.

Every function here is pure and works on one value; :mod:`.fields` applies them to the
*distinct* values of a column only (names repeat a lot), so the slow parts (PyThaiNLP's
romanisation is ≈0.5 ms a name) run tens of thousands of times, not millions.

Keys computed for each name (see docs/linkage.md):

* ``norm``: NFC, no zero-width characters, titles stripped, Thai digits made Arabic,
  spaces collapsed, Latin lower-cased. Two spellings that differ in those ways only are
  the same name.
* ``skeleton``: ``norm`` without tone marks (่ ้ ๊ ๋), mai taikhu (็), silent letters
  (a consonant, and the vowel on it, under การันต์ ์) and with long/short vowel pairs
  unified (ิ/ี, ึ/ื, ุ/ู, ใ/ไ). Clerks very often get exactly these wrong.
* ``phonetic``: LK82 Thai soundex (PyThaiNLP, offline, rule based): letters that sound
  the same (ศ/ษ/ส, ท/ธ/ฑ/ฒ, ...) get the same code.
* ``latin``: a script-independent sound key. Thai is romanised with the Royal Institute
  system (PyThaiNLP ``royin``, offline); the romanised or already-Latin name is then
  reduced to consonants with the usual romanisation variants merged (ph/p, th/t, kh/k,
  ch/j, v/w, final d/t ...). "สมชาย", "Somchai" and "SOMCHAY" give the same key.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

# Titles as they appear in Thai registers and in English exports. Longest first, so
# "นางสาว" is tried before "นาง".
THAI_TITLES: tuple[str, ...] = (
    "เด็กหญิง",
    "เด็กชาย",
    "นางสาว",
    "ด.ญ.",
    "ด.ช.",
    "ดญ.",
    "ดช.",
    "น.ส.",
    "นส.",
    "นาย",
    "นาง",
)
LATIN_TITLES: frozenset[str] = frozenset({"mr", "mrs", "miss", "ms", "mstr", "master", "dr"})

_ZERO_WIDTH = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff"))
_THAI_DIGITS = str.maketrans("๐๑๒๓๔๕๖๗๘๙", "0123456789")
_SPACES = re.compile(r"\s+")
_TONE_MARKS = re.compile("[\u0e48\u0e49\u0e4a\u0e4b\u0e47]")  # ่ ้ ๊ ๋ ็
# A silent consonant (optionally carrying ิ or ุ) under การันต์, e.g. "ทธิ์" in "ฤทธิ์".
_SILENT = re.compile("[\u0e01-\u0e2e][\u0e34\u0e38]?\u0e4c")
_VOWEL_UNIFY = str.maketrans(
    {
        "\u0e35": "\u0e34",  # ี → ิ
        "\u0e37": "\u0e36",  # ื → ึ
        "\u0e39": "\u0e38",  # ู → ุ
        "\u0e43": "\u0e44",  # ใ → ไ
        "\u0e46": None,  # ๆ (repetition mark) carries no spelling information here
        "\u0e2f": None,  # ฯ
    }
)
# Nikhahit (+ tone mark) + sara aa, which looks like sara am (ำ) on screen.
_SARA_AM = re.compile("\u0e4d([\u0e48-\u0e4b]?)\u0e32")
_THAI_CHAR = re.compile("[\u0e00-\u0e7f]")
_NOT_LATIN_LETTER = re.compile(r"[^a-z]")


def has_thai(text: str) -> bool:
    return _THAI_CHAR.search(text) is not None


def clean_text(value: object) -> str:
    """NFC, no zero-width characters, Thai digits → Arabic, one space between words."""
    if value is None:
        return ""
    text = unicodedata.normalize("NFC", str(value)).translate(_ZERO_WIDTH).translate(_THAI_DIGITS)
    # Typists build sara am from nikhahit + sara aa and sara ae from two sara e; both
    # look identical on screen.
    text = _SARA_AM.sub("\\1\u0e33", text).replace("\u0e40\u0e40", "\u0e41")
    return _SPACES.sub(" ", text).strip()


@lru_cache(maxsize=1)
def _known_first_names() -> frozenset[str]:
    # Used only to tell the title นาย from the first name "นายณัฐ" when a name was typed
    # without a space after the title.
    from pythainlp.corpus import thai_female_names, thai_male_names

    return frozenset(thai_male_names()) | frozenset(thai_female_names())


def strip_title(text: str) -> str:
    """Remove one leading Thai or English title (with or without a following space)."""
    text = clean_text(text)
    if not text:
        return text
    first, _, rest = text.partition(" ")
    if first.lower().rstrip(".") in LATIN_TITLES and rest:
        return rest
    for title in THAI_TITLES:
        if first == title and rest:
            return rest
        if text.startswith(title) and len(first) > len(title):
            remainder = first[len(title) :]
            # "นายณัฐ" is a real first name; "นายสมชาย" is นาย + สมชาย.
            if first in _known_first_names() and remainder not in _known_first_names():
                return text
            return text[len(title) :].lstrip(" .")
    return text


def split_full_name(value: object) -> tuple[str, str]:
    """Split "title first last" into (first, last); extra middle words go to the last name."""
    text = strip_title(clean_text(value))
    if not text:
        return "", ""
    first, _, rest = text.partition(" ")
    return first, rest


def normalise_name(value: object, *, title: bool = True) -> str:
    """The ``norm`` key: cleaned, title stripped, Latin lower-cased, no punctuation."""
    text = strip_title(clean_text(value)) if title else clean_text(value)
    text = text.lower()
    # Dots, dashes and quotes are typing noise in names ("ณ.อยุธยา", "O'Neil").
    text = re.sub(r"[.\-'’`,\"()]", " " if not has_thai(text) else "", text)
    return _SPACES.sub(" ", text).strip()


def skeleton(norm: str) -> str:
    """Tone marks, silent letters and vowel length removed (Thai); Latin is letters only."""
    if not norm:
        return ""
    if not has_thai(norm):
        return _NOT_LATIN_LETTER.sub("", norm)
    text = _SILENT.sub("", norm)
    text = _TONE_MARKS.sub("", text).translate(_VOWEL_UNIFY)
    return text.replace(" ", "")


@lru_cache(maxsize=500_000)
def phonetic(norm: str) -> str:
    """LK82 soundex of a Thai name ("" for Latin names: their sound lives in :func:`latin_key`)."""
    if not norm or not has_thai(norm):
        return ""
    from pythainlp.soundex import lk82

    return str(lk82(norm.replace(" ", "")))


@lru_cache(maxsize=200_000)
def _romanise_token(token: str) -> str:
    from pythainlp.transliterate import romanize

    return str(romanize(token, engine="royin"))


@lru_cache(maxsize=500_000)
def romanise(norm: str) -> str:
    """Royal Institute romanisation of a Thai name; Latin names pass through.

    PyThaiNLP's ``royin`` costs ~0.6 ms a name, mostly in vowel regexes. Names share
    their parts (สม, ชาย, ศรี ...), so the name is cut into words (``newmm``, fast) and
    each word is romanised once per run; the result equals romanising the whole name for
    ~97 % of names and differs only by an inserted syllable "a" otherwise.
    """
    if not norm or not has_thai(norm):
        return norm
    from pythainlp.tokenize import word_tokenize

    return "".join(_romanise_token(t) for t in word_tokenize(norm.replace(" ", ""), engine="newmm"))


# Romanisation variants merged by the Latin sound key: aspirated/unaspirated stops and
# the spellings people choose for them in passports and English exports.
_LATIN_DIGRAPHS: tuple[tuple[str, str], ...] = (
    ("ph", "p"),
    ("th", "t"),
    ("kh", "k"),
    ("ch", "c"),
    ("sh", "s"),
    ("ng", "N"),
    ("j", "c"),
    ("v", "w"),
    ("z", "s"),
    ("q", "k"),
    ("x", "s"),
    ("f", "f"),
)
# Final stops are unreleased in Thai, so romanisers write them either way.
_FINAL_STOP = str.maketrans({"d": "t", "b": "p", "g": "k"})


@lru_cache(maxsize=500_000)
def latin_key(name: str) -> str:
    """Script-independent sound key: romanise Thai, then keep merged consonants.

    The first letter is kept as is (vowel or not) because initial sounds are the most
    stable part of a name; after it vowels, h and a diphthong's y (which romanisers use
    to spell vowels) are dropped and doubled letters collapse.
    """
    text = romanise(name) if has_thai(name) else name
    text = _NOT_LATIN_LETTER.sub("", text.lower())
    if not text:
        return ""
    for old, new in _LATIN_DIGRAPHS:
        text = text.replace(old, new)
    head, tail = text[0], text[1:]
    # A consonant before another consonant or at the end is a final sound.
    chars = []
    for i, c in enumerate(tail):
        nxt = tail[i + 1] if i + 1 < len(tail) else ""
        if c in "dbg" and (not nxt or nxt not in "aeiouy"):
            c = c.translate(_FINAL_STOP)
        chars.append(c)
    tail = "".join(chars)
    # "ay"/"oy"/"uy"/"ey" spell the same diphthongs as "ai"/"oi"/"ui"/"ei".
    tail = re.sub(r"(?<=[aeiou])y(?![aeiou])", "", tail)
    tail = re.sub(r"[aeiouh]", "", tail)
    key = head.lower() + tail.lower()
    return re.sub(r"(.)\1+", r"\1", key)


def name_keys(value: object, *, title: bool = True) -> tuple[str, str, str, str]:
    """All keys of one name: (norm, skeleton, phonetic, latin)."""
    norm = normalise_name(value, title=title)
    skel = skeleton(norm)
    return norm, skel, phonetic(norm), latin_key(norm)

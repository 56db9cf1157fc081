"""Which encoding an uploaded text file (CSV, "Unicode text") was saved in, without mangling letters.

Files people really have: UTF-8 with or without a byte-order mark (Google Sheets, LibreOffice,
Excel's "CSV UTF-8"), UTF-16 (Excel's "Unicode text", with or without a byte-order mark), and the
old Windows code pages (Excel's plain "CSV" on a Windows computer: cp1252 in Western Europe,
cp1250 in Central Europe, cp1251 for Cyrillic, cp1257 for the Baltic languages) or Latin-1.

How the guess is made (``guess_encoding``):

1. A byte-order mark decides (UTF-8, UTF-16, UTF-32).
2. UTF-16 without one shows as a zero byte in every other place (most characters of a sheet are
   ASCII); it must then decode strictly.
3. Text that decodes strictly as UTF-8 is UTF-8: other encodings almost never form valid UTF-8
   sequences by chance.
4. Otherwise every single-byte code page that decodes the bytes strictly is tried. Code pages that
   give the same text are one option. Each option is scored on the words that hold non-ASCII
   letters: a control character (Latin-1's reading of Windows bytes), a symbol inside a word
   ("£ukasz", "Wroc³aw"), a capital after a small letter ("WiŸniewski") or a word whose accented
   letters belong to no single language ("Èâàí") count against it; a word whose letters fit one
   language counts for it, and so do accented letters that one language explains together.
   The guess is *certain* only when the best option leads clearly; otherwise the options are
   offered, best first, each with example words as it would read them, and nothing is read
   until someone chooses.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field

from lib.errors import UserError


class EncodingError(UserError):
    pass


# Order matters: on a tie the first is offered first (cp1252 is by far the most common).
SINGLE_BYTE = ("cp1252", "cp1250", "cp1251", "cp1257", "iso-8859-2", "latin-1")

NAMES = {
    "utf-8": "UTF-8",
    "utf-8-sig": "UTF-8",
    "utf-16": "UTF-16 (Unicode text)",
    "utf-16-le": "UTF-16 (Unicode text)",
    "utf-16-be": "UTF-16 (Unicode text)",
    "utf-32": "UTF-32",
    "cp1252": "Western European (Windows-1252)",
    "cp1250": "Central European (Windows-1250)",
    "cp1251": "Cyrillic (Windows-1251)",
    "cp1257": "Baltic (Windows-1257)",
    "iso-8859-2": "Central European (ISO 8859-2)",
    "latin-1": "Western European (ISO 8859-1, Latin-1)",
}

# Accented letters of the languages people's names are most often written in, in these code pages.
_LANGUAGES = {
    "French": "àâæçéèêëîïôœùûüÿ",
    "German": "äöüß",
    "Spanish": "áéíóúñü",
    "Portuguese": "áâãàçéêíóôõú",
    "Italian": "àèéìíîòóù",
    "Catalan": "àçéèíïòóúü",
    "Dutch": "áéíóúàèëïöü",
    "Danish/Norwegian": "æøåé",
    "Swedish/Finnish": "åäöé",
    "Icelandic": "áéíóúýðþæö",
    "Irish/Welsh": "áéíóúâêîôûŵŷäëïöüàèìòù",
    "Turkish": "çğıöşüâîû",
    "Polish": "ąćęłńóśźż",
    "Czech": "áčďéěíňóřšťúůýž",
    "Slovak": "áäčďéíĺľňóôŕšťúýž",
    "Hungarian": "áéíóöőúüű",
    "Croatian/Slovene/Bosnian": "čćđšž",
    "Romanian": "ăâîșțşţ",
    "Albanian": "çë",
    "Lithuanian": "ąčęėįšųūž",
    "Latvian": "āčēģīķļņšūž",
    "Estonian": "äõöüšž",
}
_SETS = {k: frozenset(v) for k, v in _LANGUAGES.items()}

_BOMS = (
    (b"\xef\xbb\xbf", "utf-8-sig"),
    (b"\xff\xfe\x00\x00", "utf-32"),
    (b"\x00\x00\xfe\xff", "utf-32"),
    (b"\xff\xfe", "utf-16"),
    (b"\xfe\xff", "utf-16"),
)
_TOKEN = re.compile(rb"[A-Za-z\x80-\xff]*[\x80-\xff][A-Za-z\x80-\xff]*")
MAX_TOKENS = 5000


@dataclass
class EncodingGuess:
    encoding: str  # the best guess, a Python codec name
    certain: bool
    options: list[str] = field(default_factory=list)  # codecs giving different texts, best first
    labels: dict[str, str] = field(default_factory=dict)  # codec -> what people are shown
    note: str = ""

    def label(self, codec: str) -> str:
        return self.labels.get(codec) or NAMES.get(codec, codec)


def _is_cyrillic(ch: str) -> bool:
    return "\u0400" <= ch <= "\u04ff"


def _word_score(word: str) -> float:
    score = 0.0
    for i, ch in enumerate(word):
        cat = unicodedata.category(ch)
        if cat[0] == "C":
            return -10.0  # a control character: not a letter anyone typed
        if ord(ch) > 127 and cat[0] != "L":
            near = word[i - 1 : i] + word[i + 1 : i + 2]
            if any(c.isalpha() for c in near):
                score -= 4  # "£ukasz", "Wroc³aw", "Å‚"
        if ch.isupper() and ord(ch) > 127 and i and word[i - 1].islower():
            score -= 3  # "WiŸniewski"
    letters = {c.lower() for c in word if ord(c) > 127 and c.isalpha()}
    if not letters:
        return score
    if all(_is_cyrillic(c) for c in word if c.isalpha()):
        return score + 1
    if any(_is_cyrillic(c) for c in letters):
        return score - 3  # Latin and Cyrillic letters in one word
    if any(letters <= s for s in _SETS.values()):
        return score + 1
    return score - 2


def _letters_score(letters: set[str]) -> float:
    """Accented letters that no single language explains together count against an option."""
    if not letters:
        return 0.0
    if all(_is_cyrillic(c) for c in letters):
        return 0.0
    best = max(len(letters & s) for s in _SETS.values())
    return -4.0 * (len(letters) - best)


def _decode_map(codec: str, high: set[int]) -> dict[int, str] | None:
    out = {}
    for b in high:
        try:
            out[b] = bytes([b]).decode(codec)
        except UnicodeDecodeError:
            return None
    return out


def _strict(data: bytes, codec: str) -> str | None:
    try:
        return data.decode(codec)
    except (UnicodeDecodeError, UnicodeError):
        return None


def _utf16_without_bom(data: bytes) -> str | None:
    sample = data[:4096]
    if len(data) < 4 or len(data) % 2:
        return None
    half = len(sample) // 2
    even_zero = sample[0::2].count(0)
    odd_zero = sample[1::2].count(0)
    if odd_zero > 0.3 * half and even_zero < 0.05 * half:
        return "utf-16-le"
    if even_zero > 0.3 * half and odd_zero < 0.05 * half:
        return "utf-16-be"
    return None


def guess_encoding(data: bytes, source: str = "The file") -> EncodingGuess:
    """The encoding ``data`` was most likely saved in, and whether that is certain (see the module text)."""
    for bom, codec in _BOMS:
        if data.startswith(bom) and _strict(data, codec) is not None:
            return EncodingGuess(codec, True, [codec], {codec: NAMES[codec]}, "It starts with a byte-order mark.")
    utf16 = _utf16_without_bom(data)
    if utf16 and _strict(data, utf16) is not None:
        return EncodingGuess(utf16, True, [utf16], {utf16: NAMES[utf16]}, "")
    if b"\x00" in data[:65536]:
        raise EncodingError(
            f"{source} is not a text (CSV) file: it holds bytes that no sheet saved as text contains. "
            "Upload the sheet as CSV, Excel (.xlsx) or OpenDocument (.ods)."
        )
    if _strict(data, "utf-8") is not None:
        return EncodingGuess("utf-8", True, ["utf-8"], {"utf-8": NAMES["utf-8"]}, "")

    high = {b for b in set(data) if b >= 0x80}
    groups: dict[tuple, list[str]] = {}
    maps: dict[str, dict[int, str]] = {}
    for codec in SINGLE_BYTE:
        m = _decode_map(codec, high)
        if m is None:
            continue
        maps[codec] = m
        groups.setdefault(tuple(sorted(m.items())), []).append(codec)
    reps = [codecs[0] for codecs in groups.values()]

    tokens = Counter(_TOKEN.findall(data))
    if len(tokens) > MAX_TOKENS:
        tokens = Counter(dict(tokens.most_common(MAX_TOKENS)))
    scores: dict[str, float] = {}
    words: dict[str, dict[bytes, str]] = {}
    for codec in reps:
        table = maps[codec]
        decoded = {t: "".join(table[b] if b >= 0x80 else chr(b) for b in t) for t in tokens}
        words[codec] = decoded
        letters = {c.lower() for w in decoded.values() for c in w if ord(c) > 127 and c.isalpha()}
        scores[codec] = sum(
            _word_score(w) * min(n, 3) for t, w in decoded.items() for n in [tokens[t]]
        ) + _letters_score(letters)
    order = {c: i for i, c in enumerate(SINGLE_BYTE)}
    reps.sort(key=lambda c: (-scores[c], order[c]))
    best = reps[0]
    margin = scores[best] - scores[reps[1]] if len(reps) > 1 else float("inf")
    certain = margin >= 3
    labels = {}
    top = reps[:2]
    differing = sorted(
        (t for t, _ in tokens.most_common() if len({words[c][t] for c in reps[:4]}) > 1),
        key=lambda t: len({words[c][t] for c in top}) == 1,
    )  # words the top two read apart first
    for codec in reps:
        examples = list(dict.fromkeys(words[codec][t] for t in differing))[:3]
        labels[codec] = NAMES[codec] + (": " + ", ".join(examples) if examples else "")
    note = (
        ""
        if certain
        else (
            "Kleroterion is not sure which alphabet this file was saved in. Look at the names in the preview: "
            "if letters look wrong (for example “£ukasz” instead of “Łukasz”), choose another option."
        )
    )
    return EncodingGuess(best, certain, reps[:6], labels, note)


def decode(data: bytes, codec: str, source: str = "The file") -> str:
    """``data`` decoded strictly as ``codec`` (a byte-order mark is dropped); a plain error if it does not fit."""
    if codec in ("utf-8", "utf-8-sig"):
        codec = "utf-8-sig"
    if codec == "utf-16" and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
        codec = _utf16_without_bom(data) or "utf-16-le"
    try:
        text = data.decode(codec)
    except (UnicodeDecodeError, UnicodeError, LookupError):
        raise EncodingError(
            f"{source} was not saved as {NAMES.get(codec, codec)}: some of its bytes are not letters in that "
            "encoding. Choose another one, or save the file again as “CSV UTF-8” and upload it again."
        ) from None
    return text[1:] if text.startswith("\ufeff") else text

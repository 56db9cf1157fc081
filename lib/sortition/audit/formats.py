"""The bundle's small canonical formats, shared by the writer (``bundle``, ``public``) and the
verifiers (``verify``, ``public_verify``): the format names, exact fractions, the manifest's JSON and
the canonical zip file. Standard library only; imports nothing else of the project but ``model``.
"""

from __future__ import annotations

import io
import json
import struct
import zipfile
import zlib

from lib.sortition.audit.model import InputError

BUNDLE_FORMAT = "kleroterion-bundle-v1"
BUNDLE_FORMAT_V2 = "kleroterion-bundle-v2"
FROZEN_NAME = "frozen.jsonl"


# --- small canonical formats -------------------------------------------------------------


def format_fraction(numerator: int, denominator: int, decimals: int = 12) -> str:
    """``numerator / denominator`` with ``decimals`` decimals, rounded half up, exactly (integers only)."""
    if denominator <= 0 or numerator < 0:
        raise InputError("a fraction needs a positive denominator and a non-negative numerator")
    scale = 10**decimals
    q = (2 * numerator * scale + denominator) // (2 * denominator)
    whole, frac = divmod(q, scale)
    return f"{whole}.{frac:0{decimals}d}"


def manifest_bytes(manifest: dict) -> bytes:
    """JSON, keys sorted, two-space indent, non-ASCII as itself, LF at the end."""
    return (json.dumps(manifest, ensure_ascii=False, sort_keys=True, indent=2) + "\n").encode("utf-8")


# --- the canonical zip file ----------------------------------------------------------------

_DOS_DATE = (0 << 9) | (1 << 5) | 1  # 1980-01-01
_DOS_TIME = 0  # 00:00:00
_FLAGS = 0x0800  # file names are UTF-8
_VERSION = 20  # 2.0
_MADE_BY = (3 << 8) | _VERSION  # Unix, 2.0
_MODE = 0o100644 << 16  # regular file, rw-r--r--


def pack_zip(members: dict[str, bytes]) -> bytes:
    """The canonical zip of ``members``: stored (no compression), sorted by name, no extra fields.

    Local header per member: signature ``PK\\x03\\x04``, version 20, flags 0x0800 (UTF-8
    names), method 0, time 0, date 0x0021 (1980-01-01), CRC-32, sizes, name length,
    extra length 0; then the name and the data. Then the central directory (version made
    by 0x0314, same fields, external attributes 0o100644 << 16, offset of the local
    header) and the end record, no comment. Everything little-endian, as in the ZIP
    specification (APPNOTE.TXT).
    """
    out = bytearray()
    central = bytearray()
    names = sorted(members)
    if len(names) > 0xFFFF:
        raise InputError("too many files for one bundle")
    for name in names:
        data = bytes(members[name])
        raw = name.encode("utf-8")
        crc = zlib.crc32(data) & 0xFFFFFFFF
        if len(data) > 0xFFFFFFFE or len(out) > 0xFFFFFFFE:
            raise InputError("the bundle is too large for a plain zip file")
        offset = len(out)
        # fmt: off
        out += struct.pack("<IHHHHHIIIHH", 0x04034B50, _VERSION, _FLAGS, 0, _DOS_TIME, _DOS_DATE,
                           crc, len(data), len(data), len(raw), 0)
        # fmt: on
        out += raw + data
        # fmt: off
        central += struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, _MADE_BY, _VERSION, _FLAGS, 0, _DOS_TIME,
                               _DOS_DATE, crc, len(data), len(data), len(raw), 0, 0, 0, 0, _MODE, offset)
        # fmt: on
        central += raw
    cd_offset = len(out)
    out += central
    out += struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(names), len(names), len(central), cd_offset, 0)
    return bytes(out)


def read_zip(data: bytes) -> tuple[dict[str, bytes], str | None]:
    """The members of a zip file, or a plain description of why it cannot be read."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            names = z.namelist()
            if len(set(names)) != len(names):
                return {}, "the zip file holds two files with the same name"
            members = {}
            for name in names:
                if name.endswith("/"):
                    continue
                members[name] = z.read(name)
            return members, None
    except zipfile.BadZipFile as e:
        return {}, f"not a readable zip file ({e})"
    except (zlib.error, EOFError, OSError, ValueError, NotImplementedError, KeyError, struct.error) as e:
        return {}, f"the zip file is damaged ({e})"

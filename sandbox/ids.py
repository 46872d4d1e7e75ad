"""Salesforce record ids: key prefixes, the 18-character case-safe form, and new ids.

An id is ``prefix (3) + pod "5g" + 10 base-36 digits``; the digits come from a monotonic
microsecond clock, so ids sort in creation order (as Salesforce's do) and never repeat in a
process. Only upper-case letters and digits follow the prefix, so every collation sorts them alike.

Several processes write one org (the server and its bulk workers, side by side): each takes only
the microseconds that leave its slot (``SANDBOX_ID_SLOT``, 0-7; the bulk workers get 1-7 from
``worker.start_worker_process``) modulo 8, so no two processes ever make the same id.
"""

import os
import re
import threading
import time

CHECKSUM_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"
BASE36 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
POD = "5g"

KEY_PREFIXES: dict[str, str] = {
    "Account": "001",
    "Contact": "003",
    "Lead": "00Q",
    "Opportunity": "006",
    "OpportunityContactRole": "00K",
    "Campaign": "701",
    "CampaignMember": "00v",
    "User": "005",
    "Group": "00G",
    "Profile": "00e",
    "UserRole": "00E",
    "Organization": "00D",
    "Task": "00T",
    "Event": "00U",
    "BulkJob": "750",
    "QueryLocator": "01g",
    "RecordType": "012",
}

ID_RE = re.compile(r"^[a-zA-Z0-9]{15}(?:[A-Za-z0-5]{3})?$")

_lock = threading.Lock()
_last = 0
SLOTS = 8
_slot = int(os.environ.get("SANDBOX_ID_SLOT", "0")) % SLOTS


class _UpperBits(dict):
    """``str.translate`` table: "1" for an upper-case letter, "0" for any other character."""

    def __missing__(self, key: int) -> str:
        return "0"


_UPPER_BITS = _UpperBits({ord(c): "1" for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZ"})


def checksum(id15: str) -> str:
    """The three-character case-safe suffix of a 15-character id: for each block of five
    characters, the letter whose index has bit i set when character i is upper-case."""
    bits = id15.translate(_UPPER_BITS)
    return (
        CHECKSUM_ALPHABET[int(bits[4::-1], 2)]
        + CHECKSUM_ALPHABET[int(bits[9:4:-1], 2)]
        + CHECKSUM_ALPHABET[int(bits[14:9:-1], 2)]
    )


def to18(id15: str) -> str:
    """The 18-character form of a 15-character id."""
    return id15 + checksum(id15)


def _base36(number: int, width: int) -> str:
    digits = []
    for _ in range(width):
        number, rest = divmod(number, 36)
        digits.append(BASE36[rest])
    return "".join(reversed(digits))


def _base36_value(digits: str) -> int:
    return int(digits, 36)


def _tick() -> int:
    """The next microsecond of this process's slot (ahead of the clock when ids come faster)."""
    global _last
    with _lock:
        now = time.time_ns() // 1000
        _last = max(_last + SLOTS, now - now % SLOTS + _slot)
        return _last


def new_id(prefix: str) -> str:
    """A fresh 18-character id with the given key prefix."""
    return to18(prefix + POD + _base36(_tick(), 10))


def normalize(value: object) -> str | None:
    """The 18-character id for a 15- or 18-character id string, or None if it is not one."""
    if not isinstance(value, str) or not ID_RE.match(value):
        return None
    if len(value) == 15:
        return to18(value)
    if checksum(value[:15]) == value[15:]:
        return value
    return _recase(value)


def _recase(value: str) -> str | None:
    """Recover the case of an 18-character id typed in the wrong case (the suffix encodes it)."""
    chars = list(value[:15].lower())
    for block, code in enumerate(value[15:].upper()):
        bits = CHECKSUM_ALPHABET.index(code)
        for i in range(5):
            if bits & (1 << i):
                chars[block * 5 + i] = chars[block * 5 + i].upper()
    id15 = "".join(chars)
    return to18(id15) if to18(id15).upper() == value.upper() else None

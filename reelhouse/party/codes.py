"""Invite codes: 6 characters from an alphabet without look-alikes (no 0/O, 1/I/L, 5/S,
2/Z, 8/B, U/V), typed case-insensitively. 23^6 ≈ 1.5e8 codes; a code is a capability
only together with a login (every party endpoint needs one)."""

from __future__ import annotations

import re
import secrets

__all__ = ["ALPHABET", "CODE_LENGTH", "CODE_PATTERN", "code_problem", "new_code", "normalize_code"]

ALPHABET = "ACDEFGHJKMNPQRTWXY34679"
CODE_LENGTH = 6
CODE_PATTERN = f"^[{ALPHABET}{ALPHABET.lower()}]{{{CODE_LENGTH}}}$"
_CODE = re.compile(CODE_PATTERN)


def new_code() -> str:
    """A random code (``secrets``: not guessable from earlier codes)."""
    return "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))


def normalize_code(text: str) -> str | None:
    """``" kq7-4rx "`` → ``"KQ74RX"`` style clean-up (spaces and dashes dropped, upper
    case); None if the result is not a valid code."""
    cleaned = re.sub(r"[\s-]", "", text or "").upper()
    return cleaned if _CODE.match(cleaned) else None


def code_problem(text: str) -> str:
    """Why ``text`` is not a code (for a :func:`normalize_code` that gave None), in words
    for the person who typed it: its length, or the characters no code has ("ZZZZZZ"
    is six letters, and "a party code is 6 letters and digits" told its typist nothing)."""
    cleaned = re.sub(r"[\s-]", "", text or "").upper()
    if len(cleaned) != CODE_LENGTH:
        return f"A party code is {CODE_LENGTH} letters and digits, like KQ7ART."
    wrong = "".join(dict.fromkeys(c for c in cleaned if c not in ALPHABET))
    shown = " ".join(wrong) if wrong.isprintable() else "some characters"
    return (f"No party code has {shown}: codes leave out look-alikes (0 and O, 1 and I, 5 and S, "
            f"2 and Z, 8 and B, U and V). Check the code you were given, like KQ7ART.")

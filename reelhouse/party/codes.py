"""Invite codes: 6 characters from an alphabet without look-alikes (no 0/O, 1/I/L, 5/S,
2/Z, 8/B, U/V), typed case-insensitively. 23^6 ≈ 1.5e8 codes; a code is a capability
only together with a login (every party endpoint needs one)."""

from __future__ import annotations

import re
import secrets

__all__ = ["ALPHABET", "CODE_LENGTH", "CODE_PATTERN", "new_code", "normalize_code"]

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

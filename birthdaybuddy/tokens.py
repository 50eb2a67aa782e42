"""Personal tokens (invitation links, RSVP links, calendar feeds): only their SHA-256 is stored."""

from __future__ import annotations

import hashlib


def hash_token(token: str) -> str:
    """The stored form of a token: its SHA-256, hex."""
    return hashlib.sha256(token.encode()).hexdigest()

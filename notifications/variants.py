"""Which variant of a message an occurrence uses: fixed by the message's idempotency key.

A kind and channel may have several texts (the shipped set, or a workspace's own variants,
which replace the shipped set). The one a message uses is ``SHA-256(idempotency key) mod n``
— never Python's ``hash``, which is salted per process — so every process, retry, rerun and
replay picks the same one, and the text is written with the notification (the outbox row),
never rendered again at send time. Adding or removing a variant later changes the choice only
for messages not written yet.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import TypeVar

T = TypeVar("T")


def variant_index(key: str, count: int) -> int:
    """The position (0 to ``count`` - 1) of the variant the message with idempotency ``key`` uses.

    Without a key (previews, samples) the first variant.
    """
    if count < 1:
        raise ValueError("There is no variant to choose from.")
    if not key or count == 1:
        return 0
    digest = hashlib.sha256(key.encode()).digest()
    return int.from_bytes(digest[:8], "big") % count


def choose(variants: Sequence[T], key: str) -> T:
    """The variant of ``variants`` (in their stable order) that ``key`` chooses."""
    return variants[variant_index(key, len(variants))]

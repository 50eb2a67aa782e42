# Before anything loads a time zone: zones come from the pinned tzdata package (see tzdb.py).
from .tzdb import use_pinned

use_pinned()

from .celery import app as celery_app  # noqa: E402

__all__ = ("celery_app",)

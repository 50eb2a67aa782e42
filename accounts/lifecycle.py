"""What the apps above do when a user's profile changes (the workspaces: the people linked to
the user follow their names, birthday, phone, Slack id).

The account services call these steps explicitly after the change (never a model signal, so a
plain ``save()`` elsewhere runs none of them), in their own transaction. The apps above
register their steps once, from their ``AppConfig.ready``.
"""

from __future__ import annotations

from collections.abc import Callable, Collection

from accounts.models import User

ProfileStep = Callable[[User, Collection[str]], object]

_changed: list[ProfileStep] = []


def profile_steps_register(*, changed: ProfileStep) -> None:
    """Adds a step run after a user's profile changed (``changed_fields``: the model fields that did)."""
    if changed not in _changed:
        _changed.append(changed)


def profile_changed_steps_run(user: User, changed_fields: Collection[str]) -> None:
    if not changed_fields:
        return
    for step in _changed:
        step(user, changed_fields)

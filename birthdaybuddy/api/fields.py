"""Serializer fields shared by every app's API."""

from __future__ import annotations

from rest_framework import serializers


class StrictBooleanField(serializers.BooleanField):
    """Only JSON ``true``/``false``: ``0``, ``"no"`` or ``"false"`` in a JSON body are client bugs.

    DRF's own field takes ``0``, ``"0"``, ``"off"`` … as false, so ``{"dry_run": 0}`` became a
    real run. Every boolean of a JSON body uses this field.
    """

    def to_internal_value(self, data):
        if not isinstance(data, bool):
            self.fail("invalid", input=data)
        return data


class QueryBooleanField(serializers.BooleanField):
    """A boolean in a query string or form: ``true``/``false`` or ``1``/``0``, nothing else."""

    TRUE_VALUES = {True, "true", "True", "1"}
    FALSE_VALUES = {False, "false", "False", "0"}
    NULL_VALUES = {None, ""}

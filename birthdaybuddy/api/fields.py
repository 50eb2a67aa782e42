"""Serializer fields shared by every app's API."""

from __future__ import annotations

from django.db import models
from drf_spectacular.utils import extend_schema_field
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


class _StrictStringMixin:
    """DRF turns ``123`` into ``"123"``; a number where text belongs is a client bug, say so."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictCharField(_StrictStringMixin, serializers.CharField):
    pass


class StrictEmailField(_StrictStringMixin, serializers.EmailField):
    pass


class StrictSlugField(_StrictStringMixin, serializers.SlugField):
    pass


class StrictModelSerializer(serializers.ModelSerializer):
    serializer_field_mapping = {
        **serializers.ModelSerializer.serializer_field_mapping,
        models.CharField: StrictCharField,
        models.EmailField: StrictEmailField,
        models.SlugField: StrictSlugField,
        models.BooleanField: StrictBooleanField,
    }


@extend_schema_field(
    {
        "type": "string",
        "pattern": "^([01][0-9]|2[0-3]):[0-5][0-9]$",
        "example": "09:00",
        "description": "Local time as HH:MM (24-hour).",
    }
)
class HourMinuteField(serializers.TimeField):
    default_error_messages = {"invalid": "Time must be HH:MM (24-hour), e.g. 09:00."}

    def __init__(self, **kwargs):
        super().__init__(format="%H:%M", input_formats=["%H:%M"], **kwargs)

    def to_internal_value(self, value):
        if not isinstance(value, str) or len(value) != len("HH:MM"):
            self.fail("invalid")
        return super().to_internal_value(value)

"""Serializer fields shared by the lab and safety APIs."""

from __future__ import annotations

from decimal import Decimal

from django.db import models
from rest_framework import serializers

from ecrf.api import OffsetDateTimeField
from ecrf.domain.units import format_decimal, round_half_up


class PlainDecimalField(serializers.DecimalField):
    """Decimals as exact strings without padding: "150", "1.25" (not "150.0000")."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_digits", 14)
        kwargs.setdefault("decimal_places", 4)
        super().__init__(**kwargs)

    def to_representation(self, value):
        if value is None:
            return None
        return format_decimal(round_half_up(Decimal(value), self.decimal_places))


class PlainDecimalModelSerializer(serializers.ModelSerializer):
    # Model decimals as PlainDecimalField. (No docstring: the schema would show it as the
    # description of every serializer built on this one.)
    serializer_field_mapping = {
        **serializers.ModelSerializer.serializer_field_mapping,
        models.DecimalField: PlainDecimalField,
    }


class CollectionTimeField(OffsetDateTimeField):
    """A date and time; a bare date is refused rather than read as midnight UTC (the time of
    a sample matters, e.g. for a trough level)."""

    default_error_messages = {
        "date_only": "Give the date and the time (e.g. 2025-03-04T08:30:00+08:00), "
        "not a date alone."
    }

    def to_internal_value(self, value):
        if isinstance(value, str) and len(value.strip()) <= len("2025-03-04"):
            self.fail("date_only")
        return super().to_internal_value(value)

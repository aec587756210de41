"""How values read in the admin: numbers without trailing zeros (25, not 25.0000).

Decimal columns keep four places in the database; a person reads the number as measured. Lists
and read-only fields show `plain_number`; inputs show the same through `PlainNumberInput`.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from django import forms

EMPTY = "—"


def plain_number(value: Decimal | int | float | None) -> str:
    """25.0000 → 25, 1.2500 → 1.25, 1E+2 → 100; None → —."""
    if value is None:
        return EMPTY
    if not isinstance(value, Decimal):
        value = Decimal(str(value))
    text = format(value.normalize(), "f")
    return "0" if text in ("-0", "") else text


class PlainNumberInput(forms.NumberInput):
    """A number input whose stored value shows without trailing zeros."""

    def format_value(self, value):
        if isinstance(value, Decimal):
            return plain_number(value)
        return super().format_value(value)


def number_display(name: str, label: str, value_of: Callable | None = None) -> Callable:
    """An admin column (or read-only field) showing a decimal field as a plain number;
    `value_of(obj)` chooses what is shown (None shows as —), by default the field itself."""

    def show(obj) -> str:
        value = value_of(obj) if value_of is not None else getattr(obj, name)
        return plain_number(value)

    show.short_description = label
    show.admin_order_field = name
    show.__name__ = name  # the CSS class of the column and the read-only row (field-<name>)
    return show

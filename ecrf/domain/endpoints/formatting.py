"""Plain text of numbers used across the engine's results."""

from __future__ import annotations

from decimal import Decimal


def _fmt(value: Decimal) -> str:
    """Plain decimal text without exponent or trailing zeros: 24, 19.5, 100."""
    text = format(Decimal(value).normalize(), "f")
    return "0" if text in ("-0", "0") else text

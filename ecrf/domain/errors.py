"""The one exception hierarchy of the domain rules.

Every error names the input it is about (`field`, a dotted path such as ``rule.any.0.unit``) so that
the API can answer with a 400 naming the field, and a protocol loader can name the key at fault.
"""

from __future__ import annotations


class DomainError(ValueError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message

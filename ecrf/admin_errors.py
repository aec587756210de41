"""A refused write's errors on the admin form's fields (shared by the record admins and the
patient workflow pages), so a coordinator sees every message at the field it concerns."""

from __future__ import annotations

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS
from django.core.exceptions import ValidationError as DjangoValidationError

from ecrf.domain.errors import DomainError
from ecrf.exceptions import ServiceError

RefusedWrite = ServiceError | DomainError | DjangoValidationError


def add_service_errors(form: forms.Form, error: RefusedWrite, aliases: dict | None = None) -> None:
    """Puts each error of a refused write on the form field it names: a dotted path by the form
    field `a__b` or by its first part, through `aliases` (service name → form field) where the
    form names a value differently; anything else is a form-wide error prefixed with its path."""
    for path, message in _errors_of(error):
        field = _form_field(form, path, aliases or {})
        if field is not None:
            form.add_error(field, message)
        else:
            form.add_error(None, f"{path}: {message}" if path else message)


def _errors_of(error: RefusedWrite) -> list[tuple[str | None, str]]:
    if isinstance(error, ServiceError):
        return [(item.get("field"), item["message"]) for item in error.errors]
    if isinstance(error, DomainError):
        return [(error.field, error.message)]
    details = error.message_dict if hasattr(error, "error_dict") else {None: error.messages}
    return [
        (None if name == NON_FIELD_ERRORS else name, message)
        for name, messages in details.items()
        for message in messages
    ]


def _form_field(form: forms.Form, path: str | None, aliases: dict) -> str | None:
    if not path:
        return None
    for name in (path.replace(".", "__"), path.split(".")[0]):
        name = aliases.get(name, name)
        if name in form.fields:
            return name
    return None

"""Admin forms that run the services' checks, so the admin refuses what the API refuses.

`ecrf.admin_base.AuditedAdminForm` asks for a reason and refuses stale edits; this base adds a
`check(cleaned_data)` hook where a form calls the same validation its service uses. Errors
raised there (InvalidInput, DomainError, Django ValidationError) are shown on the field they
name. The acting user is set on the form class by `RequestFormAdminMixin`.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError

from domain.errors import DomainError
from ecrf.admin_base import AuditedAdminForm
from ecrf.exceptions import ServiceError


class ServiceCheckedAdminForm(AuditedAdminForm):
    request = None  # set per request by RequestFormAdminMixin.get_form
    # Service field names that the form shows under another field.
    field_aliases: dict[str, str] = {}

    def check(self, cleaned_data: dict) -> None:  # pragma: no cover - every subclass overrides
        raise NotImplementedError

    def clean(self):
        cleaned = super().clean()
        if self.errors:
            return cleaned  # the service checks need every field to be valid first
        try:
            self.check(cleaned)
        except ServiceError as error:
            for item in error.errors:
                self._add(item.get("field"), item["message"])
        except DomainError as error:
            self._add(error.field, error.message)
        except DjangoValidationError as error:
            details = error.message_dict if hasattr(error, "error_dict") else {None: error.messages}
            for name, messages in details.items():
                for message in messages:
                    self._add(name, message)
        return cleaned

    def _add(self, name: str | None, message: str) -> None:
        field = name.split(".")[0] if name else None
        field = self.field_aliases.get(field, field)
        self.add_error(field if field in self.fields else None, message)


class RequestFormAdminMixin:
    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        form.request = request
        return form

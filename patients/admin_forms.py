"""Forms of the patient workflow pages in the admin (the services do the checking)."""

from __future__ import annotations

from django import forms

from ecrf.access import Action, can
from patients.checklist import criterion_in_words
from patients.models import ExitReason, Patient
from patients.selectors import latest_assessment
from patients.status_machine import CODED_REASON_TARGETS, next_statuses

# The answer's words follow the criterion's kind: an exclusion "met" is one that applies.
ANSWER_WORDS = {
    "inclusion": {"met": "Meets", "not_met": "Does not meet"},
    "exclusion": {"met": "Applies (excluded)", "not_met": "Does not apply"},
}


def answer_choices(kind: str) -> list[tuple[str, str]]:
    words = ANSWER_WORDS.get(kind, ANSWER_WORDS["inclusion"])
    return [
        ("", "— keep the current answer —"),
        ("met", words["met"]),
        ("not_met", words["not_met"]),
        ("withdraw", "Withdraw the answer (not yet known)"),
    ]


ANSWER_VALUES = {"met": True, "not_met": False, "withdraw": None}


class ConsentAdminForm(forms.Form):
    consented_at = forms.DateField(help_text="Date the consent form was signed (YYYY-MM-DD).")
    consent_version = forms.CharField(max_length=40, help_text="Version of the form signed.")


class EligibilityAdminForm(forms.Form):
    evaluated_on = forms.DateField(
        required=False, help_text="Evaluate the data as of this date (empty: today)."
    )

    def __init__(self, patient: Patient, user, data=None):
        super().__init__(data)
        protocol = patient.study.current_protocol()
        may_answer = can(
            user, Action.CONFIRM_ELIGIBILITY, study_id=patient.study_id, site_id=patient.site_id
        )
        self.criteria = list(protocol.eligibility_criteria.filter(rule__isnull=True))
        previous = latest_assessment(patient)
        answers = (
            previous.answers if previous and previous.protocol_version_id == protocol.pk else {}
        )
        for criterion in self.criteria:
            _, shown = criterion_in_words(criterion.kind, answers.get(criterion.code))
            who = "" if may_answer else "; only an investigator may confirm this item"
            self.fields[f"answers__{criterion.code}"] = forms.ChoiceField(
                label=f"{criterion.kind}: {criterion.code}",
                choices=answer_choices(criterion.kind),
                required=False,
                disabled=not may_answer,
                help_text=f"{criterion.text} (now: {shown}{who})",
            )

    def answers(self) -> dict[str, bool | None]:
        return {
            name.removeprefix("answers__"): ANSWER_VALUES[value]
            for name, value in self.cleaned_data.items()
            if name.startswith("answers__") and value
        }


class AllocationAdminForm(forms.Form):
    """Randomization (or enrolment); the date field appears for data managers only."""

    reason = forms.CharField(required=False, help_text="Note kept with the allocation.")

    def __init__(self, patient: Patient, user, factors: list, data=None):
        super().__init__(data)
        self.date_field = "randomized_at" if patient.study.is_randomized else "enrolled_at"
        if can(user, Action.BACK_ENTER, study_id=patient.study_id, site_id=patient.site_id):
            self.fields[self.date_field] = forms.DateField(
                required=False,
                help_text="Historical data only: the past allocation date (empty: today).",
            )
        for factor in factors:
            self.fields[f"factors__{factor.name}"] = forms.ChoiceField(
                label=factor.name, choices=[(level, level) for level in factor.levels]
            )

    def service_arguments(self) -> dict:
        data = self.cleaned_data
        arguments: dict = {"reason": data.get("reason") or None}
        if data.get(self.date_field):
            arguments[self.date_field] = data[self.date_field]
        factors = {
            name.removeprefix("factors__"): value
            for name, value in data.items()
            if name.startswith("factors__")
        }
        if factors:
            arguments["factors"] = factors
        return arguments


class StatusAdminForm(forms.Form):
    status = forms.ChoiceField()
    on = forms.DateField(help_text="Date of the move (YYYY-MM-DD).")
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}))
    reason_code = forms.ChoiceField(
        required=False,
        choices=[("", "—"), *ExitReason.choices],
        help_text=f"Required for {', '.join(sorted(CODED_REASON_TARGETS))}.",
    )

    def __init__(self, patient: Patient, data=None):
        super().__init__(data)
        self.fields["status"].choices = [(s, s) for s in next_statuses(patient.status)]

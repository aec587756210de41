"""The registries through which the apps above `patients` supply what it needs (issue 9): the
arrows point one way, yet eligibility reads labs and ECOG and allocation creates the calendar."""

import pytest
from django.core.exceptions import ImproperlyConfigured

from patients import hooks
from visits.findings.selectors import latest_ecog_score
from visits.labs.selectors import latest_lab_facts
from visits.labs.services import lab_suggestions_after_allocation
from visits.services import visit_calendar_after_allocation


def test_the_apps_register_their_allocation_steps_calendar_first():
    steps = hooks.after_allocation_hooks()

    assert [(s.name, s.order, s.run) for s in steps] == [
        ("visit calendar", 10, visit_calendar_after_allocation),
        ("lab grade suggestions", 20, lab_suggestions_after_allocation),
    ]


def test_the_apps_register_the_recorded_eligibility_facts():
    assert hooks._eligibility_inputs == {"ecog": latest_ecog_score, "labs": latest_lab_facts}


def test_steps_run_by_declared_order_not_by_registration(monkeypatch):
    monkeypatch.setattr(hooks, "_after_allocation", {})
    hooks.register_after_allocation("late", order=30, run=print)
    hooks.register_after_allocation("visit calendar", order=10, run=print)
    hooks.register_after_allocation("between", order=20, run=print)

    assert [s.name for s in hooks.after_allocation_hooks()] == ["visit calendar", "between", "late"]


def test_allocation_without_a_calendar_step_is_a_configuration_error(monkeypatch):
    monkeypatch.setattr(hooks, "_after_allocation", {})
    hooks.register_after_allocation("lab grade suggestions", order=20, run=print)

    with pytest.raises(ImproperlyConfigured, match="visit calendar"):
        hooks.after_allocation_hooks()


def test_an_unregistered_fact_is_a_configuration_error_not_an_unknown_value(monkeypatch):
    monkeypatch.setattr(hooks, "_eligibility_inputs", {})

    with pytest.raises(ImproperlyConfigured, match="'labs'"):
        hooks.read_eligibility_input("labs", None, None, None)


def test_a_fact_eligibility_does_not_know_is_refused():
    with pytest.raises(ImproperlyConfigured, match="Unknown eligibility fact 'weight'"):
        hooks.register_eligibility_input("weight", read=print)

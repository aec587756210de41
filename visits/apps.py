from django.apps import AppConfig


class VisitsConfig(AppConfig):
    name = "visits"
    verbose_name = "Visits"

    def ready(self) -> None:
        # Allocation (in `patients`, below this app) creates the calendar through this hook,
        # in its own transaction, before the lab regrade (order 20).
        from patients.hooks import register_after_allocation
        from visits.services import visit_calendar_after_allocation

        register_after_allocation("visit calendar", order=10, run=visit_calendar_after_allocation)

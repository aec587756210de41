from django.apps import AppConfig


class LabsConfig(AppConfig):
    name = "visits.labs"
    label = "labs"

    def ready(self) -> None:
        # `patients` sits below this app and may not import it: eligibility reads the latest
        # results, and an allocation (day 1 defines the baseline) re-derives the suggestions.
        from ecrf.jobs import register_job_kind
        from patients.hooks import register_after_allocation, register_eligibility_input
        from visits.labs.jobs import LAB_IMPORT, import_lab_file
        from visits.labs.selectors import latest_lab_facts
        from visits.labs.services import lab_suggestions_after_allocation

        register_eligibility_input("labs", read=latest_lab_facts)
        register_after_allocation(
            "lab grade suggestions", order=20, run=lab_suggestions_after_allocation
        )
        register_job_kind(LAB_IMPORT, import_lab_file)

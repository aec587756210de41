from django.apps import AppConfig


class EndpointsConfig(AppConfig):
    name = "visits.endpoints"
    label = "endpoints"

    def ready(self) -> None:
        # The one place that says "a write to what the assessment reads refreshes it": the
        # recorders below this app never import it (import-linter enforces the arrows).
        from ecrf.after_write import register_after_write
        from ecrf.jobs import register_job_kind
        from visits.endpoints.jobs import RECOMPUTE, recompute_study
        from visits.endpoints.services import patient_id_of, refresh_assessments
        from visits.endpoints.sources import ASSESSED_MODELS

        register_after_write(
            "endpoint assessment",
            models=ASSESSED_MODELS,
            subject_of=patient_id_of,
            run=refresh_assessments,
        )
        register_job_kind(RECOMPUTE, recompute_study)

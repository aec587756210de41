from django.apps import AppConfig


class FindingsConfig(AppConfig):
    name = "visits.findings"
    label = "findings"

    def ready(self) -> None:
        # Eligibility (in `patients`, below this app) reads the latest ECOG score through this.
        from patients.hooks import register_eligibility_input
        from visits.findings.selectors import latest_ecog_score

        register_eligibility_input("ecog", read=latest_ecog_score)

from django.apps import AppConfig


class LabsConfig(AppConfig):
    name = "visits.labs"
    label = "labs"

    def ready(self) -> None:
        from ecrf.jobs import register_job_kind
        from visits.labs.jobs import LAB_IMPORT, import_lab_file

        register_job_kind(LAB_IMPORT, import_lab_file)

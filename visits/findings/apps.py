from django.apps import AppConfig


class FindingsConfig(AppConfig):
    name = "visits.findings"
    label = "findings"

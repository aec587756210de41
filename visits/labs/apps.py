from django.apps import AppConfig


class LabsConfig(AppConfig):
    name = "visits.labs"
    label = "labs"

from django.apps import AppConfig


class DosingConfig(AppConfig):
    name = "visits.dosing"
    label = "dosing"

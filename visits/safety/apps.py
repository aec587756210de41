from django.apps import AppConfig


class SafetyConfig(AppConfig):
    name = "visits.safety"
    label = "safety"

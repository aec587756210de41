from django.apps import AppConfig


class EcrfConfig(AppConfig):
    name = "ecrf"
    verbose_name = "Access and audit"

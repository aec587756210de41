from django.apps import AppConfig


class EndpointsConfig(AppConfig):
    name = "visits.endpoints"
    label = "endpoints"

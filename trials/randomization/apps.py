from django.apps import AppConfig


class RandomizationConfig(AppConfig):
    name = "trials.randomization"
    label = "randomization"

from django.apps import AppConfig


class ExportsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "visits.exports"
    label = "exports"
    verbose_name = "Exports, audit log and codebook"

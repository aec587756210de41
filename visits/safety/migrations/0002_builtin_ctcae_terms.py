"""Loads the curated built-in CTCAE v5.0 terms (ecrf.domain.ctcae_terms.BUILTIN_TERMS), so the
dictionary is never empty. Each term gets its creation row in the audit trail, as an import
would write it. Re-running adds only what is missing."""

from django.db import migrations
from django.utils import timezone

REASON = "Built-in CTCAE v5.0 term set"


def load_builtin_terms(apps, schema_editor):
    from ecrf.domain.ctcae_terms import BUILTIN_TERMS

    term_model = apps.get_model("safety", "CtcaeTerm")
    history_model = apps.get_model("safety", "HistoricalCtcaeTerm")
    stored = set(
        term_model.objects.filter(ctcae_version="5.0").values_list("meddra_code", flat=True)
    )
    now = timezone.now()
    for term in BUILTIN_TERMS:
        if term.meddra_code in stored:
            continue
        grades = {f"grade{grade}": text for grade, text in enumerate(term.grades, start=1)}
        row = term_model.objects.create(
            ctcae_version="5.0",
            meddra_code=term.meddra_code,
            soc=term.soc,
            term=term.term,
            definition=term.definition,
            source="builtin",
            **grades,
        )
        values = {
            field.attname: getattr(row, field.attname) for field in term_model._meta.concrete_fields
        }
        history_model.objects.create(
            **values,
            history_date=now,
            history_type="+",
            history_change_reason=REASON,
            history_user=None,
        )


def remove_builtin_terms(apps, schema_editor):
    term_model = apps.get_model("safety", "CtcaeTerm")
    term_model.objects.filter(source="builtin", adverse_events__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [("safety", "0001_initial")]

    operations = [migrations.RunPython(load_builtin_terms, remove_builtin_terms)]

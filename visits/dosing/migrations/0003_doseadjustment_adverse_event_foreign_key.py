# DoseAdjustment.adverse_event_id (a plain number kept until the safety app settled) becomes
# the foreign key `adverse_event` to safety.AdverseEvent. Its column keeps the name
# adverse_event_id and its values: the field is renamed, then altered into the foreign key.

import django.db.models.deletion
from django.db import migrations, models


def refuse_unknown_adverse_events(apps, schema_editor):
    """An id that names no adverse event cannot become a foreign key; it is never dropped
    silently (clinical data): the migration stops and names the adjustments to correct."""
    adjustments = apps.get_model("dosing", "DoseAdjustment")
    events = apps.get_model("safety", "AdverseEvent")
    cited = adjustments.objects.filter(adverse_event_id__isnull=False)
    known = set(events.objects.values_list("pk", flat=True))
    unknown = sorted(
        (adjustment.pk, adjustment.adverse_event_id)
        for adjustment in cited.only("pk", "adverse_event_id")
        if adjustment.adverse_event_id not in known
    )
    if unknown:
        listed = ", ".join(f"adjustment {pk} (adverse event {event})" for pk, event in unknown)
        raise RuntimeError(
            f"Dose adjustments cite adverse events that do not exist: {listed}. Correct them "
            "(an audited update of adverse_event_id) before migrating."
        )


class Migration(migrations.Migration):

    dependencies = [
        ('dosing', '0002_history_reason_text'),
        ('safety', '0003_history_reason_text'),
    ]

    operations = [
        migrations.RunPython(refuse_unknown_adverse_events, migrations.RunPython.noop),
        migrations.RenameField(
            model_name='doseadjustment',
            old_name='adverse_event_id',
            new_name='adverse_event',
        ),
        migrations.AlterField(
            model_name='doseadjustment',
            name='adverse_event',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='safety.adverseevent'),
        ),
        migrations.RenameField(
            model_name='historicaldoseadjustment',
            old_name='adverse_event_id',
            new_name='adverse_event',
        ),
        migrations.AlterField(
            model_name='historicaldoseadjustment',
            name='adverse_event',
            field=models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='safety.adverseevent'),
        ),
    ]

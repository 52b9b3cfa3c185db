"""Each alert carries its event's patient, so a person's alerts are scoped to the patients they
see on the alert's own columns (the count of the API's alert list read every toxicity event).
Backfilled from the events before the column becomes required."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('carecoord', '0023_patient_death'),
        ('toxicity', '0007_malignancy_by_onset'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name='alert',
            name='patient',
            field=models.ForeignKey(editable=False, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='carecoord.patient'),
        ),
        migrations.RunSQL(
            'UPDATE "toxicity_alert" SET "patient_id" = event."patient_id" '
            'FROM "toxicity_toxicityevent" event WHERE event."id" = "toxicity_alert"."event_id"',
            migrations.RunSQL.noop,
        ),
        migrations.AlterField(
            model_name='alert',
            name='patient',
            field=models.ForeignKey(editable=False, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='carecoord.patient'),
        ),
        migrations.AddIndex(
            model_name='alert',
            index=models.Index(fields=['recipient', 'patient'], name='alert_recipient_patient'),
        ),
    ]

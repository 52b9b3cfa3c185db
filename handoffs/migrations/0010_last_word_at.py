import datetime

import django.db.models.functions.comparison
from django.db import migrations, models

# Each hand-off with a last word is given the moment of its thread's latest question.
LAST_WORD_AT = """
UPDATE handoffs_handoff AS h SET last_word_at = q.latest
FROM (SELECT handoff_id, MAX(created_at) AS latest FROM handoffs_handoffquestion GROUP BY handoff_id) AS q
WHERE q.handoff_id = h.id AND h.last_word_site_id IS NOT NULL
"""


class Migration(migrations.Migration):
    dependencies = [
        ("handoffs", "0009_handoff_awaiting_in_order"),
    ]

    operations = [
        migrations.AddField(
            model_name="handoff",
            name="last_word_at",
            field=models.DateTimeField(blank=True, editable=False, null=True),
        ),
        migrations.RunSQL(LAST_WORD_AT, migrations.RunSQL.noop, elidable=True),
        migrations.AddConstraint(
            model_name="handoff",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("last_word_at__gte", datetime.datetime(1900, 1, 1, 0, 0, tzinfo=datetime.UTC)),
                    ("last_word_at__lt", datetime.datetime(2200, 1, 1, 0, 0, tzinfo=datetime.UTC)),
                ),
                name="handoff_last_word_at_in_calendar",
            ),
        ),
        migrations.AddField(
            model_name="handoff",
            name="waiting_since",
            field=models.GeneratedField(
                db_persist=True,
                expression=django.db.models.functions.comparison.Coalesce("last_word_at", "acknowledge_by"),
                output_field=models.DateTimeField(blank=True, null=True),
            ),
        ),
    ]

"""The site of each hand-off's last question or answer, kept on the hand-off, and the partial
indexes `HandoffQuerySet.awaiting` reads: the hand-offs waiting on a site are found without
reading every thread of the network. Existing hand-offs take the site of their thread's latest
question (the order the hand-off page shows them in)."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


LAST_WORDS = """
UPDATE handoffs_handoff AS handoff
SET last_word_site_id = last_word.site_id
FROM (
    SELECT DISTINCT ON (handoff_id) handoff_id, site_id
    FROM handoffs_handoffquestion
    ORDER BY handoff_id, created_at DESC, id DESC
) AS last_word
WHERE last_word.handoff_id = handoff.id
"""


class Migration(migrations.Migration):

    dependencies = [
        ('carecoord', '0022_careteamlink_open_by_joining'),
        ('handoffs', '0007_transition_after_infusion'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name='handoff',
            name='last_word_site',
            field=models.ForeignKey(blank=True, db_index=False, editable=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='carecoord.site'),
        ),
        migrations.RunSQL(LAST_WORDS, migrations.RunSQL.noop),
        migrations.AddIndex(
            model_name='handoff',
            index=models.Index(condition=models.Q(('state', 'sent')), fields=['to_site'], name='handoff_sent_to'),
        ),
        migrations.AddIndex(
            model_name='handoff',
            index=models.Index(condition=models.Q(('last_word_site', models.F('from_site')), ('state__in', ['sent', 'acknowledged'])), fields=['to_site'], name='handoff_answer_due_at_to'),
        ),
        migrations.AddIndex(
            model_name='handoff',
            index=models.Index(condition=models.Q(('last_word_site', models.F('to_site')), ('state__in', ['sent', 'acknowledged'])), fields=['from_site'], name='handoff_answer_due_at_from'),
        ),
    ]

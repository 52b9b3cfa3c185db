"""Each message of a hand-off's thread says what it is: a question, an answer or a note. The
messages written so far were all taken as questions, and stay so; each hand-off's
`last_word_site` and `last_word_at` (the site of its last question, and when it was asked) mean
from now on the open question, which an answer empties."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('handoffs', '0011_handoff_awaiting_by_wait'),
    ]

    operations = [
        migrations.AddField(
            model_name='handoffquestion',
            name='kind',
            field=models.CharField(choices=[('question', 'Question'), ('answer', 'Answer'), ('note', 'Note')], default='question', max_length=16),
        ),
    ]

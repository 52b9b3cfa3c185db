from django.contrib.postgres.operations import AddIndexConcurrently, RemoveIndexConcurrently
from django.db import migrations, models


class Migration(migrations.Migration):
    # Built, and the one it replaces dropped, without blocking writes to the hand-offs.
    atomic = False

    dependencies = [
        ("handoffs", "0010_last_word_at"),
    ]

    operations = [
        AddIndexConcurrently(
            model_name="handoff",
            index=models.Index(
                condition=models.Q(
                    ("state", "sent"),
                    models.Q(("last_word_site__isnull", False), ("state__in", ["sent", "acknowledged"])),
                    _connector="OR",
                ),
                fields=["waiting_since", "sent_at", "id"],
                include=("patient", "state", "from_site", "to_site", "last_word_site"),
                name="handoff_awaiting_by_wait",
            ),
        ),
        RemoveIndexConcurrently(model_name="handoff", name="handoff_awaiting_in_order"),
    ]

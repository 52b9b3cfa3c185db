"""The shipped transition template's description named a document users cannot open; databases
created before this change get the text new ones are created with."""

from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps

# The old text ended with a section reference in parentheses.
OLD = r"^The hand-back to the community practice after the monitoring period \(.+ section 6\)\.$"
NEW = "The hand-back to the community practice after the monitoring period."


def forwards(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    Template = apps.get_model("handoffs", "HandoffTemplate")
    Template.objects.filter(owner_site=None, description__regex=OLD).update(description=NEW)


class Migration(migrations.Migration):
    dependencies = [("handoffs", "0004_record_dates_within_calendar")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]

"""The patient search: trigram indexes, so that any part of a name or of an MRN is found by an
index (`UPPER(...) LIKE '%...%'`, as `icontains` asks) rather than by reading every patient.

pg_trgm ships with PostgreSQL and is a trusted extension: the database's owner may create it.
"""

import django.contrib.postgres.indexes
import django.db.models.functions.text
from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations


def trigram_index(field: str, name: str) -> django.contrib.postgres.indexes.GinIndex:
    return django.contrib.postgres.indexes.GinIndex(
        django.contrib.postgres.indexes.OpClass(django.db.models.functions.text.Upper(field), name="gin_trgm_ops"),
        name=name,
    )


class Migration(migrations.Migration):
    dependencies = [
        ("carecoord", "0016_timelineentry_subject"),
    ]

    operations = [
        TrigramExtension(),
        migrations.AddIndex(model_name="patient", index=trigram_index("family_name", "patient_family_name_trgm")),
        migrations.AddIndex(model_name="patient", index=trigram_index("given_name", "patient_given_name_trgm")),
        migrations.AddIndex(model_name="patientidentifier", index=trigram_index("mrn", "identifier_mrn_trgm")),
    ]

"""Version 3 of the shipped transition template: what the community needs after the infusion.

A new section carries the blood counts' trend, the ICAHT grade, the IgG and IVIG, the
prophylaxis plan with its stop dates, the vaccinations due and the late effects to watch for
after the patient's product (docs/clinical-rules.md#late-effects), each prefilled from the record
where carecoord holds it (`handoffs.prefill.SOURCES`; a key without a source yet stays empty).
The fields are optional: a practice may have nothing to add where the record is silent.
Hand-offs already started keep their version. A template a site administrator has changed since
version 2 shipped is left alone: it is theirs now.
"""

from django.db import migrations
from django.utils import timezone

TRANSITION = "Post-CAR-T transition to community care"
SECTION = {
    "key": "after_infusion",
    "title": "Counts, immune recovery and late effects",
    "fields": [
        {
            "key": "counts_trend",
            "label": "Blood counts trend",
            "type": "long_text",
            "required": False,
            "help": "ANC, hemoglobin and platelets since day 0.",
            "prefill": "counts_trend",
        },
        {
            "key": "icaht_grade",
            "label": "ICAHT grade (EHA/EBMT), the higher of early and late",
            "type": "grade",
            "required": False,
            "prefill": "icaht_grade",
        },
        {"key": "igg", "label": "IgG (latest)", "type": "text", "required": False, "prefill": "igg"},
        {
            "key": "ivig",
            "label": "IVIG given and planned",
            "type": "long_text",
            "required": False,
            "help": "IVIG when IgG < 400 mg/dL with serious or recurrent infections.",
            "prefill": "ivig",
        },
        {
            "key": "prophylaxis_plan",
            "label": "Prophylaxis plan with stop dates",
            "type": "long_text",
            "required": False,
            "prefill": "prophylaxis_plan",
        },
        {
            "key": "vaccinations_due",
            "label": "Vaccinations due",
            "type": "long_text",
            "required": False,
            "prefill": "vaccinations_due",
        },
        {
            "key": "late_effect_watch_items",
            "label": "Late effects to watch for (from the product's label)",
            "type": "long_text",
            "required": False,
            "help": "Report a new cancer (secondary malignancy) to the manufacturer.",
            "prefill": "late_effect_watch_items",
        },
    ],
}


def ship(apps, schema_editor):
    Template = apps.get_model("handoffs", "HandoffTemplate")
    Version = apps.get_model("handoffs", "HandoffTemplateVersion")
    template = Template.objects.filter(owner_site__isnull=True, name=TRANSITION).first()
    if template is None:
        return
    versions = list(Version.objects.filter(template=template).order_by("-number"))
    if [v.number for v in versions] != [2, 1] or any(v.status != "published" for v in versions):
        return  # edited since it shipped
    schema = versions[0].schema
    if any(section["key"] == SECTION["key"] for section in schema["sections"]):
        return
    schema["sections"].insert(len(schema["sections"]) - 1, SECTION)
    Version.objects.create(template=template, number=3, schema=schema, status="published", published_at=timezone.now())


def unship(apps, schema_editor):
    Version = apps.get_model("handoffs", "HandoffTemplateVersion")
    Version.objects.filter(
        template__owner_site__isnull=True, template__name=TRANSITION, number=3, handoffs__isnull=True
    ).delete()


class Migration(migrations.Migration):
    dependencies = [("handoffs", "0006_handoff_newest_first")]
    operations = [migrations.RunPython(ship, unship)]

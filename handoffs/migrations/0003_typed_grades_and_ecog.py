"""Version 2 of the shipped templates: toxicity grades and the ECOG status become typed fields.

Version 1 asked for the highest CRS and ICANS grades and the ECOG status as free numbers, so a
grade 7 or an ECOG 17 went through, and "nothing recorded" could only be written as 0. Version
2 asks for a grade 0-4 or "none recorded", and an ECOG status 0-4. Hand-offs already started
keep their version. A template whose published version a site administrator has changed since
it shipped is left alone: it is theirs now.
"""

from django.db import migrations
from django.utils import timezone

# (template, section, field) -> (new type, help)
TYPED = {
    ("Post-CAR-T transition to community care", "treatment", "highest_crs"): (
        "grade",
        "ASTCT grade 0-4; “none recorded” when no CRS was recorded.",
    ),
    ("Post-CAR-T transition to community care", "treatment", "highest_icans"): (
        "grade",
        "ASTCT grade 0-4; “none recorded” when no ICANS was recorded.",
    ),
    ("Toxicity transfer", "event", "highest_crs"): ("grade", "ASTCT grade 0-4, or “none recorded”."),
    ("Toxicity transfer", "event", "highest_icans"): ("grade", "ASTCT grade 0-4, or “none recorded”."),
    ("Referral packet", "disease", "performance_status"): ("ecog", ""),
}
NOTE = "Version 2: grades and the ECOG status are chosen, not typed; a required “no” needs a comment."


def ship(apps, schema_editor):
    Template = apps.get_model("handoffs", "HandoffTemplate")
    Version = apps.get_model("handoffs", "HandoffTemplateVersion")
    for template in Template.objects.filter(owner_site__isnull=True, name__in={name for name, _, _ in TYPED}):
        versions = list(Version.objects.filter(template=template).order_by("-number"))
        if [v.number for v in versions] != [1] or versions[0].status != "published":
            continue  # edited since it shipped
        schema = versions[0].schema
        changed = False
        for section in schema["sections"]:
            for field in section["fields"]:
                typed = TYPED.get((template.name, section["key"], field["key"]))
                if typed is not None and field["type"] == "number":
                    field["type"] = typed[0]
                    if typed[1]:
                        field["help"] = typed[1]
                    changed = True
        if changed:
            Version.objects.create(
                template=template, number=2, schema=schema, status="published", published_at=timezone.now()
            )
            template.description = f"{template.description} {NOTE}".strip()
            template.save(update_fields=["description"])


def unship(apps, schema_editor):
    Version = apps.get_model("handoffs", "HandoffTemplateVersion")
    Version.objects.filter(
        template__owner_site__isnull=True,
        template__name__in={name for name, _, _ in TYPED},
        number=2,
        handoffs__isnull=True,
    ).delete()


class Migration(migrations.Migration):
    dependencies = [("handoffs", "0002_shipped_templates")]
    operations = [migrations.RunPython(ship, unship)]

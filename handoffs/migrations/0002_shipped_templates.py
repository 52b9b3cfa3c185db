"""The three templates carecoord ships (docs/clinical-rules.md#hand-offs), published as version 1.

The content is frozen here on purpose: later edits are new versions made in the application.
"""

from django.db import migrations
from django.utils import timezone


def _f(key, label, type_="text", required=False, help_="", prefill="", choices=None):
    field = {"key": key, "label": label, "type": type_, "required": required}
    if help_:
        field["help"] = help_
    if prefill:
        field["prefill"] = prefill
    if choices:
        field["choices"] = choices
    return field


TRANSITION = {
    "sections": [
        {"key": "treatment", "title": "Treatment", "fields": [
            _f("product", "CAR-T product", required=True, prefill="product"),
            _f("infusion_date", "Infusion date (day 0)", "date", True, prefill="infusion_date"),
            _f("highest_crs", "Highest CRS grade (ASTCT)", "number", True, prefill="highest_crs_grade"),
            _f("highest_icans", "Highest ICANS grade (ASTCT)", "number", True, prefill="highest_icans_grade"),
            _f("toxicity_treatment", "Treatment of CRS/ICANS", "long_text",
               help_="Tocilizumab doses, steroids, anakinra, ICU stay.", prefill="toxicity_treatments"),
        ]},
        {"key": "medications", "title": "Medications and prophylaxis", "fields": [
            _f("current", "Current medications", "medication_list", True),
            _f("hsv_vzv", "HSV/VZV prophylaxis", "long_text", True,
               help_="Acyclovir or valacyclovir, usually 6-18 months."),
            _f("pjp", "PJP prophylaxis", "long_text", True, help_="TMP-SMX or atovaquone, until CD4 > 200/µL."),
            _f("antifungal_antibacterial", "Antifungal / antibacterial while neutropenic", "long_text"),
            _f("hepatitis_b", "Hepatitis B prophylaxis", "long_text", help_="Where serology is positive."),
        ]},
        {"key": "monitoring", "title": "Monitoring and supportive care", "fields": [
            _f("immunoglobulin_plan", "Immunoglobulin plan", "long_text", True,
               help_="IgG about day 30, then every 1-3 months; IVIG when IgG < 400 mg/dL with infections."),
            _f("lab_schedule", "Lab schedule", "lab_schedule", True,
               help_="CBC with differential at least every 30 days until counts recover; CD4 count."),
            _f("irradiated_products", "Irradiated blood products needed", "yes_no", True,
               help_="After fludarabine."),
            _f("transfusion_needs", "Transfusion needs", "long_text"),
            _f("vaccination_plan", "Vaccination plan", "long_text", True,
               help_="Influenza/COVID from about 3 months, inactivated from 6 months, live not before 12 months "
                     "and never while CD4 ≤ 200."),
        ]},
        {"key": "restrictions", "title": "Restrictions", "fields": [
            _f("driving_until", "No driving until", "date", True, prefill="driving_end"),
            _f("proximity_until", "Stay near the center until", "date", True, prefill="proximity_end"),
        ]},
        {"key": "safety", "title": "Safety net", "fields": [
            _f("red_flags", "Red-flag symptoms needing a same-day call", "long_text", True,
               help_="Fever, confusion, word-finding trouble, tremor, seizures, bleeding."),
            _f("center_24_7", "Center 24/7 number", required=True, prefill="center_24_7"),
            _f("point_persons", "Point persons", "long_text", True, prefill="point_persons"),
        ]},
        {"key": "follow_up", "title": "Follow-up", "fields": [
            _f("next_center_visit", "Next visit at the center", "date", True, prefill="next_visit"),
            _f("long_term_plan", "Long-term follow-up plan", "long_text", True,
               help_="Genetically modified products are followed for 15 years; CIBMTR forms."),
            _f("consult_done", "Consult between attending and receiving clinician done", "yes_no", True,
               help_="FACT-JACIE asks for it at every transfer of care."),
        ]},
    ]
}

REFERRAL_PACKET = {
    "sections": [
        {"key": "disease", "title": "Disease and history", "fields": [
            _f("diagnosis_summary", "Diagnosis and staging", "long_text", True),
            _f("prior_therapies", "Prior therapies and responses", "long_text", True),
            _f("transplant_eligibility", "Transplant eligibility", "choice", True,
               choices=["eligible", "ineligible", "not assessed"],
               help_="Ineligibility for transplant does not rule out CAR-T."),
            _f("performance_status", "ECOG performance status", "number", True),
        ]},
        {"key": "documents", "title": "Documentation", "fields": [
            _f("pathology", "Pathology available", "yes_no", True),
            _f("imaging", "Recent imaging available", "yes_no", True),
            _f("labs", "Recent labs", "lab_schedule"),
            _f("insurance", "Insurance details", "long_text", True),
        ]},
        {"key": "contacts", "title": "Contacts", "fields": [
            _f("point_persons", "Point persons", "long_text", True, prefill="point_persons"),
        ]},
    ]
}

TOXICITY_TRANSFER = {
    "sections": [
        {"key": "event", "title": "Toxicity", "fields": [
            _f("summary", "What happened", "long_text", True),
            _f("highest_crs", "Highest CRS grade (ASTCT)", "number", prefill="highest_crs_grade"),
            _f("highest_icans", "Highest ICANS grade (ASTCT)", "number", prefill="highest_icans_grade"),
            _f("treatment_given", "Treatment given so far", "long_text", True, prefill="toxicity_treatments"),
            _f("medications", "Current medications", "medication_list"),
        ]},
        {"key": "transfer", "title": "Transfer", "fields": [
            _f("reason", "Reason for transfer", "long_text", True),
            _f("infusion_date", "Infusion date (day 0)", "date", prefill="infusion_date"),
            _f("center_24_7", "Center 24/7 number", required=True, prefill="center_24_7"),
            _f("point_persons", "Point persons", "long_text", True, prefill="point_persons"),
        ]},
    ]
}

SHIPPED = [
    ("Post-CAR-T transition to community care",
     "The hand-back to the community practice after the monitoring period.", TRANSITION),
    ("Referral packet", "What the practice sends the center with a referral.", REFERRAL_PACKET),
    ("Toxicity transfer", "When a patient moves between sites for toxicity care.", TOXICITY_TRANSFER),
]


def ship(apps, schema_editor):
    Template = apps.get_model("handoffs", "HandoffTemplate")
    Version = apps.get_model("handoffs", "HandoffTemplateVersion")
    for name, description, schema in SHIPPED:
        template, _ = Template.objects.get_or_create(name=name, owner_site=None, defaults={"description": description})
        Version.objects.get_or_create(
            template=template, number=1,
            defaults={"schema": schema, "status": "published", "published_at": timezone.now()},
        )


def unship(apps, schema_editor):
    Template = apps.get_model("handoffs", "HandoffTemplate")
    Template.objects.filter(name__in=[name for name, _, _ in SHIPPED], owner_site=None).delete()


class Migration(migrations.Migration):
    dependencies = [("handoffs", "0001_initial")]
    operations = [migrations.RunPython(ship, unship)]

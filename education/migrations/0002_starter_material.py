"""A starter set of education material (docs/clinical-rules.md#education), version 1 of each.

Frozen here on purpose: from now on the material belongs to the site administrators, who edit
it in the application (each edit a new version). The content follows the FDA labels' patient
counseling information (section 17 and the Medication Guides: signs of cytokine release
syndrome and neurologic toxicity, no driving for 2 weeks after infusion, staying near the
treating center, new cancers) and the EBMT/JACIE and EHA recommendations (Hayden et al., Ann
Oncol 2022;33:259-275) on infections, prophylaxis and revaccination.
"""

from django.db import migrations

MATERIAL = [
    (
        "Before infusion: what to expect",
        "lymphodepletion",
        "patient",
        "What happens around your CAR-T infusion",
        "You will have a few days of chemotherapy (lymphodepletion), then your CAR-T cells are given "
        "through a drip on day 0.\n\n"
        "In the first weeks your care team checks you every day for two side effects: cytokine release "
        "syndrome (fever, chills, dizziness, trouble breathing) and neurologic problems (confusion, "
        "trouble speaking or writing, shaking, sleepiness, seizures).\n\n"
        "Plan for a caregiver to be with you, for staying within about 2 hours of the treating center, "
        "and for not driving, for the weeks the center tells you.",
    ),
    (
        "After infusion: warning signs",
        "monitoring",
        "patient",
        "Warning signs after CAR-T: call the center at once",
        "Call the treating center's 24/7 number at once, day or night, for: a temperature of 38 °C "
        "(100.4 °F) or more, chills, dizziness or fainting, trouble breathing, a fast heartbeat, "
        "confusion, trouble speaking, writing or understanding, shaking, sleepiness, or a seizure.\n\n"
        "Carry your wallet card and show it to any doctor or nurse who treats you.",
    ),
    (
        "After infusion: for the caregiver",
        "monitoring",
        "caregiver",
        "Watching over someone after CAR-T",
        "Stay with the patient day and night for the weeks the center asks. Check their temperature "
        "twice a day. Ask them a few simple questions every day (their name, where they are, to write "
        "a sentence): new confusion or trouble writing can be the first sign of a neurologic side "
        "effect. Call the 24/7 number at once if anything changes. The patient must not drive.",
    ),
    (
        "Hand-back: going home",
        "hand_back",
        "patient",
        "Going home after CAR-T",
        "Your blood counts and your body's defences (antibodies) can stay low for months. Keep taking "
        "the medicines that prevent infections until your care team stops them. Treat a fever as an "
        "emergency. Do not drive until the end date on your wallet card.\n\n"
        "Tell your care team about any new lump, rash or swollen glands, tremor, slowness, weakness or "
        "numbness, or diarrhea that does not stop.",
    ),
    (
        "Hand-back: for the community clinician",
        "hand_back",
        "community_clinician",
        "Caring for a patient after CAR-T: what the community needs to know",
        "Fever or new neurologic signs: call the treating center's 24/7 number the same day; tocilizumab "
        "should be available where CRS is treated.\n\n"
        "Check blood counts and IgG as the hand-off says; IVIG for IgG below 400 mg/dL with serious or "
        "recurrent infections. Keep antiviral prophylaxis for at least a year and PJP prophylaxis until "
        "CD4 is above 200/µL. Irradiated blood products after fludarabine.\n\n"
        "Watch for the late effects of the product listed on the timeline and the hand-off. A new "
        "cancer (secondary malignancy, including T-cell malignancies) is recorded as a toxicity and "
        "reported to the manufacturer.",
    ),
    (
        "Follow-up: infections and vaccines",
        "follow_up",
        "patient",
        "Infections and vaccines in the first year",
        "Your immune system recovers slowly. Inactivated vaccines start from about 6 months after "
        "infusion; live vaccines not before a year and only when your care team says your immune "
        "system has recovered. Household members should be vaccinated too (not with live oral vaccines).",
    ),
    (
        "Long-term follow-up",
        "long_term",
        "patient",
        "Your long-term follow-up",
        "CAR-T cells are a gene therapy: you are followed for 15 years. Keep your yearly visits, and "
        "tell any doctor who treats you that you had CAR-T. Report any new cancer, lump or swollen "
        "glands to your care team: it is reported to the manufacturer.",
    ),
]


def ship(apps, schema_editor):
    Material = apps.get_model("education", "EducationMaterial")
    Version = apps.get_model("education", "EducationMaterialVersion")
    for name, phase, audience, title, body in MATERIAL:
        material, _ = Material.objects.get_or_create(name=name, defaults={"phase": phase, "audience": audience})
        Version.objects.get_or_create(material=material, number=1, defaults={"title": title, "body": body})


def unship(apps, schema_editor):
    apps.get_model("education", "EducationMaterial").objects.filter(
        name__in=[row[0] for row in MATERIAL], versions__given__isnull=True
    ).delete()


class Migration(migrations.Migration):
    dependencies = [("education", "0001_initial")]
    operations = [migrations.RunPython(ship, unship)]

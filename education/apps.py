from django.apps import AppConfig


class EducationConfig(AppConfig):
    """Per-phase education for patients, caregivers and community clinicians, the record of
    education given, and the patient's wallet card."""

    name = "education"

    def ready(self) -> None:
        """Registers this app's patient data (audited and read-declared)."""
        from carecoord.happened import register_happened
        from carecoord.patient_data import register

        register("education.EducationGiven", patient="patient", name="education given")
        register_happened("Education", "education.EducationGiven", "given_at")

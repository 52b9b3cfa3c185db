from django.apps import AppConfig


class CalendarsConfig(AppConfig):
    """Private calendar feeds (iCalendar) of the milestones of a person's patients, and each
    patient's milestones as an `.ics` download from the timeline."""

    name = "calendars"

    def ready(self) -> None:
        """Registers the feeds' section of the account page, where they are made and revoked."""
        from calendars.contributions import register_calendars_contributions

        register_calendars_contributions()

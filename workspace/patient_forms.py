"""Forms of the patient page: details, a site's MRN, its point persons, sharing and leaving.

They only parse: the rules (who may change what, which people may be named, the last site
cannot leave) belong to the services in `carecoord.services`, whose field errors are put back
on the field of the same name with `add_service_errors`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any, cast

from django import forms
from django.forms.models import ModelChoiceIterator

from carecoord.models import CareTeamLink, Patient, Site, User
from carecoord.phones import PhoneField
from carecoord.services.patients import PATIENT_EDITABLE_FIELDS
from carecoord.web.forms import DateInput, OwnSiteForm, person_label

# Ids are prefixed per form: several of them share the patient page.
FORM_PREFIXES = {"details": "details", "identifier": "mrn", "point_persons": "pp", "share": "share", "leave": "leave"}


class PageForm(forms.Form):
    """Labels without a trailing colon; each form's element ids unique on the page."""

    prefix_key = ""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")
        kwargs.setdefault("auto_id", f"id_{FORM_PREFIXES[self.prefix_key]}_%s")
        super().__init__(*args, **kwargs)


class SiteChoiceForm(PageForm, OwnSiteForm):
    """A form of the patient page written for one of the viewer's own sites."""


class PatientDetailsForm(forms.ModelForm[Patient]):
    """Demographics and caregiver; the service checks the date of birth and the phone number."""

    class Meta:
        model = Patient
        fields = list(PATIENT_EDITABLE_FIELDS)
        widgets = {"date_of_birth": DateInput()}
        field_classes = {"caregiver_phone": PhoneField}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")
        kwargs.setdefault("auto_id", "id_details_%s")
        super().__init__(*args, **kwargs)

    def _post_clean(self) -> None:
        # The service validates and saves; the form only parses (no model validation on the
        # instance, which would change the patient loaded for the page).
        pass

    def changes(self) -> dict[str, Any]:
        return {name: self.cleaned_data[name] for name in self.changed_data if name in self.Meta.fields}


class IdentifierForm(SiteChoiceForm):
    prefix_key = "identifier"

    mrn = forms.CharField(label="MRN at your site", max_length=64)


class LoadedChoiceIterator(ModelChoiceIterator):
    """The field's choices from the people the form was given, instead of its queryset read
    again for each select (the primary's and the backup's: about a hundred people each at a
    center); the queryset still checks what is posted."""

    field: PersonChoiceField

    def __iter__(self) -> Iterator[tuple[Any, Any]]:
        if self.field.empty_label is not None:
            yield ("", self.field.empty_label)
        for person in self.field.people:
            yield self.choice(person)

    def __len__(self) -> int:
        return len(self.field.people) + (1 if self.field.empty_label is not None else 0)

    def __bool__(self) -> bool:
        return self.field.empty_label is not None or bool(self.field.people)


class PersonChoiceField(forms.ModelChoiceField[User]):
    iterator = LoadedChoiceIterator
    people: Sequence[User] = ()
    roles: Mapping[int, str] = {}  # by user id: their role at the site, next to the name

    def label_from_instance(self, obj: User) -> str:
        return person_label(obj, self.roles.get(obj.pk, ""))


class PointPersonsForm(PageForm):
    """A site's primary (required) and backup (optional) point persons, among its people who can act."""

    prefix_key = "point_persons"

    site = forms.IntegerField(widget=forms.HiddenInput())
    primary = PersonChoiceField(label="Primary point person", queryset=User.objects.none(), empty_label="Choose")
    backup = PersonChoiceField(
        label="Backup point person", queryset=User.objects.none(), required=False, empty_label="No backup"
    )

    def __init__(
        self,
        *args: Any,
        link: CareTeamLink,
        people: Iterable[User],
        roles: Mapping[int, str] | None = None,
        **kwargs: Any,
    ) -> None:
        kwargs.setdefault("auto_id", f"id_pp{link.site_id}_%s")
        super().__init__(*args, **kwargs)
        self.link = link
        people = list(people)
        ids = [person.pk for person in people]
        for name in ("primary", "backup"):
            field = cast(PersonChoiceField, self.fields[name])
            field.people = people
            field.roles = roles or {}
            field.queryset = User.objects.filter(pk__in=ids)
        self.fields["site"].initial = link.site_id

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("primary") and data.get("primary") == data.get("backup"):
            self.add_error("backup", "Choose someone other than the primary point person, or no backup.")
        return data


class ShareForm(PageForm):
    """Share the patient's care with another site, in a capacity."""

    prefix_key = "share"

    site = forms.ModelChoiceField(label="Site", queryset=Site.objects.none(), empty_label="Choose a site")
    capacity = forms.ChoiceField(label="As", choices=CareTeamLink.Capacity.choices)

    def __init__(self, *args: Any, sites: Iterable[Site] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        ids = [site.pk for site in sites]
        cast(forms.ModelChoiceField[Site], self.fields["site"]).queryset = Site.objects.filter(pk__in=ids)


class LeaveForm(SiteChoiceForm):
    """One of the viewer's sites stops taking part in the patient's care."""

    prefix_key = "leave"

    confirm = forms.BooleanField(
        label="I understand that my site will no longer see this patient or be alerted about them.",
        error_messages={"required": "Tick the box to confirm that your site leaves the care team."},
    )

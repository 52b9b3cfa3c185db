"""Referral readiness as plain values: which checklist items the center needs for each disease,
and which are on file (a document of the kind, or a record the apps hold for the patient)."""

from __future__ import annotations

import re
from pathlib import Path

from django.conf import settings

from carecoord.models.patients import DiseaseArea
from referrals.models import ReferralDocument
from referrals.readiness import NEEDS, checklist, needed, needs_by_disease

Kind = ReferralDocument.Kind
ASKED_BY_THE_ISSUE = {Kind.PATHOLOGY, Kind.LABS, Kind.PRIOR_THERAPIES}


def test_every_disease_area_says_what_the_center_needs() -> None:
    assert set(NEEDS) == set(DiseaseArea.values)
    for disease, needs in NEEDS.items():
        assert set(needs) >= ASKED_BY_THE_ISSUE, disease
        assert all(what and not what.endswith(".") for what in needs.values()), disease


def test_the_needs_differ_by_disease() -> None:
    assert "bone marrow" in NEEDS[DiseaseArea.MULTIPLE_MYELOMA][Kind.PATHOLOGY]
    assert "free light chains" in NEEDS[DiseaseArea.MULTIPLE_MYELOMA][Kind.LABS]
    assert "PET-CT" in NEEDS[DiseaseArea.LBCL][Kind.IMAGING]
    assert Kind.IMAGING not in NEEDS[DiseaseArea.B_ALL]  # the marrow says where leukemia stands


def test_an_item_is_on_file_by_a_document_or_by_a_record() -> None:
    items = {
        item.kind: item
        for item in checklist(
            DiseaseArea.MULTIPLE_MYELOMA,
            [Kind.PATHOLOGY, Kind.PATHOLOGY, Kind.INSURANCE],
            {Kind.PRIOR_THERAPIES: ["2 lines of therapy recorded in the treatment history"]},
        )
    }
    assert list(items) == Kind.values  # every item, in checklist order
    assert items[Kind.PATHOLOGY].on_file and items[Kind.PATHOLOGY].documents == 2
    assert items[Kind.PRIOR_THERAPIES].on_file and items[Kind.PRIOR_THERAPIES].documents == 0
    assert items[Kind.PRIOR_THERAPIES].records == ("2 lines of therapy recorded in the treatment history",)
    assert not items[Kind.IMAGING].on_file and not items[Kind.LABS].on_file
    assert items[Kind.INSURANCE].on_file and not items[Kind.INSURANCE].needed and items[Kind.INSURANCE].what == ""
    missing = [item.kind for item in needed(items.values()) if not item.on_file]
    assert missing == [Kind.IMAGING, Kind.LABS]


def test_leukemia_needs_no_imaging_and_an_unknown_area_reads_as_other() -> None:
    leukemia = {item.kind: item.needed for item in checklist(DiseaseArea.B_ALL, [], {})}
    assert leukemia[Kind.IMAGING] is False and leukemia[Kind.PATHOLOGY] is True
    unknown = checklist("retired_area", [], {})
    assert [item.what for item in unknown] == [item.what for item in checklist(DiseaseArea.OTHER, [], {})]


def test_the_form_shows_each_diseases_needs_by_a_style_rule_of_its_own() -> None:
    """The form shows the needs of the disease chosen now by a `:has()` rule per disease area:
    a disease area added without its rule would show nothing."""
    css = (Path(settings.BASE_DIR) / "static" / "css" / "referrals.css").read_text()
    ruled = set(re.findall(r'#id_disease_area option\[value="(\w+)"\]:checked\) \.need--(\w+)', css))
    assert ruled == {(disease, disease) for disease in DiseaseArea.values}
    by_kind = needs_by_disease()
    assert [disease for disease, _, _ in by_kind[Kind.IMAGING]] == [d for d in NEEDS if Kind.IMAGING in NEEDS[d]]
    assert by_kind[Kind.HISTORY] == []

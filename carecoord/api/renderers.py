"""The API's answers: JSON, and in a browser the browsable API without DRF's HTML forms.

DRF builds an HTML form for each write a page allows, and a relation's field in it offers
every object of the field's queryset as a choice: for the serializer a view answers with, whose
`patient` is built from the model, that was every patient of the network, names included,
shown to anyone who opened `/api/referrals/` in a browser. The raw form stays: it shows the
JSON a write takes, with no choices, and still sends it.
"""

from __future__ import annotations

from typing import Any

from rest_framework.renderers import BrowsableAPIRenderer


class BrowsableAPIWithoutForms(BrowsableAPIRenderer):
    """The browsable API with the raw JSON form only (see the module)."""

    def get_rendered_html_form(self, data: Any, view: Any, method: str, request: Any) -> None:
        return None

"""The API's answers: JSON, and in a browser the browsable API without DRF's HTML forms.

DRF builds an HTML form for each write a page allows, and a relation's field in it offers
every object of the field's queryset as a choice: for the serializer a view answers with, whose
`patient` is built from the model, that was every patient of the network, names included,
shown to anyone who opened `/api/referrals/` in a browser. The raw form stays: it shows the
JSON a write takes, with no choices, and still sends it.

The pages keep to the site's content security policy (the site's own stylesheets only): DRF
writes the code colours of a view's description in an inline `<style>`, which the browser
refused with an error on every page; the descriptions hold no code, so none is written.
`templates/rest_framework/api.html` names the site's icon.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rest_framework.renderers import BrowsableAPIRenderer


class BrowsableAPIWithoutForms(BrowsableAPIRenderer):
    """The browsable API with the raw JSON form only (see the module)."""

    def get_rendered_html_form(self, data: Any, view: Any, method: str, request: Any) -> None:
        return None

    def get_context(self, data: Any, media_type: str | None, renderer_context: Mapping[str, Any]) -> dict[str, Any]:
        context = super().get_context(data, media_type, renderer_context)
        context["code_style"] = None  # an inline <style> (see the module)
        return context

"""A form of the timeline that did not go through, to show again, with its errors, where it was filled in."""

from __future__ import annotations

from dataclasses import dataclass

from django import forms


@dataclass(frozen=True)
class Failure:
    action: str  # "complete", "move", "cancel", "confirm", "infusion", "plan" or "comment"
    target_id: int | None
    form: forms.Form


def failed_form(failure: Failure | None, action: str, target_id: int) -> forms.Form | None:
    """The form of `action` on `target_id` as it was posted, if that is what failed."""
    if failure and failure.action == action and failure.target_id == target_id:
        return failure.form
    return None

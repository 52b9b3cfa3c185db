"""How long the free text people type may be: one name per kind of text, for forms and the API.

Generous for what each holds (a referral's reason is a few paragraphs; the prior therapies a
line per regimen for up to 20 lines of therapy), small enough that a pasted document or a
runaway script is refused with a message rather than stored and shown on every page.
"""

from __future__ import annotations

REASON_MAX_LENGTH = 4000  # a reason for referral, or for declining one
PRIOR_THERAPIES_MAX_LENGTH = 8000  # regimens, dates and responses
NOTE_MAX_LENGTH = 2000  # a note on a step of the workflow
STEP_TEXT_MAX_LENGTH = 1000  # a note or reason on one planned step (a milestone)

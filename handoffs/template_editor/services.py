"""Creating hand-off templates, and who may change them.

Drafting and publishing a template's versions are in `handoffs.services`; this module adds the
template itself. The permission rule is the one of `services._may_edit_template`: whoever may
edit a template of an owner may create one for that owner.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from carecoord.access.scope import AnyUser
from carecoord.models import Site, User
from carecoord.roles import Role
from carecoord.selectors.sites import active_memberships_of
from handoffs.models import HandoffTemplate
from handoffs.services import _may_edit_template

NAME_MAX_LENGTH = HandoffTemplate._meta.get_field("name").max_length or 200
DESCRIPTION_MAX_LENGTH = 2000


def coordinated_site_ids(user: AnyUser) -> set[int]:
    """The sites where the user is an active coordinator (one query)."""
    return {m.site_id for m in active_memberships_of(user) if m.role == Role.COORDINATOR}


def may_edit(user: AnyUser, template: HandoffTemplate, coordinated: set[int]) -> bool:
    """`services._may_edit_template` as a yes/no, for showing buttons without a query per template.

    `coordinated` comes from `coordinated_site_ids`; the services check again on every write.
    """
    if not user.is_authenticated:
        return False
    if user.is_staff:
        return True
    return template.owner_site_id is not None and template.owner_site_id in coordinated


def require_template_editor(*, actor: User, template: HandoffTemplate) -> None:
    """PermissionDenied unless the actor may draft and publish versions of the template."""
    _may_edit_template(actor, template)


def template_create(*, actor: User, name: str, description: str, owner_site: Site | None) -> HandoffTemplate:
    """A new template with no version yet: shared (site administrators) or owned by one site (its coordinators)."""
    _may_edit_template(actor, HandoffTemplate(owner_site=owner_site))
    name = name.strip()
    if not name or len(name) > NAME_MAX_LENGTH:
        raise ValidationError({"name": f"Give the template a name of up to {NAME_MAX_LENGTH} characters."})
    description = description.strip()
    if len(description) > DESCRIPTION_MAX_LENGTH:
        raise ValidationError({"description": f"Keep the description under {DESCRIPTION_MAX_LENGTH} characters."})
    # `owner_site=None` matches the shared templates (IS NULL).
    if HandoffTemplate.objects.filter(name__iexact=name, owner_site=owner_site).exists():
        raise ValidationError({"name": "A template of that name already exists; edit it instead."})
    try:
        with transaction.atomic():
            return HandoffTemplate.objects.create(name=name, description=description, owner_site=owner_site)
    except IntegrityError:
        # Someone created the same name a moment ago.
        raise ValidationError({"name": "A template of that name already exists; edit it instead."}) from None

from django.utils.functional import SimpleLazyObject

from annotate.access import REVIEWER, has_role


def roles(request):
    """`is_reviewer` for the navigation; evaluated only when a template reads it."""
    user = getattr(request, "user", None)
    return {"is_reviewer": SimpleLazyObject(lambda: bool(user) and has_role(user, REVIEWER))}

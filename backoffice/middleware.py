"""The back office speaks the staff member's profile language."""

from django.utils import translation

from samia.accounts.identity import BACKOFFICE_PREFIX


class ProfileLanguageMiddleware:
    """Activate `user.language` (ar/en) for a signed-in staff member's back-office request.

    Runs inside the request's binding (after RowLevelSecurityMiddleware), where request.user has
    been read under the caller's identity; elsewhere LocaleMiddleware's choice (the browser's) stands.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if request.path.startswith(BACKOFFICE_PREFIX) and user is not None and user.is_authenticated:
            translation.activate(user.language)
            request.LANGUAGE_CODE = translation.get_language()
        return self.get_response(request)

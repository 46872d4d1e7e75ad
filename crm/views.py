from django.contrib.auth import views as auth_views
from django.urls import reverse_lazy


class WelcomeView(auth_views.PasswordResetConfirmView):
    """The invitation link a new portal user gets by email: choose a password.

    Public, because the person has no password yet: the signed, single-use token in the URL
    (Django's password-reset token, void once the password is set) is the credential.
    """

    template_name = "crm/welcome.html"
    success_url = reverse_lazy("login")

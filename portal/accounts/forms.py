"""Forms for organisations, members, invitations and sign-in lockouts. Services do the writing;
forms only validate input."""

from django import forms
from django.contrib.auth.forms import SetPasswordForm
from django.core.validators import validate_ipv46_address

from portal.accounts.models import Role


class OrganisationForm(forms.Form):
    name = forms.CharField(max_length=120, strip=True)
    contact_email = forms.EmailField(required=False, help_text="Where rollout notices go.")

    def __init__(self, *args, siblings=None, exclude_pk=None, **kwargs):
        super().__init__(*args, **kwargs)
        self._siblings = siblings
        self._exclude_pk = exclude_pk

    def clean_name(self):
        name = self.cleaned_data["name"]
        if len(name) < 2:
            raise forms.ValidationError("Give a name of at least two characters.")
        if self._siblings is not None:
            clash = self._siblings.filter(name__iexact=name).exclude(pk=self._exclude_pk)
            if clash.exists():
                raise forms.ValidationError("Another organisation here already has this name.")
        return name


class SwitchOrganisationForm(forms.Form):
    org = forms.SlugField()


class ClearLockoutForm(forms.Form):
    """Which lockout to clear: the page posts the kind ("username" or "ip_address") and value."""

    kind = forms.ChoiceField(choices=[("username", "Username"), ("ip_address", "IP address")])
    value = forms.CharField(max_length=255)

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("kind") == "ip_address" and cleaned.get("value"):
            try:
                validate_ipv46_address(cleaned["value"])
            except forms.ValidationError:
                self.add_error("value", "Give a valid IPv4 or IPv6 address.")
        return cleaned


class ClientForm(OrganisationForm):
    """A new client organisation, and optionally who administers it (they get an invitation)."""

    first_admin_email = forms.EmailField(
        required=False,
        label="First administrator's e-mail",
        help_text="They receive an invitation to become the client's admin.",
    )


class InvitationForm(forms.Form):
    email = forms.EmailField(label="E-mail")
    role = forms.ChoiceField()

    def __init__(self, *args, roles=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["role"].choices = [(role, Role(role).label) for role in roles]


class RoleChangeForm(forms.Form):
    role = forms.ChoiceField(choices=Role.choices)


class NewPersonForm(SetPasswordForm):
    """Accepting an invitation without an account: a name and a password (Django's validators)."""

    first_name = forms.CharField(max_length=150, label="First name")
    last_name = forms.CharField(max_length=150, label="Last name", required=False)
    field_order = ["first_name", "last_name", "new_password1", "new_password2"]

"""The forms of two-factor authentication: a code, a security key's answer, a confirmation, an
organisation's policy."""

from django import forms


class CodeForm(forms.Form):
    code = forms.CharField(
        label="Code",
        max_length=20,
        help_text="The six digits your authenticator app shows now.",
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}
        ),
    )


class VerifyForm(forms.Form):
    code = forms.CharField(
        label="Code",
        max_length=20,
        help_text="Six digits from your authenticator app, or one of your recovery codes.",
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "autofocus": True}),
    )


NO_ANSWER = (
    "Your browser sent no answer from a security key or passkey (it needs JavaScript and WebAuthn)."
)


class PasskeyForm(forms.Form):
    """A new security key or passkey: its name, and the browser's answer to
    ``navigator.credentials.create()`` (JSON, filled in by static/js/webauthn.js)."""

    name = forms.CharField(
        label="Name",
        max_length=60,
        help_text='So you can tell your keys apart, e.g. "YubiKey on my keyring" or "Laptop".',
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    credential = forms.CharField(
        label="Security key or passkey",
        widget=forms.HiddenInput,
        required=False,
        max_length=20_000,
        strip=False,
    )

    def clean_credential(self):
        if not self.cleaned_data["credential"]:
            raise forms.ValidationError(NO_ANSWER)
        return self.cleaned_data["credential"]


class AssertionForm(forms.Form):
    """The browser's answer to ``navigator.credentials.get()`` at the sign-in's second step."""

    assertion = forms.CharField(
        label="Security key or passkey",
        widget=forms.HiddenInput,
        max_length=20_000,
        strip=False,
        error_messages={"required": NO_ANSWER},
    )


class ConfirmationForm(forms.Form):
    """Before a change to a person's second factors: a code from their app, or their password
    (only the password for someone without the app)."""

    confirmation = forms.CharField(
        label="Code from your app, or your password",
        max_length=128,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )

    def __init__(self, *args, with_app: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        if not with_app:
            self.fields["confirmation"].label = "Your password"


class MfaPolicyForm(forms.Form):
    required = forms.BooleanField(
        label="Require two-factor authentication of every member",
        required=False,
        help_text="Members without it are sent to turn it on (within five minutes) before any page.",
    )


class ResetMfaForm(forms.Form):
    member = forms.ModelChoiceField(
        label="Member",
        queryset=None,
        empty_label="Choose a member",
        help_text="Their authenticator and recovery codes stop working; they enrol again.",
    )

    def __init__(self, *args, members, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["member"].queryset = members
        self.fields["member"].label_from_instance = lambda m: (
            f"{m.user.get_full_name() or m.user.get_username()} ({m.user.get_username()})"
        )

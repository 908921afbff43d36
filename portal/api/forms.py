"""The form of the token page."""

from django import forms

from portal.api.models import ApiToken


class TokenForm(forms.Form):
    name = forms.CharField(
        label="Name",
        max_length=ApiToken._meta.get_field("name").max_length,
        help_text="What will use the token, e.g. “nightly report script”.",
    )

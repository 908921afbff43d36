"""Forms for organisations. Services do the writing; forms only validate input."""

from django import forms


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

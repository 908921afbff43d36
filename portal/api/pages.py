"""The personal token page: a normal page of the site, below /api/ only by its URL."""

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.shortcuts import get_object_or_404, redirect, render
from django.views import View

from portal.api.forms import TokenForm
from portal.api.selectors import tokens_of
from portal.api.services import create_token, revoke_token
from portal.audit import context as audit_context
from portal.audit.context import Source
from portal.core.errors import ServiceError
from portal.core.forms import UNPROCESSABLE, add_service_error


class WebPageMixin(LoginRequiredMixin):
    """A page of the site, not of the API: its audit events say "web", although the URL starts
    with /api/ (which makes the request middleware say "api")."""

    def dispatch(self, request, *args, **kwargs):
        audit_context.update(source=Source.WEB)
        return super().dispatch(request, *args, **kwargs)


class TokenListView(WebPageMixin, View):
    """The person's API tokens: create one (shown once, on the answer to the form), list, revoke."""

    template_name = "api/tokens.html"

    def get(self, request):
        return self.render_page(TokenForm())

    def post(self, request):
        form = TokenForm(request.POST)
        if form.is_valid():
            try:
                token, secret = create_token(person=request.user, name=form.cleaned_data["name"])
            except ServiceError as error:
                add_service_error(form, error)
            else:
                return self.render_page(TokenForm(), new_token=token, secret=secret)
        return self.render_page(form, status=UNPROCESSABLE)

    def render_page(self, form, *, status=200, **extra):
        context = {"form": form, "tokens": tokens_of(self.request.user), **extra}
        response = render(self.request, self.template_name, context, status=status)
        response["Cache-Control"] = "no-store"  # the page may carry a token
        return response


class TokenRevokeView(WebPageMixin, View):
    """Revoke one of one's own tokens (another person's: 404)."""

    http_method_names = ["post"]

    def post(self, request, token_pk):
        token = get_object_or_404(tokens_of(request.user), pk=token_pk)
        if token.revoked_at is None:
            revoke_token(token=token)
            messages.success(request, f"Token “{token.name}” ({token.prefix}…) revoked.")
        return redirect("api-tokens")

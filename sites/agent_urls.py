"""Sites routes outside any organisation: the probe agent on a backup host asks here whether its
site is due (it signs in with its site's agent key, not as a person)."""

from django.urls import path

from sites.views import agent

urlpatterns = [
    path("probe-agent/runs/", agent.AgentPollView.as_view(), name="probe-agent-poll"),
]

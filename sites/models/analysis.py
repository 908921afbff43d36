"""Checks of a customer's current firewall configuration ("Is it already allowed?", issue #11).

Only the analysis is kept: its verdicts and the **redacted** lines it cites (with two lines of
context either side). The configuration itself never reaches the database unredacted: the
service redacts it (``sites.analyzer.redact``) before it writes anything, and the redacted text
waits for its worker in a ``ConfigAnalysisInput`` row that the worker deletes as it settles the
analysis (done or failed). A row in the database rather than the Celery message, so that a lost
message or a restarted broker loses nothing (the sweeper sends it again) and the broker never
holds a configuration.
"""

from django.conf import settings
from django.db import models


class AnalysisState(models.TextChoices):
    QUEUED = "queued", "Queued"
    ANALYSING = "analysing", "Analysing"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"


OPEN_ANALYSIS_STATES = (AnalysisState.QUEUED, AnalysisState.ANALYSING)


class ConfigAnalysis(models.Model):
    """One check of a configuration export against a site's guide flows.

    ``result`` is the analyzer's JSON (``sites.analyzer.analyze.as_json``: vendor, flows in the
    guide's order, unrecognised lines, missing steps); ``details`` what the page adds to it (per
    flow what it must do and warnings about broader rules; the steps already in place with their
    evidence); ``excerpts`` the redacted text of the cited lines and their context, by line
    number.
    """

    site = models.ForeignKey("sites.Site", on_delete=models.CASCADE, related_name="config_analyses")
    instruction_set = models.ForeignKey(
        "sites.InstructionSet",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The site's instructions when the check was asked for",
    )
    vendor = models.CharField(max_length=40)
    state = models.CharField(
        max_length=10, choices=AnalysisState.choices, default=AnalysisState.QUEUED
    )
    source_name = models.CharField(
        max_length=200, blank=True, help_text="The uploaded file's name; blank when pasted"
    )
    size_bytes = models.PositiveIntegerField(default=0)
    line_count = models.PositiveIntegerField(default=0)
    redacted_count = models.PositiveIntegerField(
        default=0, help_text="Secrets replaced by [redacted] before anything was stored"
    )
    result = models.JSONField(default=dict, blank=True)
    details = models.JSONField(default=dict, blank=True)
    excerpts = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)
    attempts = models.PositiveIntegerField(default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["site", "-created_at"], name="config_analysis_site_time"),
            models.Index(fields=["state", "created_at"], name="config_analysis_state"),
        ]

    def __str__(self) -> str:
        return f"Configuration check #{self.pk} of {self.site}"

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_ANALYSIS_STATES


class ConfigAnalysisInput(models.Model):
    """The redacted configuration waiting for its worker; deleted when the analysis settles."""

    analysis = models.OneToOneField(
        ConfigAnalysis, on_delete=models.CASCADE, primary_key=True, related_name="input"
    )
    text = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"Input of configuration check #{self.analysis_id}"

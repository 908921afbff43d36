"""Configuration checks through the API ("Is it already allowed?", issue #11), below
/api/o/<org_slug>/sites/<site_pk>/analyses/: queue a check of a configuration export, then read
its result in the shape of ``manage.py analyze --format json`` (docs/analyzer.md).

The same tenancy and permissions as the site's other resources (``OrganisationAPIView``): those
who may see the site read its checks; those who may change it queue them. Writes go through
``sites.services.analysis`` (which redacts secrets before anything is stored).
"""

from drf_spectacular.utils import extend_schema, extend_schema_field, extend_schema_view
from rest_framework import mixins, serializers, status
from rest_framework.response import Response

from portal.accounts import permissions
from portal.api.tenancy import OrganisationAPIView
from sites.analyzer.analyze import SUPPORTED_VENDORS
from sites.analyzer.limits import MAX_BYTES
from sites.api.views import SiteObjectMixin
from sites.models import AnalysisState, ConfigAnalysis
from sites.selectors.analysis import config_analyses_of, config_analysis_for
from sites.services.analysis import request_analysis

# --- Serializers: the analyzer's JSON, described for the schema -------------------------------


class CitedLineSerializer(serializers.Serializer):
    line = serializers.IntegerField(
        help_text="The line of the configuration (1-based); 0 for a rule no line states (an "
        "implicit rule of the device, its text in parentheses). For `nft -j` input, the "
        "object's position in the `nftables` array."
    )
    text = serializers.CharField(help_text="The line, with its secrets redacted.")
    effect = serializers.CharField(help_text="What the line does to the flow.")


class FlowVerdictSerializer(serializers.Serializer):
    flow = serializers.CharField(help_text="PROTO:SRC->DST:PORT, as the sender sees it (pre-NAT).")
    verdict = serializers.ChoiceField(
        choices=["allowed", "blocked", "unknown"],
        help_text="allowed: the connection works end to end (forwarded, translated, replies "
        "accepted); unknown: a line not understood could change the answer.",
    )
    translated_source = serializers.CharField(allow_null=True)
    translated_destination = serializers.CharField(
        allow_null=True, help_text="address:port where a port-forward sends the flow."
    )
    lines = CitedLineSerializer(many=True, help_text="The lines that decide, in order.")
    reason = serializers.CharField()


class UnrecognisedLineSerializer(serializers.Serializer):
    line = serializers.IntegerField()
    text = serializers.CharField()
    reason = serializers.CharField()
    could_affect = serializers.ListField(
        child=serializers.CharField(), help_text="The hooks the line could affect."
    )


class AnalysisResultSerializer(serializers.Serializer):
    vendor = serializers.CharField()
    flows = FlowVerdictSerializer(many=True, help_text="The guide's flows for the site, in order.")
    unrecognised = UnrecognisedLineSerializer(
        many=True, help_text="Lines not fully understood (at most 1,000 are kept)."
    )
    missing_steps = serializers.ListField(
        child=serializers.CharField(),
        help_text="The titles of the instruction steps still needed; empty when every flow is "
        "as the guide needs.",
    )


class StepInPlaceSerializer(serializers.Serializer):
    number = serializers.IntegerField(help_text="The step's number in the vendor's instructions.")
    title = serializers.CharField()
    lines = CitedLineSerializer(many=True, help_text="The lines that show it in place.")
    flows = serializers.ListField(child=serializers.CharField())


class AdjustedStepSerializer(serializers.Serializer):
    number = serializers.IntegerField(help_text="The step's number in the vendor's instructions.")
    title = serializers.CharField()
    config = serializers.CharField(help_text="The step's configuration, adjusted.")
    verify = serializers.CharField(help_text="How to check it, adjusted.")
    notes = serializers.CharField(
        help_text="What was adjusted and why: the customer's objects used instead of creating "
        "ours, the rule placed above an existing deny."
    )


class AnalysisStateField(serializers.ChoiceField):
    """A configuration check's state; the class carries its own schema component name."""


class ConfigAnalysisSerializer(serializers.ModelSerializer):
    state = AnalysisStateField(
        choices=AnalysisState.choices,
        read_only=True,
        help_text="queued → analysing → done or failed.",
    )
    instruction_set = serializers.SerializerMethodField()
    created_by = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True, help_text="The person's username."
    )

    class Meta:
        model = ConfigAnalysis
        fields = [
            "id",
            "vendor",
            "state",
            "source_name",
            "size_bytes",
            "line_count",
            "redacted_count",
            "instruction_set",
            "error",
            "created_by",
            "created_at",
            "started_at",
            "finished_at",
        ]
        read_only_fields = fields

    @extend_schema_field(
        serializers.IntegerField(
            allow_null=True, help_text="The version of the site's instructions it was checked for."
        )
    )
    def get_instruction_set(self, analysis) -> int | None:
        return analysis.instruction_set.version if analysis.instruction_set_id else None


class ConfigAnalysisDetailSerializer(ConfigAnalysisSerializer):
    result = serializers.SerializerMethodField()
    steps_in_place = serializers.SerializerMethodField()
    adjusted_steps = serializers.SerializerMethodField()

    class Meta(ConfigAnalysisSerializer.Meta):
        fields = [
            *ConfigAnalysisSerializer.Meta.fields,
            "result",
            "steps_in_place",
            "adjusted_steps",
        ]
        read_only_fields = fields

    @extend_schema_field(
        AnalysisResultSerializer(
            allow_null=True,
            help_text="The answer, as `manage.py analyze --format json` prints it; null until "
            "the check is done.",
        )
    )
    def get_result(self, analysis) -> dict | None:
        return analysis.result if analysis.state == AnalysisState.DONE else None

    @extend_schema_field(
        StepInPlaceSerializer(
            many=True,
            help_text="The steps of the site's instructions the configuration already does, "
            "with the lines that show it (empty for another vendor's configuration).",
        )
    )
    def get_steps_in_place(self, analysis) -> list:
        if analysis.state != AnalysisState.DONE:
            return []
        return analysis.details.get("steps_in_place", [])

    @extend_schema_field(
        AdjustedStepSerializer(
            many=True,
            help_text="The steps still to do, adjusted to this configuration (docs/analyzer.md, "
            "'Instructions adjusted to the configuration'); empty when nothing is adjusted.",
        )
    )
    def get_adjusted_steps(self, analysis) -> list:
        if analysis.state != AnalysisState.DONE:
            return []
        return analysis.details.get("adjusted_steps", [])


class ConfigAnalysisCreateSerializer(serializers.Serializer):
    # Text, not a choice: the service names the vendors it reads when another is given (and a
    # second "vendor" enum beside the sites' would clash in the schema's component names).
    vendor = serializers.CharField(
        help_text=f"The format of the export: one of {', '.join(SUPPORTED_VENDORS)}."
    )
    config = serializers.CharField(
        trim_whitespace=False,
        max_length=MAX_BYTES,
        help_text="The configuration export as text (at most 5 MB and 100,000 lines). Secrets "
        "are redacted before anything is stored.",
    )


# --- Views --------------------------------------------------------------------------------------


@extend_schema(tags=["configuration checks"])
@extend_schema_view(
    get=extend_schema(summary="List a site's configuration checks", description="Newest first."),
    post=extend_schema(
        summary="Check a configuration",
        description="Queues a check of the firewall's current configuration export against the "
        "flows the guide needs for this site. Answers 202 with the check, state `queued`; read "
        "it again until it is `done` or `failed`.",
        request=ConfigAnalysisCreateSerializer,
        responses={202: ConfigAnalysisDetailSerializer},
    ),
)
class ConfigAnalysisListView(SiteObjectMixin, mixins.ListModelMixin, OrganisationAPIView):
    """A site's configuration checks; a new one through ``request_analysis``."""

    permission = permissions.can_view_organisation
    write_permission = permissions.can_edit_sites
    serializer_class = ConfigAnalysisSerializer
    write_serializer_class = ConfigAnalysisCreateSerializer

    def get_queryset(self):
        if self.is_schema_generation:
            return ConfigAnalysis.objects.none()
        return config_analyses_of(self.site, count=None)

    def get(self, request, *args, **kwargs):
        return self.list(request, *args, **kwargs)

    def post(self, request, *args, **kwargs):
        body = ConfigAnalysisCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        analysis = request_analysis(
            site=self.site,
            vendor=body.validated_data["vendor"],
            config=body.validated_data["config"],
            by=request.user,
        )
        data = ConfigAnalysisDetailSerializer(analysis).data
        return Response(data, status=status.HTTP_202_ACCEPTED)


@extend_schema(tags=["configuration checks"])
@extend_schema_view(
    get=extend_schema(
        summary="Read a configuration check",
        description="Its state and, once done, the verdict of every flow with the lines that "
        "decide (secrets redacted), the lines not understood, the steps still missing and those "
        "already in place.",
    )
)
class ConfigAnalysisDetailView(SiteObjectMixin, OrganisationAPIView):
    """One configuration check of the site."""

    permission = permissions.can_view_organisation
    serializer_class = ConfigAnalysisDetailSerializer

    def load_objects(self, **kwargs) -> None:
        super().load_objects(**kwargs)
        self.analysis = config_analysis_for(self.site, kwargs["analysis_pk"])

    def get_object(self):
        return self.analysis

    def get(self, request, *args, **kwargs):
        return Response(ConfigAnalysisDetailSerializer(self.analysis).data)

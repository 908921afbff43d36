"""What the sites API reads and writes, as JSON.

Writes are judged by the services, not here: a site's description by ``SiteDescription.from_dict``
(via ``create_site``/``update_site``), a step's state by ``mark_step``, a probe's direction and
purpose by ``start_probe_run``. These serializers give each body its shape (and the OpenAPI schema
its types); a ``ServiceError`` becomes a 400 naming each field at fault
(``portal.api.errors.field_errors``).
"""

import dataclasses
import types
import typing
from collections.abc import Iterable, Mapping
from ipaddress import IPv4Address

from drf_spectacular.utils import OpenApiExample, extend_schema_field, extend_schema_serializer
from rest_framework import serializers

from portal.api.errors import NON_FIELD_ERRORS
from portal.api.parsers import strings_where
from sites.description import HostInterface, SiteDescription
from sites.models import (
    InstructionSet,
    PlanKind,
    ProbeDirection,
    ProbePurpose,
    ProbeRun,
    ProbeRunState,
    RolloutState,
    RolloutStep,
    Site,
    StepState,
)
from sites.models.site import Reverify
from sites.selectors import probe_observations, proof_flag
from sites.services.rollouts import NOTE_LIMIT
from sites.site_fields import INTERFACE_FIELDS, FieldInfo, site_field, site_file_names
from sites.vendors import vendor_choices

SITE_NAME_LIMIT = Site._meta.get_field("name").max_length


def _has_nul(text: str) -> bool:
    return "\x00" in text


# Two "state" fields with different choices: each gets its own named schema component.
@extend_schema_field(serializers.ChoiceField(choices=StepState.choices), component_name="StepState")
class StepStateField(serializers.ChoiceField):
    """A step's state; the class exists to carry its own schema component name."""


@extend_schema_field(
    serializers.ChoiceField(choices=ProbeRunState.choices), component_name="ProbeRunState"
)
class ProbeRunStateField(serializers.ChoiceField):
    """A probe run's state; the class exists to carry its own schema component name."""


# --- Sites -------------------------------------------------------------------------------------


# A nested dataclass → the serializer of one item (a site's host interfaces).
Nested = Mapping[type, type[serializers.Serializer]]


def _field_for(
    hint: object, *, required: bool, nested: Nested | None = None, **options
) -> serializers.Field:
    """The DRF field for a site-file value of type ``hint`` (the dataclass's), for the schema
    and the browsable API: the values themselves are judged by the site-file validator."""
    if type(hint) is types.UnionType:  # X | None
        (hint,) = (arg for arg in typing.get_args(hint) if arg is not type(None))
        return _field_for(hint, required=False, nested=nested, allow_null=True, **options)
    options["required"] = required
    if typing.get_origin(hint) is tuple:  # tuple[X, ...]
        item = typing.get_args(hint)[0]
        if nested and item in nested:
            return nested[item](many=True, **options)
        return serializers.ListField(child=_field_for(item, required=True), **options)
    if "choices" in options:
        return serializers.ChoiceField(**options)
    if hint is bool:
        return serializers.BooleanField(**options)
    if hint is int:
        return serializers.IntegerField(**options)
    if hint is IPv4Address:
        return serializers.IPAddressField(protocol="IPv4", **options)
    return serializers.CharField(**options)  # text, and networks written as CIDR


def _fields_of(
    dataclass: type,
    table: Iterable[FieldInfo],
    *,
    overrides: Mapping[str, dict] | None = None,
    nested: Nested | None = None,
) -> dict[str, serializers.Field]:
    """One field per row of ``table`` (a ``site_fields`` table, in the site file's order), typed
    as ``dataclass`` types it, required when it has no default and is not optional, described
    by the row's ``schema_help`` and offering the row's ``choices``."""
    hints = typing.get_type_hints(dataclass)
    defaults = {f.name: f.default for f in dataclasses.fields(dataclass)}
    fields = {}
    for info in table:
        options = {"help_text": info.schema_help}
        if info.choices:
            options["choices"] = info.choices
        if defaults[info.name] == "":
            options["allow_blank"] = True
        options.update((overrides or {}).get(info.name, {}))
        required = defaults[info.name] is dataclasses.MISSING
        fields[info.name] = _field_for(
            hints[info.name], required=required, nested=nested, **options
        )
    return fields


class HostInterfaceSerializer(serializers.Serializer):
    """One interface of a multi-homed backup host."""

    def get_fields(self):  # the rows of site_fields.INTERFACE_FIELDS, typed by HostInterface
        return _fields_of(HostInterface, INTERFACE_FIELDS, overrides={"index": {"min_value": 1}})


class SiteFileSerializer(serializers.Serializer):
    """The site file (docs/site-file.md): one site's firewall, LAN, backup host and monitoring."""

    def get_fields(self):  # the site file's names (site_fields), typed by SiteDescription
        site_file = _fields_of(
            SiteDescription,
            (site_field(name) for name in site_file_names()),
            overrides={
                "name": {"max_length": SITE_NAME_LIMIT},
                "vendor": {"choices": vendor_choices()},
            },
            nested={HostInterface: HostInterfaceSerializer},
        )
        return {**site_file, **super().get_fields()}


@extend_schema_serializer(
    examples=[
        OpenApiExample(
            "Static backup host",
            summary="docs/examples/static-host.json, renewed weekly",
            value={
                "name": "Head office",
                "vendor": "iptables",
                "firmware": "iptables 1.8.9",
                "inside_interface": "eth1",
                "outside_interface": "eth0",
                "public_address": "192.0.2.1",
                "lan_network": "192.168.1.0/24",
                "lan_gateway": "192.168.1.1",
                "host_addressing": "static",
                "host_address": "192.168.1.10",
                "monitoring_enabled": False,
                "host_os": "windows",
                "reverify": "weekly",
            },
            request_only=True,
        )
    ]
)
class SiteWriteSerializer(SiteFileSerializer):
    """A site file plus how often its proof is renewed. The site-file validator judges the values
    (not the types listed here), refuses unknown fields, and names every problem at once."""

    reverify = serializers.ChoiceField(
        choices=Reverify.choices,
        required=False,
        help_text="After this long without a successful probe the site is flagged as stale "
        "(default on creation: weekly; unchanged on update when left out).",
    )

    def to_internal_value(self, data):
        if not isinstance(data, Mapping):
            raise serializers.ValidationError(
                {NON_FIELD_ERRORS: ["Expected an object with named fields."]}
            )
        # What no database column can hold, which the site-file validator does not check: NUL
        # (DRF's text fields refuse it, but the site file bypasses them) and a name longer than
        # the site's name column.
        if errors := strings_where(data, _has_nul, "Null characters are not allowed."):
            raise serializers.ValidationError(errors)
        description = {key: value for key, value in data.items() if key != "reverify"}
        name = description.get("name")
        if isinstance(name, str) and len(name.strip()) > SITE_NAME_LIMIT:
            raise serializers.ValidationError(
                {"name": [f"At most {SITE_NAME_LIMIT} characters, please."]}
            )
        return {"description": description, "reverify": data.get("reverify")}

    def to_representation(self, site):
        """A site as its own site file (what the browsable API offers to edit)."""
        return {**site.description, "reverify": site.reverify}


class SiteSerializer(serializers.ModelSerializer):
    organisation = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    rollout_state = serializers.SerializerMethodField()
    proof = serializers.SerializerMethodField()
    last_proven_at = serializers.DateTimeField(read_only=True, allow_null=True)
    current_instruction_set = serializers.SerializerMethodField()
    description = serializers.SerializerMethodField()

    class Meta:
        model = Site
        fields = [
            "id",
            "name",
            "organisation",
            "vendor",
            "public_address",
            "reverify",
            "rollout_state",
            "proof",
            "last_proven_at",
            "current_instruction_set",
            "description",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.ChoiceField(choices=RolloutState.values, allow_null=True))
    def get_rollout_state(self, site) -> str | None:
        """The state of the current instruction set's rollout (null: no instructions yet)."""
        if hasattr(site, "rollout_state"):  # annotated by sites_for
            return site.rollout_state
        current = site.current_instruction_set
        rollout = getattr(current, "rollout", None) if current is not None else None
        return rollout.state if rollout is not None else None

    @extend_schema_field(serializers.ChoiceField(choices=["fresh", "failing", "stale", "unproven"]))
    def get_proof(self, site) -> str:
        """Whether the path is proven open: fresh, failing, stale (too old, or from before the
        public address changed) or unproven (see `sites.selectors.proof_flag`)."""
        return proof_flag(site) or "fresh"

    @extend_schema_field(serializers.IntegerField(allow_null=True))
    def get_current_instruction_set(self, site) -> int | None:
        """The version number of the current instruction set (null: none yet)."""
        if hasattr(site, "current_version"):
            return site.current_version
        current = site.current_instruction_set
        return current.version if current is not None else None

    @extend_schema_field(SiteFileSerializer)
    def get_description(self, site) -> dict:
        return site.description


# --- Instruction sets --------------------------------------------------------------------------


class StepProbeSerializer(serializers.Serializer):
    direction = serializers.CharField()
    protocol = serializers.CharField()
    port = serializers.IntegerField()
    expect = serializers.CharField(
        required=False,
        help_text='"closed" for a check that must fail (a port no longer forwarded); absent '
        "when the check must succeed.",
    )


class StepContentSerializer(serializers.Serializer):
    """One step as the renderer wrote it (see `sites.instructions.documents.rendered_as_dict`)."""

    number = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=["change", "check", "verify"])
    title = serializers.CharField()
    gui_path = serializers.CharField()
    config = serializers.CharField()
    config_language = serializers.CharField()
    reason = serializers.CharField()
    verify = serializers.CharField()
    guide_rules = serializers.ListField(child=serializers.IntegerField())
    probes = StepProbeSerializer(many=True)
    action = serializers.ChoiceField(
        choices=["add", "change", "remove"],
        required=False,
        help_text="In a change or removal plan: what the step does to the firewall; absent in "
        "complete instructions.",
    )


class WarningSerializer(serializers.Serializer):
    code = serializers.CharField()
    field = serializers.CharField(help_text="The site field it concerns (blank: none).")
    message = serializers.CharField()


class DocumentSerializer(serializers.Serializer):
    """The instructions for one target: the firewall's vendor, or the Windows backup host."""

    vendor = serializers.CharField()
    renderer_version = serializers.IntegerField()
    warnings = WarningSerializer(many=True)
    steps = StepContentSerializer(many=True)


class InstructionSetSerializer(serializers.ModelSerializer):
    is_current = serializers.SerializerMethodField()
    renderers = serializers.JSONField(read_only=True, help_text='[{"slug": …, "version": …}]')
    created_by = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True, help_text="The person's username."
    )
    kind = serializers.ChoiceField(
        choices=PlanKind.choices,
        read_only=True,
        help_text="What the rollout follows: the complete instructions, a change plan from the "
        "version the customer applied, or a removal plan.",
    )
    removal_scope = serializers.SerializerMethodField()
    applied_from = serializers.SlugRelatedField(
        slug_field="version",
        read_only=True,
        allow_null=True,
        help_text="A plan's starting point: the version the customer applied (null otherwise).",
    )
    changes = serializers.ListField(
        child=serializers.CharField(),
        read_only=True,
        help_text="What changed since the version before, one sentence each.",
    )
    reason = serializers.CharField(
        read_only=True, help_text="The reason someone gave (an operator's profile change)."
    )

    class Meta:
        model = InstructionSet
        fields = [
            "version",
            "is_current",
            "kind",
            "removal_scope",
            "applied_from",
            "changes",
            "reason",
            "content_hash",
            "profile_revision",
            "renderers",
            "created_by",
            "created_at",
        ]
        read_only_fields = fields

    def get_is_current(self, instruction_set) -> bool:
        return instruction_set.pk == self.context["site"].current_instruction_set_id

    @extend_schema_field(serializers.ChoiceField(choices=["monitoring", "all"], allow_null=True))
    def get_removal_scope(self, instruction_set) -> str | None:
        """A removal plan's scope: the monitoring access only, or everything (null otherwise)."""
        return instruction_set.removal_scope or None


class InstructionSetDetailSerializer(InstructionSetSerializer):
    description = serializers.SerializerMethodField()
    rules = serializers.JSONField(
        read_only=True, help_text="The derived rules, each with its reason."
    )
    documents = DocumentSerializer(
        many=True,
        read_only=True,
        help_text="What the rollout follows (a plan's steps, for a plan).",
    )
    complete_documents = DocumentSerializer(
        many=True,
        read_only=True,
        allow_null=True,
        help_text="A plan's complete instructions of this version, for someone starting fresh "
        "(null when the version is itself the complete instructions).",
    )

    class Meta(InstructionSetSerializer.Meta):
        fields = [
            *InstructionSetSerializer.Meta.fields,
            "description",
            "rules",
            "documents",
            "complete_documents",
        ]
        read_only_fields = fields

    @extend_schema_field(SiteFileSerializer)
    def get_description(self, instruction_set) -> dict:
        """The site description these instructions were made from."""
        return instruction_set.description


# --- Rollout steps -----------------------------------------------------------------------------


class RolloutStepSerializer(serializers.ModelSerializer):
    state = StepStateField(choices=StepState.choices, read_only=True)
    changed_by = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True, help_text="The person's username."
    )
    content = serializers.SerializerMethodField()

    class Meta:
        model = RolloutStep
        fields = [
            "id",
            "position",
            "vendor",
            "number",
            "title",
            "kind",
            "state",
            "note",
            "changed_by",
            "changed_at",
            "content",
        ]
        read_only_fields = fields

    @extend_schema_field(StepContentSerializer(allow_null=True))
    def get_content(self, step) -> dict | None:
        """What to do: the GUI path, the configuration, the reason, how to verify."""
        return getattr(step, "content", None)


class RolloutStepUpdateSerializer(serializers.Serializer):
    """What the person did with the step; a field left out keeps its value."""

    state = StepStateField(choices=StepState.choices, required=False)
    note = serializers.CharField(
        required=False, allow_blank=True, max_length=NOTE_LIMIT, trim_whitespace=False
    )


# --- Probe runs --------------------------------------------------------------------------------


class ProbeObservationSerializer(serializers.Serializer):
    direction = serializers.CharField()
    protocol = serializers.CharField()
    port = serializers.IntegerField()
    observed_ip = serializers.IPAddressField(allow_null=True)
    observed_port = serializers.IntegerField(allow_null=True)
    outcome = serializers.CharField(help_text='"ok", or why the probe was refused.')
    detail = serializers.CharField()
    received_at = serializers.DateTimeField()


class ProbeAttemptSerializer(serializers.Serializer):
    number = serializers.IntegerField()
    outcome = serializers.CharField(
        help_text="running, finished, lost (worker stopped; sent again) or gave_up."
    )
    detail = serializers.CharField()
    started_at = serializers.DateTimeField()
    finished_at = serializers.DateTimeField(allow_null=True)


class ExpectedPortSerializer(serializers.Serializer):
    protocol = serializers.CharField()
    port = serializers.IntegerField()


class ProbeRunSerializer(serializers.ModelSerializer):
    state = ProbeRunStateField(choices=ProbeRunState.choices, read_only=True)
    expected = ExpectedPortSerializer(many=True, read_only=True)
    token = serializers.SerializerMethodField()
    instruction_set = serializers.SerializerMethodField()
    created_by = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True, help_text="The person's username."
    )

    class Meta:
        model = ProbeRun
        fields = [
            "id",
            "direction",
            "purpose",
            "source",
            "state",
            "expected",
            "token",
            "instruction_set",
            "expires_at",
            "attempts",
            "check_requested_at",
            "outcome",
            "created_by",
            "created_at",
            "started_at",
            "finished_at",
        ]
        read_only_fields = fields

    @extend_schema_field(
        serializers.CharField(
            allow_null=True,
            help_text="The one-time token the probe client sends: null once the run is closed, "
            "and for anyone who may not run probes here (only those who may run probes see it).",
        )
    )
    def get_token(self, run) -> str | None:
        """The views say who may see it (``show_token``); absent, nobody does."""
        return run.token if run.is_open and self.context.get("show_token") else None

    @extend_schema_field(serializers.IntegerField(allow_null=True))
    def get_instruction_set(self, run) -> int | None:
        """The version of the instructions the run proves (null: none)."""
        if hasattr(run, "instruction_set_version"):
            return run.instruction_set_version
        return run.instruction_set.version if run.instruction_set_id else None


class ProbeRunDetailSerializer(ProbeRunSerializer):
    observations = serializers.SerializerMethodField()
    attempt_rows = ProbeAttemptSerializer(
        many=True, read_only=True, help_text="Each worker's try at an inbound check."
    )

    class Meta(ProbeRunSerializer.Meta):
        fields = [*ProbeRunSerializer.Meta.fields, "attempt_rows", "observations"]
        read_only_fields = fields

    OBSERVATION_LIMIT = 100

    @extend_schema_field(ProbeObservationSerializer(many=True))
    def get_observations(self, run) -> list:
        """What the receiving side saw, newest first (the latest 100)."""
        observations = probe_observations(run, count=self.OBSERVATION_LIMIT)
        return ProbeObservationSerializer(observations, many=True).data


class ProbeRunCreateSerializer(serializers.Serializer):
    direction = serializers.ChoiceField(
        choices=ProbeDirection.choices,
        help_text="outbound: run the client on the backup host; inbound: the portal connects to "
        "the site's public address (remote monitoring on).",
    )
    purpose = serializers.ChoiceField(
        choices=ProbePurpose.choices,
        default=ProbePurpose.VERIFY,
        help_text="restriction: run the client on another LAN machine to prove it is kept out.",
    )

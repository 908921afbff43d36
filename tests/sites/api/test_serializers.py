"""The site-file serializers read the one field table (``sites.site_fields``): names, order,
help texts and choices come from there, so the API schema explains a field as the form does."""

from sites.api.serializers import HostInterfaceSerializer, SiteFileSerializer, SiteWriteSerializer
from sites.site_fields import INTERFACE_FIELDS, site_field, site_file_names
from sites.vendors import vendor_choices


def test_site_file_fields_are_the_tables_in_its_order():
    assert tuple(SiteFileSerializer().fields) == site_file_names()
    assert tuple(SiteWriteSerializer().fields) == (*site_file_names(), "reverify")


def test_every_site_file_field_has_the_tables_schema_help():
    fields = SiteFileSerializer().fields
    for name in site_file_names():
        assert fields[name].help_text == site_field(name).schema_help, name


def test_choices_come_from_the_table_and_the_vendors():
    fields = SiteFileSerializer().fields
    assert list(fields["host_addressing"].choices.items()) == list(
        site_field("host_addressing").choices
    )
    assert list(fields["vendor"].choices.items()) == list(vendor_choices())


def test_host_interface_fields_are_the_interface_table():
    fields = HostInterfaceSerializer().fields
    assert [(name, field.help_text) for name, field in fields.items()] == [
        (info.name, info.schema_help) for info in INTERFACE_FIELDS
    ]


def test_types_and_requirements_follow_the_dataclasses():
    fields = SiteFileSerializer().fields
    required = {name for name, field in fields.items() if field.required}
    assert required == {"name", "vendor", "lan_network", "lan_gateway", "host_addressing"}
    assert fields["public_address"].allow_null and fields["firmware"].allow_blank
    assert isinstance(fields["host_interfaces"].child, HostInterfaceSerializer)
    interface = HostInterfaceSerializer().fields
    assert interface["index"].min_value == 1
    assert not interface["gateway"].required and interface["gateway"].allow_null


def test_reverify_keeps_its_own_text():
    assert "stale" in SiteWriteSerializer().fields["reverify"].help_text

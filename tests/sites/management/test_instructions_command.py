"""`manage.py instructions` and `manage.py vendors`: rendering from a site file, no database."""

import json
import shutil
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from sites.vendors import RENDERERS

EXAMPLES = "docs/examples"


def run(*args) -> str:
    out = StringIO()
    call_command("instructions", *args, stdout=out)
    return out.getvalue()


def test_vendors_lists_every_renderer_slug_first():
    out = StringIO()
    call_command("vendors", stdout=out)
    lines = out.getvalue().splitlines()
    assert [line.split("\t")[0] for line in lines] == sorted(RENDERERS)
    assert all(len(line.split("\t")) == 3 for line in lines)
    assert len(RENDERERS) >= 4


def test_all_vendors_mention_every_port_and_protocol_with_monitoring_on():
    payload = json.loads(run(f"{EXAMPLES}/monitoring.json", "--vendor", "all", "--format", "json"))
    assert {entry["vendor"] for entry in payload} == set(RENDERERS)
    for entry in payload:
        text = json.dumps(entry).lower()
        assert "4401" in text, entry["vendor"]
        assert "4403" in text and "tcp" in text and "udp" in text, entry["vendor"]


def test_default_is_the_sites_firewall_plus_its_windows_host():
    text = run(f"{EXAMPLES}/multihomed-windows.json")
    site = json.loads(Path(f"{EXAMPLES}/multihomed-windows.json").read_text())
    assert text.startswith(f"vendor: {site['vendor']} ")
    assert "vendor: windows" in text


def test_markdown_has_a_section_per_step():
    markdown = run(f"{EXAMPLES}/static-host.json", "--vendor", "iptables", "--format", "markdown")
    assert markdown.startswith("# ")
    assert "## Step 1:" in markdown and "```iptables-restore" in markdown


@pytest.mark.skipif(not shutil.which("iptables-restore"), reason="iptables is not installed")
@pytest.mark.parametrize("example", ["static-host", "dhcp-host", "range-hosts", "monitoring"])
def test_config_format_for_iptables_is_a_file_iptables_restore_loads(example, tmp_path):
    config = run(f"{EXAMPLES}/{example}.json", "--vendor", "iptables", "--format", "config")
    result = subprocess.run(
        ["iptables-restore", "--test", "--noflush"], input=config, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr


@pytest.mark.skipif(not shutil.which("nft"), reason="nftables is not installed")
@pytest.mark.parametrize("example", ["static-host", "dhcp-host", "range-hosts", "monitoring"])
def test_config_format_for_nftables_is_a_file_nft_checks(example, tmp_path):
    path = tmp_path / "rules.nft"
    path.write_text(run(f"{EXAMPLES}/{example}.json", "--vendor", "nftables", "--format", "config"))
    result = subprocess.run(["nft", "-c", "-f", str(path)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_a_bad_site_file_names_every_bad_field(tmp_path):
    bad = tmp_path / "site.json"
    bad.write_text(json.dumps({"name": "x", "vendor": "nope", "lan_network": "10.0.0.0/33"}))
    with pytest.raises(CommandError) as error:
        run(str(bad))
    message = str(error.value)
    for field in ("vendor", "lan_network", "lan_gateway", "host_addressing"):
        assert f"  {field}: " in message


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (None, "no such file"),
        ("{not json", "not valid JSON (line 1"),
        ("[1, 2]", "site description"),
    ],
)
def test_unreadable_files_are_explained(tmp_path, content, expected):
    path = tmp_path / "site.json"
    if content is not None:
        path.write_text(content)
    with pytest.raises(CommandError, match=expected.replace("(", r"\(")):
        run(str(path))


def test_an_unknown_vendor_option_is_refused():
    with pytest.raises(CommandError, match="--vendor: unknown vendor 'nope'"):
        run(f"{EXAMPLES}/static-host.json", "--vendor", "nope")


def test_the_command_exits_non_zero_on_a_bad_file(tmp_path):
    bad = tmp_path / "site.json"
    bad.write_text("{}")
    result = subprocess.run(
        [sys.executable, "manage.py", "instructions", str(bad)], capture_output=True, text=True
    )
    assert result.returncode != 0
    assert "name:" in result.stderr


# Change and removal plans (docs/lifecycle.md).


def site_file(tmp_path, name: str, **changes) -> str:
    data = json.loads(Path(f"{EXAMPLES}/monitoring.json").read_text())
    data.update(vendor="iptables", host_os="linux", multi_homed=False, **changes)
    path = tmp_path / name
    path.write_text(json.dumps(data))
    return str(path)


def test_since_prints_the_change_plan_with_its_reasons(tmp_path):
    old = site_file(tmp_path, "old.json")
    new = site_file(tmp_path, "new.json", monitoring_enabled=False, monitoring_sources=[])
    err = StringIO()
    out = StringIO()
    call_command("instructions", new, "--since", old, "--format", "json", stdout=out, stderr=err)
    plan = json.loads(out.getvalue())
    assert [s.get("action") for s in plan["steps"]][0] == "remove"
    assert "Remote monitoring was turned off." in err.getvalue()


def test_since_profile_reads_the_older_profile(tmp_path):
    profile = {
        "name": "Wider",
        "datacenter_networks": ["203.0.113.0/24", "198.51.100.0/24"],
        "outbound_ports": [{"protocol": "tcp", "port": 4401}],
        "monitoring_ports": [{"protocol": "tcp", "port": 4403}, {"protocol": "udp", "port": 4403}],
    }
    wider, narrower = tmp_path / "wider.json", tmp_path / "narrower.json"
    wider.write_text(json.dumps(profile))
    narrower.write_text(json.dumps({**profile, "datacenter_networks": ["203.0.113.0/24"]}))
    site = site_file(tmp_path, "site.json")
    args = ("--since", site, "--profile", str(wider), "--since-profile", str(narrower))
    text = run(site, *args, "--format", "config")
    assert "198.51.100.0/24" in text and "-D " not in text
    assert run(site, "--since", site, "--profile", str(wider), "--format", "config") == ""


def test_remove_prints_a_file_iptables_restore_accepts(tmp_path):
    text = run(site_file(tmp_path, "site.json"), "--remove", "--format", "config")
    assert text.startswith("*") and text.rstrip().endswith("COMMIT")
    assert all(line.startswith(("*", "-D ", "COMMIT")) for line in text.splitlines() if line)
    if shutil.which("iptables-restore"):
        # --test parses the file (and checks the matches exist) without touching the tables.
        checked = subprocess.run(
            ["iptables-restore", "--test", "--noflush"], input=text, text=True, capture_output=True
        )
        assert checked.returncode == 0 or "Permission denied" in checked.stderr, checked.stderr


def test_remove_monitoring_keeps_the_backup_rules(tmp_path):
    text = run(site_file(tmp_path, "site.json"), "--remove", "monitoring", "--format", "config")
    assert "DNAT" in text and "MASQUERADE" not in text


def test_since_profile_alone_is_refused(tmp_path):
    with pytest.raises(CommandError, match="--since-profile: only with --since"):
        run(site_file(tmp_path, "site.json"), "--since-profile", "x.json")


def test_since_and_remove_together_are_refused(tmp_path):
    site = site_file(tmp_path, "site.json")
    with pytest.raises(CommandError):
        run(site, "--since", site, "--remove")

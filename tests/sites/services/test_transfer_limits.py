"""Imports take time linear in the file and memory bounded by the row limit, and refuse what no
site file needs (nesting deeper than a site record) with a 422 instead of a 500 (#14, point 2)."""

import json
import threading
import tracemalloc
from collections.abc import Iterator

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from portal.audit.models import AuditEvent
from sites.models import Site
from sites.services import transfer
from tests.factories import site_description

pytestmark = pytest.mark.django_db

LIMIT = transfer.MAX_IMPORT_ROWS
MANY = 600_000


def finishes_within(seconds: float, work):
    """``work()``'s result, failing (not hanging) when it has not finished after ``seconds``: a
    watchdog far above the linear time, far below the quadratic one (minutes)."""
    outcome = {}

    def run():
        outcome["value"] = work()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), f"still working after {seconds} s"
    return outcome["value"]


def snapshot():
    return Site.objects.count(), AuditEvent.objects.filter(action__startswith="site").count()


class ScanCountingText(str):
    """Text that adds up how many characters ``str.count`` scans: line numbers found in one pass
    scan each character once, not once per item."""

    scanned = 0

    def count(self, sub, start=0, end=None):
        end = len(self) if end is None else end
        type(self).scanned += max(0, min(end, len(self)) - start)
        return super().count(sub, start, end)


def test_600k_empty_objects_are_refused_quickly_with_the_row_limit(world):
    text = "[" + ",".join(["{}"] * MANY) + "]"  # 1.8 MB, on one line
    assert len(text) < transfer.MAX_IMPORT_BYTES  # within the size limit: the row limit decides
    before = snapshot()
    check = finishes_within(
        60, lambda: transfer.check_import(organisation=world.customer, text=text, fmt="json")
    )
    assert not check.ok and not check.rows
    assert [p.message for p in check.problems] == [
        f"The file lists more than {LIMIT:,} sites; import at most {LIMIT:,} at once."
    ]
    assert snapshot() == before


def test_a_json_list_is_read_only_up_to_the_row_limit():
    text = "[" + ",\n".join(["{}"] * MANY) + "]"
    records, problems = transfer.read_sites_file(text, "json")
    assert len(records) == LIMIT + 1 and not problems  # one more than allowed, then it stops


def test_json_line_numbers_are_found_in_one_pass(monkeypatch):
    monkeypatch.setattr(transfer, "MAX_IMPORT_ROWS", MANY)
    ScanCountingText.scanned = 0
    text = ScanCountingText("[\n" + ",\n".join(["{}"] * 50_000) + "\n]")
    records, problems = transfer.read_sites_file(text, "json")
    assert not problems and len(records) == 50_000
    assert [line for line, _ in records[:3]] == [2, 3, 4] and records[-1][0] == 50_001
    assert ScanCountingText.scanned <= 2 * len(text)  # per item from the start: ~10⁹


def counted_lines(rows: int, consumed: list[int]) -> Iterator[str]:
    """A CSV file as lines, recording in ``consumed[0]`` how many the reader has taken."""
    consumed[0] += 1
    yield "name,vendor\n"
    for n in range(rows):
        consumed[0] += 1
        yield f"Site {n},fortigate\n"


def test_a_csv_is_read_only_up_to_the_row_limit():
    consumed = [0]
    records, problems = transfer.read_csv(counted_lines(MANY, consumed))
    assert len(records) == LIMIT + 1 and not problems
    assert consumed[0] == 1 + LIMIT + 1  # the header, the rows allowed, and the one too many


def test_a_600k_row_csv_is_refused_in_bounded_memory(world):
    text = "name\n" + "x\n" * MANY
    before = snapshot()
    tracemalloc.start()
    try:
        check = finishes_within(
            60, lambda: transfer.check_import(organisation=world.customer, text=text, fmt="csv")
        )
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert [p.message for p in check.problems] == [
        f"The file lists more than {LIMIT:,} sites; import at most {LIMIT:,} at once."
    ]
    assert peak < 20_000_000, f"peak {peak:,} bytes"  # every row read: ~160 MB
    assert snapshot() == before


def upload(world, content: str, action: str):
    client = Client()
    client.force_login(world.people["customer_admin"])
    return client.post(
        f"/o/{world.customer.slug}/sites/import/",
        {
            "organisation": world.customer.slug,
            "file": SimpleUploadedFile("sites.json", content.encode()),
            "action": action,
        },
    )


@pytest.mark.parametrize("action", ["check", "import"])
@pytest.mark.parametrize(
    "content, line",
    [
        ("[" * 100_000 + "]" * 100_000, 1),
        ('[\n{"name": "x",\n "host_interfaces": ' + "[" * 50_000 + "]" * 50_000 + "}]", 3),
        ('[{"name": "' + "[" * 1000 + '"},\n{"vendor": {"a": {"b": {"c": 1}}}}]', 2),
    ],
    ids=["bare-lists", "in-a-field", "after-brackets-in-a-string"],
)
def test_nesting_deeper_than_a_site_file_is_refused_with_a_422(world, content, line, action):
    before = snapshot()
    response = upload(world, content, action)  # a 500 fails the test (tests/conftest.py)
    assert response.status_code == 422
    ((problem,),) = [response.context["problems"]]
    assert (problem.line, problem.field) == (line, "")
    assert f"nested more than {transfer.MAX_JSON_DEPTH} levels deep" in problem.message
    assert snapshot() == before


def test_an_unterminated_string_of_escaped_quotes_is_scanned_once(world):
    text = '["' + '\\"' * 900_000  # 1.8 MB; a scan restarting at every quote is quadratic
    check = finishes_within(
        60, lambda: transfer.check_import(organisation=world.customer, text=text, fmt="json")
    )
    assert [(p.line, p.message[:15]) for p in check.problems] == [(1, "Not valid JSON:")]


def test_a_site_file_nests_within_the_depth_limit(world):
    site = site_description(
        name="Two NICs",
        multi_homed=True,
        firewall_interface="LAN",
        host_interfaces=[
            {
                "name": "LAN",
                "index": 3,
                "address": "192.168.1.10",
                "network": "192.168.1.0/24",
                "gateway": "192.168.1.1",
            },
            {
                "name": "Backup",
                "index": 4,
                "address": "10.1.0.10",
                "network": "10.1.0.0/24",
                "gateway": None,
            },
        ],
    )
    check = transfer.check_import(organisation=world.customer, text=json.dumps([site]), fmt="json")
    assert check.ok, check.problems

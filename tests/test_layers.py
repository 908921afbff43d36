"""Views and the API write only through services (STYLE.md: "Writes").

import-linter (run by `make test`) keeps the import layers; what it cannot see is a view that
imports a model for reading and then writes through it. This test reads the source of every view
and API module and fails on an ORM write there: a manager's create/update/delete family, a
``.save()``/``.delete()`` call, or a transaction (a service owns the transaction).
"""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
ENTRY_POINTS = sorted(
    [
        *ROOT.glob("sites/views/*.py"),
        *ROOT.glob("sites/api/*.py"),
        *ROOT.glob("portal/*/views.py"),
        *ROOT.glob("portal/audit/api/*.py"),
        *ROOT.glob("portal/api/pages.py"),
    ]
)
MANAGER_WRITES = {
    "create",
    "get_or_create",
    "update_or_create",
    "bulk_create",
    "bulk_update",
    "update",
    "delete",
}
INSTANCE_WRITES = {"save", "delete"}


def writes_in(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found = []
    for node in ast.walk(tree):
        imports_transaction = isinstance(node, ast.ImportFrom) and node.module == "django.db"
        if imports_transaction and any(alias.name == "transaction" for alias in node.names):
            found.append(f"line {node.lineno}: imports django.db.transaction")
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            continue
        name, chain = node.func.attr, ast.unparse(node.func.value)
        through_manager = name in MANAGER_WRITES and "objects" in chain.split(".")
        on_instance = name in INSTANCE_WRITES and not node.args and not node.keywords
        if through_manager or on_instance:
            found.append(f"line {node.lineno}: {chain}.{name}()")
    return found


def test_the_scan_finds_writes():
    sample = (
        "from django.db import transaction\n"
        "Site.objects.filter(pk=1).update(name='x')\n"
        "site.save()\n"
        "context.update(a=1)\n"  # not a write: a dict
    )
    path = ROOT / "var" / "layers_sample.py"
    path.parent.mkdir(exist_ok=True)
    path.write_text(sample)
    try:
        assert len(writes_in(path)) == 3
    finally:
        path.unlink()


@pytest.mark.parametrize("path", ENTRY_POINTS, ids=lambda p: str(p.relative_to(ROOT)))
def test_views_and_api_write_only_through_services(path):
    assert writes_in(path) == []

"""The design's rooms stay apart, checked on every module's imports (docs/architecture.md):

- the domain (infra/domain) imports nothing but pydantic and the standard library;
- a port (infra/<port>/__init__.py) imports only the domain and the standard library;
- an adapter imports its own technology and no other adapter's;
- infra needs neither torch nor Flask; the website never imports torch, diffusers or
  transformers, but for the local language model's module, which imports them inside its
  functions, used only where build_engine chose it; the renderer never imports Flask.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT

STDLIB = set(sys.stdlib_module_names) | {"__future__"}
PORTS = ("records", "gallery", "queue", "storage", "usage", "counters")
# Each adapter's technology, beyond the domain, its port and the shared code for it.
ADAPTERS = {
    "infra/records/sqlite.py": {"infra.sqlite"},
    "infra/records/firestore.py": {"google", "infra.firestore"},
    "infra/gallery/sqlite.py": {"infra.sqlite"},
    "infra/gallery/firestore.py": {"google", "infra.firestore"},
    "infra/queue/sqlite.py": {"infra.sqlite"},
    "infra/counters/sqlite.py": {"infra.sqlite"},
    "infra/counters/firestore.py": {"google", "infra.firestore"},
    "infra/queue/pubsub.py": {"google", "infra.records"},
    "infra/storage/local.py": set(),
    "infra/storage/gcs.py": {"google"},
    "infra/usage/files.py": set(),
    "infra/usage/pubsub.py": {"google", "fastavro", "infra.bigquery"},
    "infra/usage/warehouse.py": {"duckdb", "sqlglot", "infra.bigquery", "infra.usage.files"},
    "infra/usage/reports.py": {"duckdb", "sqlglot", "infra.bigquery", "infra.usage.warehouse"},
}


# The website's one module that may use torch and transformers (lazily: see the test below).
LOCAL_MODEL = "frontend_service/dialogue/local_model.py"
LOCAL_MODEL_LIBRARIES = {"torch", "transformers", "lmformatenforcer"}


def imports_of(path: Path) -> set[str]:
    """Every module a file imports, at any depth of the file (lazy imports count too)."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def outside(names: set[str], allowed: set[str]) -> set[str]:
    """The imports not within `allowed` (a name allows itself and its submodules)."""
    return {
        name
        for name in names
        if name.split(".")[0] not in STDLIB and not any(name == a or name.startswith(f"{a}.") for a in allowed)
    }


def python_files(folder: str) -> list[Path]:
    return sorted((ROOT / folder).rglob("*.py"))


@pytest.mark.parametrize("path", python_files("infra/domain"), ids=lambda p: p.name)
def test_the_domain_imports_only_pydantic_and_the_standard_library(path):
    assert outside(imports_of(path), {"pydantic", "pydantic_core", "infra.domain"}) == set()


@pytest.mark.parametrize("port", PORTS)
def test_a_port_imports_only_the_domain(port):
    assert outside(imports_of(ROOT / "infra" / port / "__init__.py"), {"infra.domain"}) == set()


@pytest.mark.parametrize("adapter", sorted(ADAPTERS))
def test_an_adapter_imports_only_its_own_technology(adapter):
    port = "infra." + adapter.split("/")[1]
    allowed = {"infra.domain", port} | ADAPTERS[adapter]
    assert outside(imports_of(ROOT / adapter), allowed) == set()


def test_every_adapter_is_listed():
    found = {str(p.relative_to(ROOT)) for port in PORTS for p in (ROOT / "infra" / port).glob("*.py")}
    assert found - {f"infra/{port}/__init__.py" for port in PORTS} == set(ADAPTERS)


@pytest.mark.parametrize(
    ("folder", "forbidden"),
    [
        ("infra", {"torch", "diffusers", "transformers", "flask", "frontend_service", "animate_job"}),
        ("frontend_service", {"torch", "diffusers", "transformers", "animate_job"}),
        ("animate_job", {"flask", "frontend_service"}),
    ],
)
def test_the_rooms_stay_apart(folder, forbidden):
    for path in python_files(folder):
        allowed = LOCAL_MODEL_LIBRARIES if str(path.relative_to(ROOT)) == LOCAL_MODEL else set()
        found = {name for name in imports_of(path) if name.split(".")[0] in forbidden - allowed}
        assert found == set(), path.relative_to(ROOT)


def test_the_local_model_imports_torch_and_transformers_only_inside_its_functions():
    tree = ast.parse((ROOT / LOCAL_MODEL).read_text())
    top_level = set()
    for node in tree.body:
        if isinstance(node, ast.Import):
            top_level |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            top_level.add(node.module.split(".")[0])
    assert top_level & (LOCAL_MODEL_LIBRARIES | {"diffusers"}) == set()


def test_the_website_with_the_offline_engine_never_loads_torch(tmp_path):
    check = (
        "import sys\n"
        "from frontend_service import create_app\n"
        "create_app({'START_WORKER': False})\n"
        "print(','.join(sorted({'torch', 'transformers', 'lmformatenforcer'} & set(sys.modules))))"
    )
    env = {"PATH": "/usr/bin:/bin", "ANIMBOOKS_DATA_DIR": str(tmp_path), "HF_HUB_OFFLINE": "1"}
    result = subprocess.run([sys.executable, "-c", check], capture_output=True, text=True, cwd=ROOT, env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1:] in ([], [""])


def test_infra_imports_neither_torch_nor_flask():
    check = (
        "import sys, infra.bootstrap, infra.domain.storyboard, infra.domain.usage, infra.settings; "
        "heavy = sorted({'torch', 'diffusers', 'transformers', 'flask'} & set(sys.modules)); "
        "print(','.join(heavy))"
    )
    result = subprocess.run([sys.executable, "-c", check], capture_output=True, text=True, cwd=ROOT, check=True)
    assert result.stdout.strip() == ""


def test_the_cli_answers_help_without_loading_torch():
    check = (
        "import sys, contextlib, io\n"
        "from animate_job.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()), contextlib.suppress(SystemExit):\n"
        "    main(['render', '--help'])\n"
        "print('torch' in sys.modules)"
    )
    result = subprocess.run([sys.executable, "-c", check], capture_output=True, text=True, cwd=ROOT, check=True)
    assert result.stdout.strip() == "False"


def test_the_telegram_front_uses_the_flows_and_the_ports_only():
    """The bot is a front like the site's pages: the same flows and ports, no adapter, no blueprint."""
    adapters = {name.removesuffix(".py").replace("/", ".") for name in ADAPTERS}
    for path in python_files("frontend_service/telegram"):
        found = {
            name
            for name in imports_of(path)
            if name in adapters or name.startswith(("frontend_service.blueprints", "infra.sqlite", "infra.firestore"))
        }
        assert found == set(), path.relative_to(ROOT)

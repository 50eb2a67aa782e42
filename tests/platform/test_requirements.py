"""requirements.txt is what the service runs on; requirements-dev.txt adds tests, lint and bench."""

import ast
from importlib import metadata
from pathlib import Path

from django.conf import settings
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

BASE_DIR = Path(settings.BASE_DIR)
APPS = ("accounts", "birthdaybuddy", "events", "notifications", "pages", "reminders", "scheduling", "workspaces")
DEVELOPMENT_ONLY = ("pytest", "ruff", "mypy", "factory-boy", "faker", "hypothesis", "schemathesis", "playwright")


def pins(name: str) -> dict[str, str]:
    found = {}
    for line in (BASE_DIR / name).read_text().splitlines():
        line = line.strip()
        if line and not line.startswith(("#", "-r ")):
            package, version = line.split("==")
            found[canonicalize_name(package)] = version
    return found


def test_every_package_is_pinned_once_in_one_file():
    runtime, development = pins("requirements.txt"), pins("requirements-dev.txt")
    assert set(runtime).isdisjoint(development)
    assert "-r requirements.txt" in (BASE_DIR / "requirements-dev.txt").read_text().splitlines()
    assert not [name for name in DEVELOPMENT_ONLY if name in runtime]


def test_the_runtime_pins_hold_every_dependency_of_a_runtime_pin():
    runtime = pins("requirements.txt")
    missing = []
    for name in runtime:
        for raw in metadata.distribution(name).requires or []:
            requirement = Requirement(raw)
            if requirement.marker and not requirement.marker.evaluate({"extra": ""}):
                continue
            if canonicalize_name(requirement.name) not in runtime:
                missing.append(f"{name} needs {requirement.name}")
    assert not missing


def test_every_third_party_module_the_service_imports_is_a_runtime_pin():
    runtime = pins("requirements.txt")
    distributions = metadata.packages_distributions()
    imported = set()
    for app in APPS:
        for path in (BASE_DIR / app).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.Import):
                    imported.update(alias.name.split(".")[0] for alias in node.names)
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    imported.add(node.module.split(".")[0])
    unpinned = sorted(
        f"{module} ({', '.join(distributions[module])})"
        for module in imported
        if module in distributions and not any(canonicalize_name(d) in runtime for d in distributions[module])
    )
    assert not unpinned

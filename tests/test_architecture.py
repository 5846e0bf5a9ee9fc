"""The code's shape, checked: who may import DRF, how long a module may grow, no import cycles in the kernel,
milestone apps built on the kernel (and M21's seams), not on each other."""

import ast
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
APPS = ("samia", "moderation", "notifications", "analytics", "community", "personalization", "ar", "i18n", "ops", "sre")
MAX_LINES = 450

# The API layer: the only modules that may speak DRF.
DRF_MODULE_NAMES = {"apis.py", "serializers.py", "urls.py"}
DRF_MODULES = {
    "samia/api.py",
    "samia/errors.py",
    "samia/schema.py",
    "samia/accounts/authentication.py",  # the DRF authentication class
    "samia/rls/permissions.py",  # the DRF permission class
}


def _tracked_python() -> list[Path]:
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "*.py"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    return [ROOT / name for name in listed if (ROOT / name).exists()]


def _app_modules() -> list[Path]:
    return [p for p in _tracked_python() if p.relative_to(ROOT).parts[0] in APPS and "migrations" not in p.parts]


def _imports(tree: ast.AST, module: str) -> list[tuple[str, list[str]]]:
    """Every import statement anywhere in `tree` (functions included): (module, names it takes from it)."""
    package = module.rsplit(".", 1)[0]  # a package passes "<name>.__init__"
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(alias.name, []) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[: len(parts) - node.level + 1] + ([base] if base else []))
            found.append((base, [alias.name for alias in node.names]))
    return found


def _imported_names(tree: ast.AST, module: str) -> set[str]:
    names = set()
    for base, taken in _imports(tree, module):
        names.add(base)
        names.update(f"{base}.{name}" for name in taken)
    return names


def _module_name(path: Path) -> str:
    name = ".".join(path.relative_to(ROOT).with_suffix("").parts)
    return name.removesuffix(".__init__")


def test_only_the_api_layer_imports_rest_framework():
    offenders = []
    for path in _app_modules():
        relative = path.relative_to(ROOT).as_posix()
        if path.name in DRF_MODULE_NAMES or relative in DRF_MODULES:
            continue
        names = _imported_names(ast.parse(path.read_text()), _module_name(path))
        if any(name == "rest_framework" or name.startswith("rest_framework.") for name in names):
            offenders.append(relative)
    assert offenders == [], f"import DRF only in the API layer (apis/serializers/urls); found in {offenders}"


def test_no_module_outside_migrations_grows_past_the_limit():
    too_long = {}
    for path in _tracked_python():
        if "migrations" in path.parts or ".venv" in path.parts:
            continue
        lines = path.read_text().count("\n")
        if lines > MAX_LINES:
            too_long[path.relative_to(ROOT).as_posix()] = lines
    assert too_long == {}, f"split these along their seams (at most {MAX_LINES} lines): {too_long}"


def _kernel_graph() -> dict[str, set[str]]:
    modules = {
        _module_name(p): p
        for p in _tracked_python()
        if p.relative_to(ROOT).parts[0] == "samia" and "migrations" not in p.parts
    }
    graph = {}
    for name, path in modules.items():
        targets = set()
        for base, taken in _imports(ast.parse(path.read_text()), name + (".__init__" * (path.name == "__init__.py"))):
            # `from package import submodule` depends on the submodule, not on the package's __init__.
            submodules = {f"{base}.{t}" for t in taken} & modules.keys()
            targets |= submodules or {base}
        graph[name] = {other for other in targets if other in modules and other != name}
    return graph


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for target in sorted(graph[node]):
            if state.get(target) == 1:
                return [*path[path.index(target) :], target]
            if target not in state and (found := visit(target)):
                return found
        path.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return None


MILESTONE_APPS = APPS[1:]
# M21's public seams (issue 17): other apps open cases and act on their own targets through them.
MILESTONE_SEAMS = {"moderation.services", "moderation.selectors", "moderation.targets"}


def test_milestone_apps_build_on_the_kernel_not_on_each_other():
    offenders = []
    for path in _app_modules():
        app = path.relative_to(ROOT).parts[0]
        if app not in MILESTONE_APPS:
            continue
        for base, taken in _imports(ast.parse(path.read_text()), _module_name(path)):
            # `from moderation import services` takes the module moderation.services
            names = [f"{base}.{t}" for t in taken] if "." not in base and taken else [base]
            for name in names:
                other = name.split(".")[0]
                if other in MILESTONE_APPS and other != app and ".".join(name.split(".")[:2]) not in MILESTONE_SEAMS:
                    offenders.append(f"{path.relative_to(ROOT)}: {name}")
    # the kernel imports no app either
    for path in _app_modules():
        if path.relative_to(ROOT).parts[0] == "samia":
            names = _imported_names(ast.parse(path.read_text()), _module_name(path))
            offenders += [f"{path.relative_to(ROOT)}: {n}" for n in names if n.split(".")[0] in MILESTONE_APPS]
    assert sorted(set(offenders)) == [], "use a kernel seam (a registry filled in AppConfig.ready) instead"


def test_the_kernel_has_no_import_cycle():
    graph = _kernel_graph()
    assert "samia.rls.registry" in graph  # the walk found the kernel
    assert _cycle(graph) is None, " -> ".join(_cycle(graph))


@pytest.mark.parametrize(
    ("graph", "expected"),
    [
        ({"a": {"b"}, "b": {"c"}, "c": set()}, None),
        ({"a": {"b"}, "b": {"a"}}, ["a", "b", "a"]),
        ({"a": {"b"}, "b": {"c"}, "c": {"b"}}, ["b", "c", "b"]),
    ],
)
def test_the_cycle_finder_finds_cycles(graph, expected):
    assert _cycle(graph) == expected


def test_relative_and_lazy_imports_are_seen():
    tree = ast.parse("from . import registry\ndef f():\n    from samia.rls.conditions import Always\n")
    names = _imported_names(tree, "samia.rls.access")
    assert {"samia.rls.registry", "samia.rls.conditions"} <= names

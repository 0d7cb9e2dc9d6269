"""The package's architecture, checked from the source (shared/DESIGN.md, "Rules of
the house"): which package may import which.

``sources/`` is two things. The Source adapters (``base``, ``local``, ``memory``,
``reader``, ``ftp/``) know bytes and directory entries only: they import nothing of
reelhouse but ``errors``. The registry (``sources/registry.py``: source rows, stored
credentials, live Source objects) sits beside them so that playback, transfers and the
drive reach a source without going through ``library``; it is the one module of
``sources/`` that may also import ``config`` and ``db``.
"""

from __future__ import annotations

import ast
from pathlib import Path

import reelhouse

PACKAGE = Path(reelhouse.__file__).parent


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    """Every module of the package (migrations excluded: Alembic scripts), by name."""
    return {
        _module_name(p): p
        for p in sorted(PACKAGE.rglob("*.py"))
        if "migrations" not in p.relative_to(PACKAGE).parts
    }


def _import_names(path: Path, members: bool) -> set[str]:
    """The modules that ``path`` imports anywhere in its body (absolute imports only:
    the package uses no relative ones); with ``members``, also ``module.name`` of each
    ``from module import name`` (the name may be a submodule)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            if members:
                found.update(f"{node.module}.{a.name}" for a in node.names)
    return found


def _imports(path: Path) -> set[str]:
    """The reelhouse modules that ``path`` imports anywhere in its body."""
    return {n for n in _import_names(path, members=True) if n == "reelhouse" or n.startswith("reelhouse.")}


def _within(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


SOURCE_ADAPTERS_MAY_IMPORT = ("reelhouse.errors", "reelhouse.sources")
REGISTRY_MAY_IMPORT = (*SOURCE_ADAPTERS_MAY_IMPORT, "reelhouse.config", "reelhouse.db")


def test_source_adapters_import_only_errors() -> None:
    bad = {
        mod: sorted(i for i in _imports(path)
                    if not any(_within(i, ok) for ok in SOURCE_ADAPTERS_MAY_IMPORT)
                    or _within(i, "reelhouse.sources.registry"))
        for mod, path in _modules().items()
        if _within(mod, "reelhouse.sources") and mod != "reelhouse.sources.registry"
    }
    assert {m: i for m, i in bad.items() if i} == {}


def test_source_registry_imports_only_errors_config_db_and_sources() -> None:
    path = _modules()["reelhouse.sources.registry"]
    bad = sorted(i for i in _imports(path) if not any(_within(i, ok) for ok in REGISTRY_MAY_IMPORT))
    assert bad == []


def _package_of(module: str) -> str:
    """The top-level package of a reelhouse module (``reelhouse.api.deps`` → ``api``);
    modules directly under reelhouse are their own node (``core``, ``server``)."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "reelhouse"


def package_graph() -> dict[str, set[str]]:
    """Which top-level package imports which (self-imports left out)."""
    graph: dict[str, set[str]] = {}
    for mod, path in _modules().items():
        src = _package_of(mod)
        graph.setdefault(src, set())
        for target in _imports(path):
            dst = _package_of(target)
            if dst != src and dst != "reelhouse":
                graph[src].add(dst)
    return graph


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle of ``graph`` as a path (first node repeated at the end), or None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return [*path[path.index(nxt):], nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        path.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return None


def test_cycle_finder_finds_a_cycle() -> None:
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set()}) is None


def test_no_import_cycle_between_top_level_packages() -> None:
    assert _cycle(package_graph()) is None


def test_api_does_not_import_web() -> None:
    """server.py joins the API and the UI; the UI may use the API's dependencies, the
    API never the UI."""
    assert "web" not in package_graph()["api"]


#: Pure modules (shared/DESIGN.md: no I/O, no clock; property-tested).
PURE_MODULES = (
    "reelhouse.playback.ranges",
    "reelhouse.library.naming",
    "reelhouse.party.state",
    "reelhouse.party.events",
    "reelhouse.party.protocol",
    "reelhouse.playback.hls.decision",
    "reelhouse.playback.hls.ladder",
    "reelhouse.playback.hls.playlists",
    "reelhouse.library.probe_normalise",
)

#: Standard and third-party modules that do I/O, keep time or run things concurrently.
IO_MODULES = frozenset({
    "aiofiles", "anyio", "asyncio", "av", "concurrent", "fastapi", "ftplib", "http", "httpx", "huey",
    "io", "mfusepy", "multiprocessing", "os", "pathlib", "pyftpdlib", "redis", "requests", "select",
    "selectors", "shutil", "socket", "sqlalchemy", "sqlite3", "ssl", "starlette", "subprocess",
    "tempfile", "threading", "time", "urllib.request", "uvicorn",
})


def _all_imports(path: Path) -> set[str]:
    return _import_names(path, members=False)


def _closure(module: str) -> set[str]:
    """``module``, the packages that contain it (their ``__init__`` runs first) and every
    reelhouse module they import, transitively."""
    modules = _modules()
    seen: set[str] = set()
    todo = [module]
    while todo:
        name = todo.pop()
        parts = name.split(".")
        for i in range(1, len(parts) + 1):
            candidate = ".".join(parts[:i])
            if candidate in modules and candidate not in seen:
                seen.add(candidate)
                todo.extend(i for i in _imports(modules[candidate]) if i in modules)
    return seen


def test_pure_modules_import_no_io() -> None:
    modules = _modules()
    bad: dict[str, list[str]] = {}
    for pure in PURE_MODULES:
        for mod in sorted(_closure(pure)):
            io = sorted(i for i in _all_imports(modules[mod])
                        if i in IO_MODULES or i.split(".")[0] in IO_MODULES)
            if io:
                bad[f"{pure} (via {mod})"] = io
    assert bad == {}


def test_the_io_check_sees_io() -> None:
    assert "reelhouse.party.clock" in _closure("reelhouse.party.clock")
    assert "time" in _all_imports(_modules()["reelhouse.party.clock"])


MAX_LINES = 500


def test_no_module_over_500_lines() -> None:
    """Every module of the package, migrations included (CONVENTIONS.md 8: one noun per
    module)."""
    long = {str(path.relative_to(PACKAGE)): n for path in sorted(PACKAGE.rglob("*.py"))
            if (n := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES}
    assert long == {}

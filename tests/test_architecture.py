"""The direction of imports between lib's packages (docs/ARCHITECTURE.md, "Which way imports go").

Read from the source with ``ast`` (nothing is imported): every import of the project's own code, at
the top of a module or inside a function, must go to the module's own package, to a lower layer, or
to the shared rules. The audit kernel imports the standard library only.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# Lowest first. A module belongs to the longest prefix listed; it may import from its own entry
# and from any entry of a lower layer.
LAYERS: list[tuple[str, ...]] = [
    ("lib.errors", "lib.plaintext", "lib.privacy", "lib.i18n", "lib.sortition.audit", "lib"),
    ("lib.store",),
    ("lib.access",),
    ("lib.sortition",),
    ("lib.recruitment",),
    ("lib.draws",),
    ("lib.assembly",),
    ("lib.evaluation",),
    ("lib.reporting",),
    ("lib.demo",),
    ("lib.backup", "lib.cli", "lib.resources"),
]

# (importer, imported): why this upward import is right. Keep this list short.
EXCEPTIONS: dict[tuple[str, str], str] = {
    (
        "lib.recruitment.signups.sync",
        "lib.draws",
    ): "the sync refuses to change the pool while a draw is being prepared (draw_in_preparation)",
    (
        "lib.draws.publish",
        "lib.assembly",
    ): "revealing a replacement draw enrols the newcomers at once, so the door finds them (reveal_draw)",
}

SHARED = {"lib.errors", "lib.plaintext", "lib.privacy", "lib.i18n", "lib"}


def modules() -> dict[str, Path]:
    out = {}
    for path in sorted((ROOT / "lib").rglob("*.py")):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


def imported_names(path: Path) -> list[tuple[int, str]]:
    """(line, dotted name) of every import in the file; relative imports made absolute."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, f"{path}:{node.lineno}: relative import; write the absolute name"
            assert node.module is not None
            found.append((node.lineno, node.module))
            found += [(node.lineno, f"{node.module}.{a.name}") for a in node.names]
    return found


def resolve(name: str, known: dict[str, Path]) -> str | None:
    """The project module a dotted import name lands in (``lib.x.y.func`` -> ``lib.x.y``)."""
    while name and name not in known:
        name = name.rpartition(".")[0]
    return name or None


def owner(module: str) -> tuple[int, str]:
    best: tuple[int, str] | None = None
    for rank, entries in enumerate(LAYERS):
        for entry in entries:
            if (module == entry or module.startswith(entry + ".")) and (best is None or len(entry) > len(best[1])):
                best = (rank, entry)
    assert best is not None, f"{module} is in no layer: add its package to LAYERS and to docs/ARCHITECTURE.md"
    return best


def project_imports() -> list[tuple[str, int, str]]:
    known = modules()
    out = []
    for module, path in known.items():
        for line, name in imported_names(path):
            target = resolve(name, known) if name.split(".")[0] == "lib" else None
            if target and target != module:
                out.append((module, line, target))
    return out


def test_every_module_is_in_a_layer():
    for module in modules():
        owner(module)


def test_imports_go_down_the_layers_only():
    wrong: list[str] = []
    for module, line, target in project_imports():
        (rank, entry), (trank, tentry) = owner(module), owner(target)
        if target == "lib" or entry == tentry or trank <= rank or tentry in SHARED:
            continue
        if any(module == m and (target == t or target.startswith(t + ".")) for m, t in EXCEPTIONS):
            continue
        wrong.append(f"{module} (line {line}) imports {target}: {entry} may not use {tentry}")
    assert not wrong, "\n".join(dict.fromkeys(wrong))


def test_the_exceptions_are_still_needed():
    """An exception nobody uses any more is deleted, so the list stays honest."""
    used = {(m, t) for m, _, t in project_imports()}
    for m, t in EXCEPTIONS:
        assert any(m == um and (ut == t or ut.startswith(t + ".")) for um, ut in used), (m, t)


def test_lib_never_imports_the_pages_and_only_resources_imports_streamlit():
    for module, path in modules().items():
        for line, name in imported_names(path):
            top = name.split(".")[0]
            assert top not in ("pages", "app"), f"{module}:{line} imports {name}"
            if top == "streamlit":
                assert module == "lib.resources", f"{module}:{line} imports streamlit"


def test_the_audit_kernel_imports_the_standard_library_only():
    """The verifier must run where only Python is installed (docs/VERIFYING.md). Also the packages
    that importing it runs first: lib/__init__.py and lib/sortition/__init__.py."""
    known = modules()
    kernel = [m for m in known if m.startswith("lib.sortition.audit")] + ["lib", "lib.sortition"]
    for module in kernel:
        for line, name in imported_names(known[module]):
            top = name.split(".")[0]
            if top == "lib":
                target = resolve(name, known)
                assert target in kernel, f"{module}:{line} imports {name}, outside the audit kernel"
            else:
                assert top in sys.stdlib_module_names or top == "__future__", (
                    f"{module}:{line} imports {name}: not in the standard library"
                )


# Cycles between two modules of the same package that are still to be untangled, each with what ties
# them. The test fails on any other cycle, and when one of these is gone (delete its line).
KNOWN_CYCLES: dict[frozenset[str], str] = {
    frozenset(
        {"lib.access.accounts", "lib.access.auth"}
    ): "auth's command line (python -m lib.access.auth invite) makes the invitation through accounts",
    frozenset(
        {"lib.sortition.audit.ceremony", "lib.sortition.audit.public"}
    ): "the frozen lottery of a public (v2) bundle writes and checks its public text",
    frozenset(
        {"lib.sortition.audit.public_verify", "lib.sortition.audit.verify"}
    ): "verify hands v2 bundles to public_verify, which reuses verify's checks",
    frozenset(
        {"lib.recruitment.signups.grid", "lib.recruitment.signups.workbooks"}
    ): "grid_from_excel_bytes hands the workbook to workbooks, which builds a Grid",
    frozenset(
        {"lib.recruitment.signups.sheets", "lib.recruitment.signups.sources"}
    ): "sheets words its deadline message with sources.deadline_message",
}


def import_cycles() -> list[frozenset[str]]:
    graph: dict[str, set[str]] = {m: set() for m in modules()}
    for module, _, target in project_imports():
        if target == "lib" or module.startswith(target + "."):  # a package's own __init__ is not a cycle
            continue
        if any(module == m and (target == t or target.startswith(t + ".")) for m, t in EXCEPTIONS):
            continue  # an allowed upward call (above) is not counted twice
        graph[module].add(target)
    return [frozenset(c) for c in _strongly_connected(graph)]


def test_no_new_import_cycles():
    """A cycle hides which module a rule belongs to (issue 14: bundle <-> verify, now gone)."""
    cycles = set(import_cycles())
    new = cycles - set(KNOWN_CYCLES)
    assert not new, "import cycles: " + "; ".join(" <-> ".join(sorted(c)) for c in new)
    gone = set(KNOWN_CYCLES) - cycles
    assert not gone, "no longer a cycle, delete from KNOWN_CYCLES: " + "; ".join(" <-> ".join(sorted(c)) for c in gone)


def test_the_bundle_writer_does_not_import_the_verifier():
    """The verifier rebuilds the bundle with the writer's code; the writer never needs the verifier."""
    for line, name in imported_names(modules()["lib.sortition.audit.bundle"]):
        assert not name.startswith("lib.sortition.audit.verify"), f"bundle.py line {line} imports {name}"


def _strongly_connected(graph: dict[str, set[str]]) -> list[set[str]]:
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[set[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = set()
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.add(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(comp)

    for v in graph:
        if v not in index:
            visit(v)
    return out


def test_the_direction_test_catches_an_upward_import(tmp_path, monkeypatch):
    """The rule can fail: a store module that imports the draws is reported."""
    fake = tmp_path / "lib" / "store"
    fake.mkdir(parents=True)
    (tmp_path / "lib" / "__init__.py").write_text("")
    (fake / "__init__.py").write_text("")
    (fake / "db.py").write_text("from lib.draws.records import latest_draw\n")
    (tmp_path / "lib" / "draws").mkdir()
    (tmp_path / "lib" / "draws" / "__init__.py").write_text("")
    (tmp_path / "lib" / "draws" / "records.py").write_text("from lib.store.db import x\n")
    monkeypatch.setattr(sys.modules[__name__], "ROOT", tmp_path)
    try:
        test_imports_go_down_the_layers_only()
    except AssertionError as e:
        assert "lib.store.db (line 1) imports lib.draws.records" in str(e)
    else:
        raise AssertionError("an upward import went unnoticed")
    assert frozenset({"lib.draws.records", "lib.store.db"}) in import_cycles()


def test_every_page_in_the_page_list_exists():
    """app.py no longer leaves out a page whose file is missing: a missing file is a broken app. (The list is
    lib/access/pages.py, which app.py's menu is built from.)"""
    tree = ast.parse((ROOT / "lib" / "access" / "pages.py").read_text(encoding="utf-8"))
    paths = [
        n.value
        for n in ast.walk(tree)
        if isinstance(n, ast.Constant)
        and isinstance(n.value, str)
        and n.value.startswith("pages/")
        and n.value.endswith(".py")
    ]
    assert len(paths) > 10
    missing = [p for p in paths if not (ROOT / p).is_file()]
    assert not missing, missing

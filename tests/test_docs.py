"""The architecture docs cannot drift from the code (in the manner of datasette's tests/test_docs.py).

- every module, folder or function that docs/ARCHITECTURE.md or docs/INTERFACES.md names exists;
- every package and top-level module of lib/ is in docs/ARCHITECTURE.md's tree;
- every name a package's public face (``__all__``) promises resolves.
"""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
ARCH = ROOT / "docs" / "ARCHITECTURE.md"
INTERFACES = ROOT / "docs" / "INTERFACES.md"
DOCS = [ARCH, INTERFACES]

PATH = re.compile(r"(?<![\w/.])lib(?:/[A-Za-z_][\w]*)*(?:/|\.py)")
DOTTED = re.compile(r"`(lib(?:\.[A-Za-z_]\w*)+)")
CALL = re.compile(r"`(\w+)\(")
SECTION_MODULES = re.compile(r"`(lib/[\w/]+\.py)`")


def resolve(dotted: str):
    """The object a dotted name stands for: the longest importable module, then attributes."""
    parts = dotted.split(".")
    for n in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:n]))
        except ModuleNotFoundError:
            continue
        for attr in parts[n:]:
            obj = getattr(obj, attr)
        return obj
    raise ModuleNotFoundError(dotted)


def tree_entries() -> list[str]:
    """Paths (relative to the repository) listed in ARCHITECTURE.md's tree block, from the indentation."""
    block = ARCH.read_text(encoding="utf-8").split("```")[1]
    stack: list[tuple[int, str]] = []
    out = []
    for line in block.splitlines():
        m = re.match(r"^(\s*)(\S+)", line)
        if not m or not re.fullmatch(r"[\w.]+/|[\w.]+\.py", m.group(2)):
            continue
        indent, name = len(m.group(1)), m.group(2)
        if indent > 24:  # a continuation of a description, not an entry
            continue
        while stack and stack[-1][0] >= indent:
            stack.pop()
        path = "".join(p for _, p in stack) + name
        out.append(path)
        if name.endswith("/"):
            stack.append((indent, name))
    return out


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: p.name)
def test_every_path_named_in_the_docs_exists(doc):
    text = doc.read_text(encoding="utf-8")
    missing = sorted({p for p in PATH.findall(text) if not (ROOT / p).exists()})
    assert not missing, f"{doc.name} names files or folders that do not exist: {missing}"


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: p.name)
def test_every_module_and_function_named_in_the_docs_exists(doc):
    text = doc.read_text(encoding="utf-8")
    missing = []
    for name in sorted(set(DOTTED.findall(text))):
        try:
            resolve(name)
        except (ModuleNotFoundError, AttributeError):
            missing.append(name)
    assert not missing, f"{doc.name} names modules or functions that do not exist: {missing}"


def test_every_function_listed_under_a_module_heading_exists():
    """INTERFACES.md: under "## Draws (`lib/draws/records.py`)", every `name(` is a function of that module."""
    missing = []
    for section in re.split(r"^## ", INTERFACES.read_text(encoding="utf-8"), flags=re.M)[1:]:
        heading, _, body = section.partition("\n")
        modules = [importlib.import_module(p[:-3].replace("/", ".")) for p in SECTION_MODULES.findall(heading)]
        if not modules:
            continue
        for name in sorted(set(CALL.findall(body))):
            if not any(hasattr(m, name) for m in modules):
                missing.append(f"{heading.strip()}: {name}")
    assert not missing, missing


def test_the_architecture_tree_lists_every_package_and_module_of_lib():
    listed = set(tree_entries())
    assert "lib/store/" in listed  # the parser reads the tree
    wanted = {f"{p.parent.relative_to(ROOT).as_posix()}/" for p in (ROOT / "lib").rglob("__init__.py")} - {"lib/"}
    wanted |= {p.relative_to(ROOT).as_posix() for p in (ROOT / "lib").glob("*.py") if p.name != "__init__.py"}
    missing = sorted(wanted - listed)
    assert not missing, f"docs/ARCHITECTURE.md does not describe: {missing}"
    stale = sorted(p for p in listed if p.startswith("lib/") and not (ROOT / p).exists())
    assert not stale, f"docs/ARCHITECTURE.md lists what no longer exists: {stale}"


def test_every_public_name_of_every_package_resolves():
    for init in sorted((ROOT / "lib").rglob("__init__.py")):
        package = ".".join(init.parent.relative_to(ROOT).parts)
        module = importlib.import_module(package)
        for name in getattr(module, "__all__", []):
            assert getattr(module, name) is not None, f"{package}.{name}"


def test_the_docs_test_notices_a_missing_function(tmp_path, monkeypatch):
    """The checks can fail: a made-up function under a real module is reported."""
    with pytest.raises(AttributeError):
        resolve("lib.draws.records.no_such_function")
    fake = tmp_path / "ARCHITECTURE.md"
    fake.write_text("```\nlib/\n  store/   the store\n    audit/ misplaced\n```\n", encoding="utf-8")
    monkeypatch.setattr(f"{__name__}.ARCH", fake)
    with pytest.raises(AssertionError, match="does not describe"):
        test_the_architecture_tree_lists_every_package_and_module_of_lib()

"""Kleroterion below the pages: pure Python domain packages (map and rules: docs/ARCHITECTURE.md).

Each package's ``__init__`` is its public face: ``__all__`` names what other packages and the
pages may use, and ``public_face`` loads the module that defines a name on first use, so that
``import lib.store.db`` stays as light as the module itself (the verifier must run with the
standard library only, and the pages should not pay for the optimiser when they do not draw).
"""

from __future__ import annotations

from importlib import import_module
from typing import Any, Callable


def public_face(package: str, where: dict[str, tuple[str, ...]]) -> tuple[list[str], Callable[[str], Any]]:
    """``(__all__, __getattr__)`` for a package: ``where`` maps each submodule to the public names it defines.

    Written once per package: ``__all__, __getattr__ = public_face(__name__, {"db": ("Database", ...)})``."""
    home = {name: module for module, names in where.items() for name in names}

    def __getattr__(name: str) -> Any:
        if name not in home:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        return getattr(import_module(f"{package}.{home[name]}"), name)

    return list(home), __getattr__

"""Modules loaded on first use, so that a light entry point (``overdue --help``, a command's ``--help``)
does not load the heavy ones (SQLAlchemy, Alembic, NumPy, Ibis take seconds to import).

:func:`lazy_module` gives a module that runs when one of its names is first read; :func:`exports` gives a
package's ``__getattr__`` (PEP 562) importing each name it re-exports from its home module on first use.
Either way, give the real import under ``TYPE_CHECKING`` for the type checker.
"""

import importlib.util
import sys
from collections.abc import Callable, Mapping
from types import ModuleType
from typing import Any


def lazy_module(name: str) -> ModuleType:
    """Module ``name``, run only when one of its names is first read (its parent packages are imported
    now: keep their ``__init__`` light). For a command's module, whose command reads it first on the main
    thread: Python 3.11's lazy loader takes no lock, so two threads must not read a module's first name at
    once."""
    loaded = sys.modules.get(name)
    if loaded is not None:
        return loaded
    spec = importlib.util.find_spec(name)
    if spec is None or spec.loader is None:
        raise ModuleNotFoundError(f"no module named {name!r}", name=name)
    loader = importlib.util.LazyLoader(spec.loader)
    spec.loader = loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    loader.exec_module(module)
    return module


def exports(package: str, homes: Mapping[str, str]) -> Callable[[str], Any]:
    """A ``__getattr__`` for ``package``: each name of ``homes`` imported from its home module (``homes``:
    name → module) when first read."""

    def attribute(name: str) -> Any:
        home = homes.get(name)
        if home is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        return getattr(importlib.import_module(home), name)

    return attribute

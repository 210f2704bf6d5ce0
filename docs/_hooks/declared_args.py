"""griffe extension (mkdocs.yml, mkdocstrings' ``extensions``): a schedule's ``Args`` on its API
page come from the declarations of its arguments.

A schedule's docstring in the source has no ``Args:`` section: ``lrkit._core`` adds one to the
class's ``__doc__`` from the declared parameters (``lrkit._params``) when the class is
created. griffe reads the source, so this gives it the docstring the class really has.
"""

from __future__ import annotations

import importlib
import inspect
from typing import Any

import griffe


class DeclaredArgs(griffe.Extension):
    def on_class_members(self, *, cls: griffe.Class, **kwargs: Any) -> None:
        module_name, _, name = cls.path.rpartition(".")
        if not module_name.startswith("lrkit"):
            return
        try:
            runtime = getattr(importlib.import_module(module_name), name)
        except (ImportError, AttributeError):
            return
        import lrkit

        if not (isinstance(runtime, type) and issubclass(runtime, lrkit.Schedule)):
            return
        doc = inspect.getdoc(runtime)
        if doc and cls.docstring is not None and "Args:" in doc:
            cls.docstring.value = doc

"""One registry shape for every kind of plug-in: extractors, rules and parity checks, reporters, runners and
engines.

A ``Registry`` maps a name to a lazy reference, ``"package.module"`` (the module is the plug-in) or
``"package.module:attr"`` (an attribute of it), and adds the entry points of one group
(``driftguard.<kind>``); a built-in name wins a clash. A registry may also hold plug-ins another one declares
for it (``derived``: a serving engine names its request kind's extractor, so the engine's one entry point adds
both). Nothing is imported until a name is loaded, so a Triton-only check never imports the ONNX code. A
plug-in that cannot be loaded, or is not what its registry holds, is one error (``PluginLoadError``: a broken
installation, exit 3), never the user's input.

This module imports nothing from driftguard but ``plugins`` (the one entry-point scan per process).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from types import ModuleType
from typing import Generic, TypeVar

T = TypeVar("T")


class PluginLoadError(Exception):
    """A registered plug-in that cannot be imported or is not what its registry holds (exit 3: a broken
    installation, not the user's input). The message names the group, the name and the reference."""


@dataclass(frozen=True)
class Ref:
    """Where a registered plug-in lives: ``target`` is ``module`` or ``module:attr``; ``builtin`` is False for
    an entry point."""

    name: str
    target: str
    builtin: bool = True

    @property
    def module(self) -> str:
        return self.target.partition(":")[0]

    @property
    def attr(self) -> str | None:
        return self.target.partition(":")[2] or None


class Registry(Generic[T]):
    """Name -> plug-in of one kind. ``builtins`` is the explicit, ordered table of the package's own plug-ins
    (``{name: "module[:attr]"}``); ``group`` the entry-point group third parties add to; ``accept`` turns a
    loaded object into a ``T`` or raises ``TypeError`` saying what it should have been.

    ``derived``: plug-ins another registry declares for this one (a serving engine names the extractor of its
    request kind, so one ``driftguard.engines`` entry point adds both), called once until ``clear()``; they
    follow the table, before this group's own entry points, and the first of a name wins a clash."""

    def __init__(self, group: str, builtins: Mapping[str, str], accept: Callable[[object], T],
                 derived: Callable[[], Iterable[Ref]] | None = None) -> None:
        self.group = group
        self.builtins = dict(builtins)
        self._accept = accept
        self._derived = derived
        self._others: dict[str, Ref] | None = None  # derived, then entry points; names the table lacks
        #: loaded plug-ins by (name, reference): a table edited after a load (a test) never serves the old one
        self._loaded: dict[tuple[str, str], T] = {}

    def _more(self) -> dict[str, Ref]:
        if self._others is None:
            from driftguard.plugins import entry_points

            others: dict[str, Ref] = {}
            for r in [*(self._derived() if self._derived is not None else ()),
                      *(Ref(ep.name, ep.value, builtin=False) for ep in entry_points(self.group))]:
                if r.name not in self.builtins:
                    others.setdefault(r.name, r)
            self._others = others
        return self._others

    def refs(self) -> list[Ref]:
        """Every registered plug-in: built-ins in table order, the derived ones, then entry points in discovery
        order."""
        return [*(Ref(n, t) for n, t in self.builtins.items()), *self._more().values()]

    def names(self) -> list[str]:
        return [*self.builtins, *self._more()]

    def ref(self, name: str) -> Ref | None:
        target = self.builtins.get(name)
        if target is not None:
            return Ref(name, target)
        return self._more().get(name)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and (name in self.builtins or name in self._more())

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    def get(self, name: str) -> T | None:
        """The plug-in registered as ``name`` (imported on first use), or None when no plug-in has that name."""
        target = self.builtins.get(name)  # a built-in already loaded: no Ref built (detection asks every kind)
        if target is not None:
            hit = self._loaded.get((name, target))
            if hit is not None:
                return hit
        ref = self.ref(name)
        if ref is None:
            return None
        hit = self._loaded.get((name, ref.target))
        if hit is not None:
            return hit
        try:
            obj: object = importlib.import_module(ref.module)
            if ref.attr is not None:
                for part in ref.attr.split("."):
                    obj = getattr(obj, part)
        except Exception as exc:
            raise PluginLoadError(f"{self.group} '{name} = {ref.target}' failed to load: "
                                  f"{type(exc).__name__}: {exc}") from exc
        try:
            loaded = self._accept(obj)
        except TypeError as exc:
            raise PluginLoadError(f"{self.group} '{name} = {ref.target}' is not {exc}") from exc
        self._loaded[(name, ref.target)] = loaded
        return loaded

    def __getitem__(self, name: str) -> T:
        """``load(name)``: the plug-in, KeyError when none has that name."""
        return self.load(name)

    def load(self, name: str) -> T:
        """The plug-in registered as ``name``; KeyError (naming the registered ones) when none is."""
        found = self.get(name)
        if found is None:
            raise KeyError(f"no {self.group} plug-in '{name}'; registered: {', '.join(self.names())}")
        return found

    def items(self) -> list[tuple[str, T]]:
        """Every plug-in, loaded, in ``names()`` order."""
        return [(n, self.load(n)) for n in self.names()]

    def clear(self) -> None:
        """Forget loaded plug-ins, the derived ones and the entry points (tests that install a plug-in call
        this)."""
        self._others = None
        self._loaded.clear()


def module_with(*names: str) -> Callable[[object], ModuleType]:
    """An ``accept`` for module plug-ins: the module, when it has every attribute of ``names``."""
    def accept(obj: object) -> ModuleType:
        if not isinstance(obj, ModuleType):
            raise TypeError("a module")
        missing = [n for n in names if not hasattr(obj, n)]
        if missing:
            raise TypeError(f"a module with {', '.join(names)} (it lacks {', '.join(missing)})")
        return obj
    return accept


def subclass_of(base: type[T]) -> Callable[[object], type[T]]:
    """An ``accept`` for class plug-ins: a subclass of ``base``."""
    def accept(obj: object) -> type[T]:
        if not (isinstance(obj, type) and issubclass(obj, base)):
            raise TypeError(f"a subclass of {base.__name__}")
        return obj
    return accept

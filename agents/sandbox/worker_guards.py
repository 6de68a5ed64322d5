"""Inside the worker: restricted builtins, the import allow-list and JSON-safety of returned values."""
from __future__ import annotations

# Stdlib only: loaded by the worker bootstrap as a top-level module.
import builtins
import sys
import types

try:  # inside the worker, this directory is on sys.path and `agents` is deliberately not importable
    from policy import ALLOWED_MODULES, INTERNAL_MODULES, SAFE_BUILTINS, is_forbidden_attr
except ImportError:  # on the host (tests)
    from agents.sandbox.policy import ALLOWED_MODULES, INTERNAL_MODULES, SAFE_BUILTINS, is_forbidden_attr

_SCALARS = frozenset({str, int, float, bool, type(None)})


class ForbiddenOperation(Exception):
    """The tool tried something the sandbox does not allow (reported as error kind 'forbidden')."""


class ForbiddenImport(ImportError, ForbiddenOperation):
    """The tool imported a module outside the allow-list."""


class HostCallError(Exception):
    """host_call failed: no handler on the host, or the handler raised."""


def _proxy(module: types.ModuleType, cache: dict[str, types.ModuleType]) -> types.ModuleType:
    """A read-only-in-spirit copy of a module: public names only, no other modules reachable."""
    name = module.__name__
    if name in cache:
        return cache[name]
    proxy = types.ModuleType(name, getattr(module, "__doc__", None))
    cache[name] = proxy
    for attr, value in vars(module).items():
        if attr.startswith("_"):
            continue
        if isinstance(value, types.ModuleType):
            # Only its own allow-listed submodules (collections.abc), never e.g. dataclasses.sys.
            if value.__name__.startswith(name + ".") and value.__name__ in sys.modules:
                setattr(proxy, attr, _proxy(value, cache))
            continue
        setattr(proxy, attr, value)
    return proxy


def make_import(cache: dict[str, types.ModuleType]):
    """An __import__ that serves only allow-listed, already-loaded modules, as proxies."""

    def guarded_import(name, globals=None, locals=None, fromlist=(), level=0):
        """Import `name` if the allow-list permits it."""
        top = name.partition(".")[0]
        if name in INTERNAL_MODULES and not level and name in sys.modules:
            return sys.modules[name]
        if level or top not in ALLOWED_MODULES:
            raise ForbiddenImport(f"import of {name!r} is not allowed in tools")
        module = sys.modules.get(name)
        if module is None:
            raise ForbiddenImport(f"module {name!r} is not available in the sandbox")
        if fromlist:
            return _proxy(module, cache)
        return _proxy(sys.modules[top], cache)

    return guarded_import


def _guarded_getattr(obj, name, *default):
    """getattr that refuses the same attributes the AST check refuses."""
    if isinstance(name, str) and is_forbidden_attr(name):
        raise ForbiddenOperation(f"attribute {name!r} is not allowed in tools")
    return getattr(obj, name, *default)


def _guarded_hasattr(obj, name):
    """hasattr with the getattr guard."""
    if isinstance(name, str) and is_forbidden_attr(name):
        raise ForbiddenOperation(f"attribute {name!r} is not allowed in tools")
    return hasattr(obj, name)


def restricted_builtins(host_call, module_cache: dict[str, types.ModuleType]) -> dict:
    """The builtins dict handed to checked code."""
    real = vars(builtins)
    safe = {name: real[name] for name in SAFE_BUILTINS if name in real}
    for name, value in real.items():
        if isinstance(value, type) and issubclass(value, BaseException):
            safe[name] = value
    safe["getattr"] = _guarded_getattr
    safe["hasattr"] = _guarded_hasattr
    safe["__import__"] = make_import(module_cache)
    # Class statements need the class builder; it cannot reach anything by itself.
    safe["__build_class__"] = real["__build_class__"]
    safe["host_call"] = host_call
    safe["HostCallError"] = HostCallError
    return safe


def json_safety_problem(value, depth: int = 0) -> str | None:
    """Why `value` is not JSON-safe (bytes, sets, objects, non-str keys, too deep), or None."""
    kind = type(value)
    if kind in _SCALARS:
        return None
    if depth > 100:
        return "value is nested more than 100 levels deep"
    if kind is list or kind is tuple:
        if value and type(value[0]) is str:
            try:
                "".join(value)  # C-speed proof that every item is a str: the common list-of-words case
                return None
            except TypeError:
                pass
        kinds = set(map(type, value))
        if kinds <= _SCALARS:
            return None
        for item in value:
            why = json_safety_problem(item, depth + 1)
            if why:
                return why
        return None
    if kind is dict:
        for key, item in value.items():
            if type(key) is not str:
                return f"dict key {key!r:.40} is not a string"
            why = json_safety_problem(item, depth + 1)
            if why:
                return why
        return None
    return f"a {kind.__name__} value is not JSON-safe; return str, int, float, bool, None, list or dict"

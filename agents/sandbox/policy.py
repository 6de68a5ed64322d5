"""What sandboxed code may import and touch: shared by the host's AST check and the worker's guards."""
from __future__ import annotations

# Stdlib only: this module is also loaded inside the isolated worker, outside the `agents` package.

ALLOWED_MODULES = frozenset({
    "re", "math", "itertools", "functools", "collections", "datetime", "string", "json",
    "fractions", "heapq", "bisect", "statistics", "decimal", "operator", "random", "typing",
    "dataclasses", "cmath", "copy", "enum", "textwrap", "unicodedata", "calendar", "numbers",
    "array",
})

# Stdlib helpers that C code of allowed modules imports lazily through the tool's own __import__
# (datetime.strptime -> _strptime); served as-is because the C caller needs their private names.
INTERNAL_MODULES = frozenset({"_strptime", "time"})

# Loaded in the worker before it locks its filesystem view, because imports cannot open files later.
PRELOAD_MODULES = tuple(sorted(ALLOWED_MODULES)) + (
    "collections.abc", "_strptime", "encodings.latin_1", "encodings.ascii", "encodings.utf_16",
    "encodings.utf_32", "encodings.cp1252", "encodings.unicode_escape", "encodings.raw_unicode_escape",
    "traceback", "linecache", "json.decoder", "json.encoder",
)

# Attributes that reach frames, code objects or globals: the classic escape routes of in-process sandboxes.
FORBIDDEN_ATTRS = frozenset({
    "gi_frame", "gi_code", "gi_yieldfrom", "cr_frame", "cr_code", "cr_await", "ag_frame", "ag_code",
    "ag_await", "f_globals", "f_locals", "f_builtins", "f_back", "f_code", "f_trace", "tb_frame",
    "tb_next", "co_code", "co_consts", "func_globals", "func_code", "mro",
})

# Dunder attributes that ordinary classes use and that lead nowhere dangerous on their own.
SAFE_DUNDER_ATTRS = frozenset({
    "__init__", "__name__", "__qualname__", "__doc__", "__len__", "__iter__", "__next__",
    "__contains__", "__getitem__", "__setitem__", "__delitem__", "__eq__", "__ne__", "__lt__",
    "__le__", "__gt__", "__ge__", "__hash__", "__repr__", "__str__", "__add__", "__sub__",
    "__mul__", "__truediv__", "__floordiv__", "__mod__", "__neg__", "__bool__", "__post_init__",
    "__enter__", "__exit__", "__call__", "__format__", "__slots__", "__annotations__",
})

# Names that hand out the interpreter itself (builtins, importer, reflection, code execution, files).
FORBIDDEN_NAMES = frozenset({
    "__builtins__", "__import__", "__loader__", "__spec__", "__build_class__", "__file__",
    "__cached__", "__package__", "__path__", "eval", "exec", "compile", "open", "globals", "locals",
    "vars", "breakpoint", "input", "help", "exit", "quit", "memoryview", "copyright", "credits",
    "license", "delattr", "setattr",
})

# Builtins handed to checked code: the forbidden names above are simply absent.
SAFE_BUILTINS = (
    "abs", "all", "any", "ascii", "bin", "bool", "bytearray", "bytes", "callable", "chr",
    "classmethod", "complex", "dict", "dir", "divmod", "enumerate", "filter", "float", "format",
    "frozenset", "getattr", "hasattr", "hash", "hex", "id", "int", "isinstance", "issubclass",
    "iter", "len", "list", "map", "max", "min", "next", "object", "oct", "ord", "pow", "print",
    "property", "range", "repr", "reversed", "round", "set", "slice", "sorted", "staticmethod",
    "str", "sum", "super", "tuple", "type", "zip", "aiter", "anext", "NotImplemented", "Ellipsis",
    "None", "True", "False",
)


def is_forbidden_attr(name: str) -> bool:
    """True when reading attribute `name` could lead out of the tool's own objects."""
    if name in FORBIDDEN_ATTRS:
        return True
    return name.startswith("__") and name not in SAFE_DUNDER_ATTRS

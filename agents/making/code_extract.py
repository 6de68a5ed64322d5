"""Pull a Python function out of a model's reply, tolerating the usual chat formatting."""
from __future__ import annotations

import ast

from agents.llm.reply_code import code_blocks, parseable_prefix


class CodeExtractionError(ValueError):
    """The reply holds no usable definition of the requested function."""


def extract_function(reply: str, entry: str) -> str:
    """Return the source of the first code block (or the bare reply) that defines `entry`."""
    last_error = f"no function named {entry!r} in the reply"
    for block in code_blocks(reply):
        source = parseable_prefix(block)
        if source is None:
            last_error = "the code does not parse as Python"
            continue
        tree = ast.parse(source)
        if any(isinstance(n, ast.FunctionDef) and n.name == entry for n in tree.body):
            return _drop_script_tail(tree, source)
    raise CodeExtractionError(last_error)


def _drop_script_tail(tree: ast.Module, source: str) -> str:
    """Keep imports, definitions and constants; drop example calls and prints the model added."""
    kept = [
        node for node in tree.body
        if isinstance(node, (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.ClassDef, ast.Assign,
                             ast.AnnAssign))
        or (isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant))
    ]
    lines = source.splitlines()
    return "\n".join("\n".join(lines[n.lineno - 1:n.end_lineno]) for n in kept) + "\n"


def function_signature(source: str, entry: str) -> str:
    """The entry function's signature as text, e.g. 'solve(question: str) -> str'."""
    node = _function_def(ast.parse(source), entry)
    if node is None:
        raise CodeExtractionError(f"no function named {entry!r}")
    returns = f" -> {ast.unparse(node.returns)}" if node.returns else ""
    return f"{entry}({ast.unparse(node.args)}){returns}"


def function_docstring(source: str, entry: str) -> str:
    """The entry function's docstring, or empty."""
    node = _function_def(ast.parse(source), entry)
    return (ast.get_docstring(node) or "") if node is not None else ""


def _function_def(tree: ast.Module, entry: str) -> ast.FunctionDef | None:
    """The top-level definition of function `entry`, if any."""
    return next((node for node in tree.body
                 if isinstance(node, ast.FunctionDef) and node.name == entry), None)


def _parsed_function(source: str, entry: str) -> ast.FunctionDef | None:
    """Function `entry` of source that may not parse (None then, or when it is absent)."""
    try:
        return _function_def(ast.parse(source), entry)
    except SyntaxError:
        return None


# Standard modules small models use without importing them; the fix is mechanical, so it is made.
_AUTO_IMPORTS = ("re", "math", "itertools", "collections", "string", "functools", "heapq",
                 "datetime", "statistics", "fractions")

# Names they use bare, as if imported from their module (`gcd(a, b)`, `reduce(...)`).
_AUTO_NAMES = {name: module for module, names in (
    ("math", "gcd lcm prod sqrt isqrt floor ceil comb factorial"),
    ("functools", "reduce lru_cache cache"),
    ("itertools", "permutations combinations product accumulate"),
    ("collections", "Counter defaultdict deque OrderedDict"),
    ("fractions", "Fraction"),
) for name in names.split()}


def add_missing_imports(source: str) -> str:
    """Prepend imports for standard modules the code uses (as `re.sub`, ...) and for well-known
    names it uses bare (`gcd`), but never imports."""
    tree = ast.parse(source)
    bound = {alias.asname or alias.name.split(".")[0]
             for node in ast.walk(tree) if isinstance(node, (ast.Import, ast.ImportFrom))
             for alias in node.names}
    bound |= {node.id for node in ast.walk(tree)
              if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store)}
    bound |= {node.arg for node in ast.walk(tree) if isinstance(node, ast.arg)}
    used = {node.value.id for node in ast.walk(tree)
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)}
    missing = sorted(name for name in used - bound if name in _AUTO_IMPORTS)
    named = {node.id for node in ast.walk(tree) if isinstance(node, ast.Name)} - bound
    bare = sorted(name for name in named if name in _AUTO_NAMES)
    return ("".join(f"import {name}\n" for name in missing) +
            "".join(f"from {_AUTO_NAMES[name]} import {name}\n" for name in bare) + source)


def unused_parameters(source: str, entry: str) -> list[tuple[int, str]]:
    """The named parameters of function `entry` that its body never reads, as (position, name)."""
    node = _parsed_function(source, entry)
    if node is None:
        return []
    names = [a.arg for a in node.args.posonlyargs + node.args.args + node.args.kwonlyargs]
    read = {n.id for stmt in node.body for n in ast.walk(stmt) if isinstance(n, ast.Name)}
    return [(i, name) for i, name in enumerate(names) if name not in read]


def returned_constants(source: str, entry: str) -> list[str]:
    """The literals function `entry` returns as they are (`return ']]>'`), as text, in order."""
    node = _parsed_function(source, entry)
    if node is None:
        return []
    returns = sorted((n for n in ast.walk(node) if isinstance(n, ast.Return)
                      and isinstance(n.value, ast.Constant)), key=lambda n: n.lineno)
    return [str(n.value.value) for n in returns
            if isinstance(n.value.value, (str, int, float)) and not isinstance(n.value.value, bool)]

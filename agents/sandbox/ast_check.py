"""Cheap early reject of obviously abusive tool code (not the security boundary: the worker process is)."""
from __future__ import annotations

import ast
import hashlib
import re

from agents.sandbox.policy import ALLOWED_MODULES, FORBIDDEN_NAMES, is_forbidden_attr
from agents.sandbox.results import ForbiddenCode

MAX_CODE_CHARS = 200_000
# A format string such as "{0.__class__}" walks attributes without any attribute node in the AST.
_FORMAT_WALK = re.compile(r"\{[^{}]*[.\[]\s*(__\w+|gi_\w+|f_\w+|tb_\w+|cr_\w+|ag_\w+)")
_CACHE: dict[str, str | None] = {}
_CACHE_LIMIT = 4096


class _Checker(ast.NodeVisitor):
    """Walks a module and records the first forbidden construct with its line."""

    def __init__(self) -> None:
        self.imported: set[str] = set()

    def fail(self, node: ast.AST, why: str) -> None:
        """Raise ForbiddenCode naming the line and the fix."""
        line = getattr(node, "lineno", "?")
        raise ForbiddenCode(f"line {line}: {why}")

    def visit_Import(self, node: ast.Import) -> None:
        """Only allow-listed modules may be imported."""
        for alias in node.names:
            self._check_module(node, alias.name)
            self.imported.add((alias.asname or alias.name).partition(".")[0])

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        """No relative imports; the module must be allow-listed; no star imports."""
        if node.level:
            self.fail(node, "relative imports are not allowed; import a stdlib module from the allow-list")
        self._check_module(node, node.module or "")
        for alias in node.names:
            if alias.name == "*":
                self.fail(node, "`import *` is not allowed; import the names you use")
            self.imported.add(alias.asname or alias.name)

    def _check_module(self, node: ast.AST, name: str) -> None:
        """Reject modules outside the allow-list."""
        if name.partition(".")[0] not in ALLOWED_MODULES:
            allowed = ", ".join(sorted(ALLOWED_MODULES))
            self.fail(node, f"import of {name!r} is not allowed; use only: {allowed}")

    def visit_Name(self, node: ast.Name) -> None:
        """Reflection, code execution and file access builtins are not available."""
        if node.id in FORBIDDEN_NAMES:
            self.fail(node, f"name {node.id!r} is not available in tools; compute the result directly")

    def visit_Attribute(self, node: ast.Attribute) -> None:
        """No dunder or frame attributes; no monkeypatching of imported modules."""
        self.generic_visit(node)  # inner attributes first, so the message names the first one in the chain
        if is_forbidden_attr(node.attr):
            self.fail(node, f"attribute {node.attr!r} is not allowed (it reaches interpreter internals)")
        if isinstance(node.ctx, (ast.Store, ast.Del)) and isinstance(node.value, ast.Name) \
                and node.value.id in self.imported:
            self.fail(node, f"assigning to {node.value.id}.{node.attr} would change a shared module; "
                            "use a local variable")

    def visit_Constant(self, node: ast.Constant) -> None:
        """Format strings must not walk into dunder or frame attributes."""
        if isinstance(node.value, str) and "{" in node.value and _FORMAT_WALK.search(node.value):
            self.fail(node, "format strings may not reach dunder or frame attributes")

    def visit_Global(self, node: ast.Global) -> None:
        """Globals are fine, but not the forbidden names."""
        for name in node.names:
            if name in FORBIDDEN_NAMES:
                self.fail(node, f"name {name!r} is not available in tools")

    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
        """Parameters may not shadow forbidden names (they would hide a later check)."""
        self._check_args(node.args, node)
        self.generic_visit(node)

    visit_AsyncFunctionDef = visit_FunctionDef  # type: ignore[assignment]

    def visit_Lambda(self, node: ast.Lambda) -> None:
        """Same parameter rule for lambdas."""
        self._check_args(node.args, node)
        self.generic_visit(node)

    def _check_args(self, args: ast.arguments, node: ast.AST) -> None:
        """Reject parameters named like forbidden builtins."""
        every = args.posonlyargs + args.args + args.kwonlyargs + [a for a in (args.vararg, args.kwarg) if a]
        for arg in every:
            if arg.arg in FORBIDDEN_NAMES:
                self.fail(node, f"parameter {arg.arg!r} shadows a forbidden name; rename it")


def code_hash(code: str) -> str:
    """Content hash used to cache checks and compiled tools."""
    return hashlib.sha256(code.encode("utf-8", "surrogatepass")).hexdigest()


def check_code(code: str) -> None:
    """Raise ForbiddenCode if `code` does not parse or uses a forbidden construct; cached by content."""
    key = code_hash(code)
    if key in _CACHE:
        why = _CACHE[key]
        if why is not None:
            raise ForbiddenCode(why)
        return
    why = _first_problem(code)
    if len(_CACHE) >= _CACHE_LIMIT:
        _CACHE.clear()
    _CACHE[key] = why
    if why is not None:
        raise ForbiddenCode(why)


def _first_problem(code: str) -> str | None:
    """The reason the code is refused, or None."""
    if not isinstance(code, str):
        return "code must be a string of Python source"
    if len(code) > MAX_CODE_CHARS:
        return f"code is {len(code)} characters; the limit is {MAX_CODE_CHARS}"
    try:
        tree = ast.parse(code, mode="exec")
    except SyntaxError as exc:
        return f"line {exc.lineno}: syntax error: {exc.msg}"
    except (ValueError, RecursionError, MemoryError) as exc:
        return f"code cannot be parsed: {type(exc).__name__}"
    try:
        _Checker().visit(tree)
    except ForbiddenCode as exc:
        return str(exc)
    except RecursionError:
        return "code is nested too deeply to check"
    return None

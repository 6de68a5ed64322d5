"""AST transform: every statement that raises hands itself to the host (`host_call`) and goes on.

Simple statements are wrapped in try/except; on an exception the worker sends the site id, the
error and a JSON-safe snapshot of the visible state, and applies the reply. Expressions whose
value is needed (assignment right-hand sides, if/while tests, for iterables, return values) are
evaluated through `coc_value`, so the LM is asked for a value rather than a state dict. Inside
functions locals cannot be written through frames, so the handler assigns each assignable name
explicitly; names it can only reach (e.g. a global list) are updated in place.
"""
from __future__ import annotations

import ast
from dataclasses import dataclass, field
from typing import Literal

from agents.lmulator.errors import ProgramError
from agents.lmulator.helper_calls import HelperCalls
from agents.lmulator.scopes import (
    Scope, function_scope, has_scope_sensitive_nodes, helper_names, module_scope,
    mutated_receivers, scope_bindings, statement_names,
)
from agents.lmulator.state import RESERVED_PREFIX
from agents.lmulator.worker_runtime import RUNTIME_SOURCE

ENTRY = "coc_main"
SiteMode = Literal["value", "state"]
STATE_STATEMENTS = (ast.Assign, ast.AugAssign, ast.AnnAssign, ast.Expr, ast.Delete)


@dataclass(frozen=True)
class Site:
    """A place in the program the LM may be asked to simulate."""

    id: int
    line: int
    text: str                      # the statement (or header) as written
    mode: SiteMode                 # "value": give an expression's value; "state": give updates
    kind: str                      # assign, expr, if, while, for, return, ...
    scope: str                     # "<module>" or the enclosing function's name
    expr: str | None = None        # value mode: the expression to evaluate
    expr_name: str | None = None   # call sites: the helper's name
    assignable: tuple[str, ...] = ()  # state mode: names the worker rebinds
    inplace: tuple[str, ...] = ()     # state mode: names the worker can only mutate in place

    @property
    def allowed(self) -> tuple[str, ...]:
        """Every name an LM update may set at this site."""
        return self.assignable + self.inplace


@dataclass
class TransformedProgram:
    """The generated program plus the site table the host needs to answer call-backs."""

    source: str
    code: str
    entry: str = ENTRY
    sites: dict[int, Site] = field(default_factory=dict)
    module_names: list[str] = field(default_factory=list)

    def line_text(self, line: int) -> str:
        """One line of the original program."""
        lines = self.source.splitlines()
        return lines[line - 1] if 0 < line <= len(lines) else ""


def transform_program(source: str, *, answer_var: str = "answer", tool_entry: str | None = None,
                      max_trace: int = 300, value_chars: int = 200,
                      state_chars: int = 6000) -> TransformedProgram:
    """Transform a program (or, with tool_entry, a tool module) for interweaved execution."""
    try:
        tree = ast.parse(source)
    except SyntaxError as exc:
        raise ProgramError(f"the program does not parse (line {exc.lineno}: {exc.msg}): "
                           "fix the syntax; undefined helper calls are fine, invalid Python is "
                           "not") from None
    check_reserved(tree)
    builder = Builder(source, helper_names(tree, {"print", "host_call"}))
    scope = module_scope(tree.body)
    body = [s for s in tree.body if not isinstance(s, ast.Global)]
    new_body = builder.block(body, [scope], wrap=True)
    finish = (f"return coc_finish_tool({tool_entry}(*coc_args))" if tool_entry
              else f"return coc_finish(coc_vis, {answer_var!r})")
    head = [f"global {', '.join(scope.assignable)}"] if scope.assignable else []
    helper_sites = {i: s.expr_name for i, s in builder.sites.items() if s.kind == "call"}
    head += [f"coc_reset({max_trace}, {value_chars}, {state_chars}, {helper_sites!r})",
             getters_source(scope.visible)]
    main = ast.parse(f"def {ENTRY}(coc_args):\n" + "".join(f"    {h}\n" for h in head)
                     + f"    pass\n    {finish}\n").body[0]
    main.body = main.body[:-2] + new_body + [main.body[-1]]
    module = ast.Module(body=[main, module_setter(scope.assignable)], type_ignores=[])
    code = RUNTIME_SOURCE + "\n\n" + ast.unparse(ast.fix_missing_locations(module)) + "\n"
    return TransformedProgram(source=source, code=code, sites=builder.sites,
                              module_names=scope.assignable)


def check_reserved(tree: ast.AST) -> None:
    """Refuse programs that use the transform's reserved names or star imports."""
    for node in ast.walk(tree):
        name = (node.id if isinstance(node, ast.Name) else node.arg if isinstance(node, ast.arg)
                else getattr(node, "name", None) if isinstance(
                    node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) else None)
        if isinstance(name, str) and name.startswith(RESERVED_PREFIX):
            raise ProgramError(f"the name {name!r} is reserved for the LMulator (prefix "
                               f"{RESERVED_PREFIX!r}): rename it")
        if isinstance(node, ast.Name) and node.id == "host_call":
            raise ProgramError("`host_call` is the sandbox's call-back channel and is reserved "
                               "for the LMulator: rename it")
        if isinstance(node, ast.ImportFrom) and any(a.name == "*" for a in node.names):
            raise ProgramError("`from ... import *` cannot run inside the LMulator: import "
                               "the names you use explicitly")


def module_setter(names: list[str]) -> ast.stmt:
    """`coc_set_module(updates)`: rebinds the program's module-level names from LM updates."""
    lines = [f"global {', '.join(names)}"] if names else []
    lines += [f"if {n!r} in coc_u:\n        {n} = coc_u[{n!r}]" for n in names] or ["pass"]
    return ast.parse("def coc_set_module(coc_u):\n" + "".join(f"    {x}\n" for x in lines)).body[0]


def cannot_raise(expr: ast.expr) -> bool:
    """True for literals and displays of literals, which need no simulation."""
    if isinstance(expr, ast.Constant):
        return True
    if isinstance(expr, (ast.List, ast.Tuple, ast.Set)):
        return all(cannot_raise(e) for e in expr.elts)
    if isinstance(expr, ast.Dict):
        return all(k is not None and cannot_raise(k) and cannot_raise(v)
                   for k, v in zip(expr.keys, expr.values))
    return False


def getters_source(names: list[str]) -> str:
    """`coc_vis = {...}`: one getter per visible name, so snapshots read live values."""
    items = ", ".join(f"{n!r}: (lambda: {n})" for n in names)
    return f"coc_vis = {{{items}}}"


class Builder:
    """Rewrites statement blocks and records a Site for every wrapped statement or expression."""

    def __init__(self, source: str, helpers: set[str]) -> None:
        self.source = source
        self.lines = source.splitlines()
        self.helpers = helpers
        self.sites: dict[int, Site] = {}

    def helper_calls(self, stmt: ast.stmt, node: ast.AST, scope: Scope) -> ast.AST:
        """Route calls of undefined helpers in `node` through coc_helper (LM answers the call)."""
        return HelperCalls(self, stmt, scope).visit(node) if self.helpers else node  # type: ignore[arg-type]

    def new_site(self, node: ast.AST, **fields: object) -> Site:
        """Register a site for a node."""
        line = getattr(node, "lineno", 0)
        if isinstance(node, (ast.If, ast.While, ast.For, ast.AsyncFor)):
            text = self.lines[line - 1].strip() if 0 < line <= len(self.lines) else ""
        else:
            text = (ast.get_source_segment(self.source, node) or ast.unparse(node)).strip()
        site = Site(id=len(self.sites), line=line, text=text[:500], **fields)  # type: ignore[arg-type]
        self.sites[site.id] = site
        return site

    def block(self, stmts: list[ast.stmt], scopes: list[Scope], wrap: bool) -> list[ast.stmt]:
        """Rewrite a list of statements in the innermost of `scopes`."""
        out: list[ast.stmt] = []
        for stmt in stmts:
            out.extend(self.statement(stmt, scopes, wrap))
        return out or [ast.Pass()]

    def statement(self, stmt: ast.stmt, scopes: list[Scope], wrap: bool) -> list[ast.stmt]:
        """Rewrite one statement; compound statements recurse into their blocks."""
        scope = scopes[-1]
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
            return [self.function(stmt, scopes)]
        if isinstance(stmt, ast.ClassDef):
            stmt.body = [self.function(s, scopes) if isinstance(
                s, (ast.FunctionDef, ast.AsyncFunctionDef)) else s for s in stmt.body]
            return [stmt]
        if isinstance(stmt, (ast.Global, ast.Nonlocal)):
            return []  # hoisted to the top of the function by self.function
        if isinstance(stmt, (ast.If, ast.While)):
            stmt.test = self.helper_calls(stmt, stmt.test, scope)
        elif isinstance(stmt, (ast.For, ast.AsyncFor)):
            stmt.iter = self.helper_calls(stmt, stmt.iter, scope)
        elif isinstance(stmt, STATE_STATEMENTS + (ast.Return,)):
            stmt = self.helper_calls(stmt, stmt, scope)
        if isinstance(stmt, ast.If):
            stmt.test = self.value(stmt, stmt.test, scope, "if", wrap, mark=True)
            stmt.body = self.block(stmt.body, scopes, wrap)
            stmt.orelse = self.block(stmt.orelse, scopes, wrap) if stmt.orelse else []
            return [stmt]
        if isinstance(stmt, ast.While):
            stmt.test = self.value(stmt, stmt.test, scope, "while", wrap, mark=True)
            stmt.body = self.block(stmt.body, scopes, wrap)
            stmt.orelse = self.block(stmt.orelse, scopes, wrap) if stmt.orelse else []
            return [stmt]
        if isinstance(stmt, (ast.For, ast.AsyncFor)):
            stmt.iter = self.value(stmt, stmt.iter, scope, "for", wrap, mark=True)
            stmt.body = self.block(stmt.body, scopes, wrap)
            stmt.orelse = self.block(stmt.orelse, scopes, wrap) if stmt.orelse else []
            return [stmt]
        if isinstance(stmt, (ast.With, ast.AsyncWith)):
            stmt.body = self.block(stmt.body, scopes, wrap)
            return [stmt]
        if isinstance(stmt, (ast.Try, getattr(ast, "TryStar", ast.Try))):
            # The program's own handlers must see its exceptions, so the try body is not wrapped.
            stmt.body = self.block(stmt.body, scopes, wrap=False)
            for handler in stmt.handlers:
                handler.body = self.block(handler.body, scopes, wrap)
            stmt.orelse = self.block(stmt.orelse, scopes, wrap) if stmt.orelse else []
            stmt.finalbody = self.block(stmt.finalbody, scopes, wrap) if stmt.finalbody else []
            return [stmt]
        if isinstance(stmt, ast.Match):
            for case in stmt.cases:
                case.body = self.block(case.body, scopes, wrap)
            return [stmt]
        if isinstance(stmt, ast.Return) and stmt.value is not None:
            stmt.value = self.value(stmt, stmt.value, scope, "return", wrap, mark=True)
            return [stmt]
        if wrap and isinstance(stmt, STATE_STATEMENTS) and not is_docstring(stmt):
            return [self.state_wrap(stmt, scope)]
        return [stmt]

    def function(self, node: ast.FunctionDef | ast.AsyncFunctionDef,
                 scopes: list[Scope]) -> ast.FunctionDef | ast.AsyncFunctionDef:
        """Rewrite a function body in its own scope, hoisting its global/nonlocal declarations."""
        scope = function_scope(node, scopes)
        found = scope_bindings(node.body)
        declarations: list[ast.stmt] = []
        if found.globals_:
            declarations.append(ast.Global(names=sorted(found.globals_)))
        if found.nonlocals:
            declarations.append(ast.Nonlocal(names=sorted(found.nonlocals)))
        docstring = node.body[:1] if is_docstring(node.body[0]) else []
        rest = node.body[len(docstring):]
        body = self.block(rest, scopes + [scope], wrap=True) if rest else []
        node.body = (docstring + declarations
                     + [ast.parse(getters_source(scope.visible)).body[0]] + body)
        return node

    def value(self, stmt: ast.stmt, expr: ast.expr, scope: Scope, kind: str, wrap: bool,
              mark: bool) -> ast.expr:
        """`coc_value(site, lambda: expr, coc_vis, mark)`, or expr unchanged when unsafe."""
        if not wrap or cannot_raise(expr) or has_scope_sensitive_nodes(expr):
            return expr
        text = ast.get_source_segment(self.source, expr) or ast.unparse(expr)
        site = self.new_site(stmt, mode="value", kind=kind, scope=scope.name, expr=text)
        call = ast.parse(f"coc_value({site.id}, lambda: None, coc_vis, {mark})",
                         mode="eval").body
        call.args[1].body = expr  # type: ignore[attr-defined]
        return call

    def state_wrap(self, stmt: ast.stmt, scope: Scope) -> ast.stmt:
        """try: stmt / except: ask the LM for the state change and apply it / else: trace it."""
        bound, loaded = statement_names(stmt)
        receivers = mutated_receivers(stmt)
        if isinstance(stmt, (ast.Assign, ast.AnnAssign, ast.AugAssign)) and stmt.value is not None:
            kind = "assign" if not isinstance(stmt, ast.AugAssign) else "augassign"
            stmt.value = self.value(stmt, stmt.value, scope, kind, True, mark=False)
        assignable = tuple(dict.fromkeys(
            [n for n in bound + loaded if n in scope.assignable] + scope.assignable))
        inplace = tuple(n for n in dict.fromkeys(receivers + loaded)
                        if n not in assignable and n in scope.visible)
        site = self.new_site(stmt, mode="state", kind=type(stmt).__name__.lower(),
                             scope=scope.name, assignable=assignable, inplace=inplace)
        touched = tuple(dict.fromkeys(bound + receivers))
        handler = [f"coc_u = coc_ask({site.id}, 'state', coc_err, coc_vis)"]
        if scope.is_module:
            # Module names are globals: one shared setter instead of an `if` per name per site.
            handler.append("coc_set_module(coc_u)")
        else:
            handler += [f"if {n!r} in coc_u:\n        {n} = coc_u[{n!r}]" for n in assignable]
        handler += [f"if {n!r} in coc_u:\n        coc_inplace({n}, coc_u[{n!r}])" for n in inplace]
        template = ("try:\n    pass\nexcept (MemoryError, RecursionError):\n    raise\n"
                    "except Exception as coc_err:\n"
                    + "".join(f"    {h}\n" for h in handler)
                    + f"else:\n    coc_ok({site.id}, coc_vis, {touched!r})\n")
        wrapper = ast.parse(template).body[0]
        wrapper.body = [stmt]  # type: ignore[attr-defined]
        return wrapper


def is_docstring(stmt: ast.stmt) -> bool:
    """True for a bare string constant statement."""
    return (isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant)
            and isinstance(stmt.value.value, str))

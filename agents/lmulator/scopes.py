"""Static scope analysis for the transform: which names a scope binds and which a statement touches."""
from __future__ import annotations

import ast
from dataclasses import dataclass, field

NESTED_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda,
                 ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)


@dataclass
class Scope:
    """One function (or the module) as the transform sees it."""

    name: str
    assignable: list[str]          # names a plain assignment in this scope may rebind
    visible: list[str]             # names whose values a snapshot may show
    is_module: bool = False
    declarations: list[ast.stmt] = field(default_factory=list)  # hoisted global/nonlocal


@dataclass
class Bindings:
    """Names bound in one scope's own code, plus its global/nonlocal declarations."""

    bound: set[str] = field(default_factory=set)
    globals_: set[str] = field(default_factory=set)
    nonlocals: set[str] = field(default_factory=set)


def scope_bindings(body: list[ast.stmt]) -> Bindings:
    """Collect the names a block of statements binds, without entering nested scopes."""
    found = Bindings()

    def visit(node: ast.AST) -> None:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            found.bound.add(node.name)
            return
        if isinstance(node, NESTED_SCOPES):
            return
        if isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
            found.bound.add(node.id)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            for alias in node.names:
                if alias.name != "*":
                    found.bound.add(alias.asname or alias.name.split(".")[0])
        elif isinstance(node, ast.ExceptHandler) and node.name:
            found.bound.add(node.name)
        elif isinstance(node, (ast.MatchAs, ast.MatchStar)) and node.name:
            found.bound.add(node.name)
        elif isinstance(node, ast.MatchMapping) and node.rest:
            found.bound.add(node.rest)
        elif isinstance(node, ast.Global):
            found.globals_.update(node.names)
        elif isinstance(node, ast.Nonlocal):
            found.nonlocals.update(node.names)
        for child in ast.iter_child_nodes(node):
            visit(child)

    for stmt in body:
        visit(stmt)
    return found


def argument_names(args: ast.arguments) -> list[str]:
    """Every parameter name of a function signature."""
    names = [a.arg for a in args.posonlyargs + args.args + args.kwonlyargs]
    if args.vararg:
        names.append(args.vararg.arg)
    if args.kwarg:
        names.append(args.kwarg.arg)
    return names


def module_scope(body: list[ast.stmt]) -> Scope:
    """The program's module level; its names become globals of the generated main function."""
    names = sorted(scope_bindings(body).bound)
    return Scope(name="<module>", assignable=names, visible=names, is_module=True)


def function_scope(node: ast.FunctionDef | ast.AsyncFunctionDef, outer: list[Scope]) -> Scope:
    """A function's scope: its own assignable names plus what enclosing scopes make visible."""
    found = scope_bindings(node.body)
    params = argument_names(node.args)
    own = [n for n in dict.fromkeys(params + sorted(found.bound))
           if n not in found.globals_ and n not in found.nonlocals]
    assignable = own + sorted(found.globals_ | found.nonlocals)
    visible = list(assignable)
    for scope in reversed(outer):
        visible += [n for n in scope.visible if n not in visible]
    return Scope(name=node.name, assignable=assignable, visible=visible)


def statement_names(stmt: ast.stmt) -> tuple[list[str], list[str]]:
    """(names the statement binds, names it loads), not entering nested scopes."""
    bound: list[str] = []
    loaded: list[str] = []

    def visit(node: ast.AST) -> None:
        if isinstance(node, NESTED_SCOPES) and node is not stmt:
            return
        if isinstance(node, ast.Name):
            target = bound if isinstance(node.ctx, (ast.Store, ast.Del)) else loaded
            if node.id not in target:
                target.append(node.id)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(stmt)
    return bound, loaded


def mutated_receivers(stmt: ast.stmt) -> list[str]:
    """Names whose objects a statement mutates in place: `xs.append(..)`, `d[k] = ..`, `xs += ..`."""
    names: list[str] = []
    targets: list[ast.AST] = []
    if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call):
        targets.append(stmt.value.func)
    elif isinstance(stmt, (ast.Assign, ast.AugAssign, ast.AnnAssign, ast.Delete)):
        targets += stmt.targets if isinstance(stmt, (ast.Assign, ast.Delete)) else [stmt.target]
    for node in targets:
        while isinstance(node, (ast.Attribute, ast.Subscript)):
            node = node.value
        if isinstance(node, ast.Name) and node.id not in names:
            names.append(node.id)
    return names


def has_scope_sensitive_nodes(expr: ast.AST) -> bool:
    """True when moving an expression into a lambda would change its meaning."""
    # Zero-argument super() needs the method's own frame.
    return any(isinstance(n, (ast.Yield, ast.YieldFrom, ast.Await, ast.NamedExpr))
               or (isinstance(n, ast.Name) and n.id == "super") for n in ast.walk(expr))


def program_bound_names(tree: ast.AST) -> set[str]:
    """Every name bound anywhere in the program (any scope), including parameters and imports."""
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
            names.add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.arg):
            names.add(node.arg)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names.update(a.asname or a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ExceptHandler) and node.name:
            names.add(node.name)
    return names


def helper_names(tree: ast.AST, known: set[str]) -> set[str]:
    """Names the program calls but never binds and that are not builtins: semantic helpers."""
    import builtins

    bound = program_bound_names(tree) | known
    return {n.func.id for n in ast.walk(tree)
            if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)
            and n.func.id not in bound and not hasattr(builtins, n.func.id)}

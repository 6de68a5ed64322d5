"""Rewrite calls of semantic helpers (called, never defined) so the LM answers the call itself."""
from __future__ import annotations

import ast
from typing import Any

from agents.lmulator.scopes import Scope


class HelperCalls(ast.NodeTransformer):
    """Rewrites `helper(a, k=b)` into `coc_helper(site, lambda: helper, [a], {'k': b}, coc_vis)`."""

    def __init__(self, builder: Any, stmt: ast.stmt, scope: Scope) -> None:
        self.builder, self.stmt, self.scope = builder, stmt, scope

    def visit_Call(self, node: ast.Call) -> ast.AST:
        """Wrap calls of undefined helpers (innermost first); leave other calls alone."""
        text = ast.get_source_segment(self.builder.source, node) or ast.unparse(node)
        self.generic_visit(node)
        func = node.func
        if not (isinstance(func, ast.Name) and func.id in self.builder.helpers):
            return node
        if any(isinstance(a, ast.Starred) for a in node.args) or any(
                k.arg is None for k in node.keywords):
            return node  # *args/**kwargs: left to the statement-level fallback
        site = self.builder.new_site(self.stmt, mode="value", kind="call",
                                     scope=self.scope.name, expr=text, expr_name=func.id)
        call = ast.parse(f"coc_helper({site.id}, lambda: {func.id}, [], {{}}, coc_vis)",
                         mode="eval").body
        call.args[2].elts = list(node.args)  # type: ignore[attr-defined]
        call.args[3].keys = [ast.Constant(k.arg) for k in node.keywords]  # type: ignore[attr-defined]
        call.args[3].values = [k.value for k in node.keywords]  # type: ignore[attr-defined]
        return call

    def visit_FunctionDef(self, node: ast.FunctionDef) -> ast.AST:
        """Nested function bodies are handled by the builder in their own scope."""
        return node

    visit_AsyncFunctionDef = visit_FunctionDef  # type: ignore[assignment]
    visit_ClassDef = visit_FunctionDef  # type: ignore[assignment]

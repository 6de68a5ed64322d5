"""Solving new-task requests without a tool: direct answer, chain of thought, Chain of Code."""

"""Factor the fixed wording out of a task's questions, so a model only writes the core computation.

Questions of one kind often share a fixed frame ("Sort the following words alphabetically: List:
...") around the part that varies. A small model that cannot write the parsing for the whole
question can still write the computation over the varying part; the system supplies the frame
and an input adapter (the raw text or its whitespace-split words), and the verifier decides
whether the result generalises, like any other candidate.
"""
from __future__ import annotations

import ast
import os
import re
from dataclasses import dataclass

# How the varying part is handed to the model's function, and the parameter the prompt names.
ADAPTERS = {"words": ("words: list[str]", "text.split()"), "text": ("text: str", "text")}

_TRAILING_LABEL = re.compile(r"(?:\s*\b[A-Z][A-Za-z]*:)+\s*$")
CORE_NAME = "core_solve"


@dataclass(frozen=True)
class TaskTemplate:
    """The fixed prefix and suffix of a task's questions, and the instruction the prefix states."""

    prefix: str
    suffix: str
    instruction: str

    def varying_part(self, question: str) -> str:
        """The question without its fixed frame (unchanged when the frame is absent)."""
        text = question[len(self.prefix):] if question.startswith(self.prefix) else question
        if self.suffix and text.endswith(self.suffix):
            text = text[:-len(self.suffix)]
        return text.strip()

    def wrap(self, core_code: str, adapter: str, entry: str = "solve") -> str:
        """A self-contained `solve(question)` tool around the model's core function."""
        call = ADAPTERS[adapter][1]
        return (f"{_rename(core_code, entry, CORE_NAME)}\n"
                f"PREFIX = {self.prefix!r}\nSUFFIX = {self.suffix!r}\n\n\n"
                f"def solve(question: str) -> str:\n"
                f"    {self.instruction!r}\n"
                f"    text = question[len(PREFIX):] if question.startswith(PREFIX) else question\n"
                f"    if SUFFIX and text.endswith(SUFFIX):\n"
                f"        text = text[:-len(SUFFIX)]\n"
                f"    text = text.strip()\n"
                f"    return {CORE_NAME}({call})\n")


def find_template(questions: list[str], min_instruction_words: int = 3) -> TaskTemplate | None:
    """The shared frame of the questions, or None when they share no instruction worth naming."""
    if len(questions) < 2:
        return None
    prefix = _cut_to_word(os.path.commonprefix(questions))
    rests = [q[len(prefix):] for q in questions]
    suffix = _cut_to_word(os.path.commonprefix([r[::-1] for r in rests]))[::-1]
    stated = _TRAILING_LABEL.sub("", prefix).strip()
    # Only a complete statement is an instruction: "There is a" frames values, it states no task.
    if len(stated.split()) < min_instruction_words or not stated.endswith((".", ":", "?")):
        return None
    instruction = stated.rstrip(":").strip()
    return TaskTemplate(prefix=prefix, suffix=suffix, instruction=instruction)


def _cut_to_word(common: str) -> str:
    """Back off to the last whitespace, so a shared first letter of the varying part stays in it."""
    if not common or common[-1].isspace():
        return common
    cut = max(common.rfind(" "), common.rfind("\n"))
    return common[:cut + 1] if cut >= 0 else ""


def _rename(code: str, old: str, new: str) -> str:
    """The code with function `old` (and every reference to it) renamed to `new`."""
    tree = ast.parse(code)
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef) and node.name == old:
            node.name = new
        elif isinstance(node, ast.Name) and node.id == old:
            node.id = new
    return ast.unparse(tree) + "\n"

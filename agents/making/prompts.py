"""Prompts of the maker role: propose a tool from examples, then repair it from feedback."""
from __future__ import annotations

from bus.wire.tool_spec import Example

PROMPT_VERSION = "maker/2"

SYSTEM = (
    "You are an expert Python programmer. You write one reusable, general Python function that "
    "solves every question of a given kind. Use only the Python standard library. "
    "Reply with a single ```python code block and nothing else."
)

# A made-up task (not from any benchmark) that shows the expected shape of a reply.
_SHOWCASE_QUESTION = "How many vowels are in the word 'banana'?"
_SHOWCASE_REPLY = '''```python
import re

def solve(question: str) -> str:
    """Count the vowels in the quoted word of the question."""
    word = re.search(r"'([^']*)'", question).group(1)
    return str(sum(1 for ch in word.lower() if ch in "aeiou"))
```'''

END_TO_END_TASK = (
    "Here are example questions of one kind with their correct answers.\n\n{examples}\n\n"
    "Write `def {entry}(question: str) -> str` that takes the full question text exactly as "
    "above, parses the values it needs from the text (they change from question to question), "
    "computes the answer and returns it as a string in exactly the same format as the answers "
    "above. Do not hard-code these examples' answers. If one step needs judgement that code "
    "cannot make (e.g. whether a sentence is sarcastic), call a helper you do not define, such as "
    "`is_sarcastic(sentence)`; a language model will answer those calls."
)

STRUCTURED_TASK = (
    "Here are example questions of one kind with their correct answers.\n\n{examples}\n\n"
    "Write a function `def {entry}(...) -> str` whose parameters are the values a reader must "
    "take from a question (use simple typed parameters: str, int, float, bool, list[str], "
    "list[int]) and that computes and returns the answer as a string in exactly the same format "
    "as the answers above. Another program will read each question and call the function."
)

# The core shape: the task's fixed wording is factored out, so the model only writes the
# computation. Short prompts suit small models; the variant with examples pins the answer format.
CORE_TASK = "Write a Python function `{entry}({parameter}) -> str` to {instruction}"
CORE_EXAMPLES = "\n\nFor example:\n{examples}"


def core_messages(instruction: str, parameter: str, examples: list[tuple[object, str]],
                  entry: str = "solve") -> list[dict]:
    """The opening conversation for a core function; examples are (argument, answer) pairs."""
    task = CORE_TASK.format(entry=entry, parameter=parameter, instruction=instruction.rstrip("."))
    if examples:
        task += CORE_EXAMPLES.format(examples="\n".join(
            f"{entry}({arg!r}) == {answer!r}" for arg, answer in examples))
    return [{"role": "system", "content": CORE_SYSTEM}, {"role": "user", "content": task}]


CORE_SYSTEM = "You are an expert Python programmer. Reply with a single ```python code block."

FEEDBACK = (
    "Your function is wrong on some questions:\n\n{failures}\n\n"
    "Fix it. Reply with the complete corrected function in one ```python block."
)


def format_examples(examples: list[Example], limit_chars: int = 1200) -> str:
    """Render examples as Question/Answer pairs, trimming very long questions."""
    parts = []
    for i, ex in enumerate(examples, 1):
        question = ex.input if len(ex.input) <= limit_chars else ex.input[:limit_chars] + " ..."
        parts.append(f"Question {i}:\n{question}\nAnswer {i}: {ex.target}")
    return "\n\n".join(parts)


def propose_messages(train: list[Example], entry: str, structured: bool) -> list[dict]:
    """The opening conversation: a showcase exchange, then the task's own examples."""
    template = STRUCTURED_TASK if structured else END_TO_END_TASK
    task = template.format(examples=format_examples(train), entry=entry)
    showcase_task = END_TO_END_TASK.format(
        examples=format_examples([Example(input=_SHOWCASE_QUESTION, target="3")]), entry="solve")
    return [
        {"role": "system", "content": SYSTEM},
        {"role": "user", "content": showcase_task},
        {"role": "assistant", "content": _SHOWCASE_REPLY},
        {"role": "user", "content": task},
    ]


def feedback_messages(history: list[dict], reply: str, failures: str) -> list[dict]:
    """Continue a conversation with the failures of the candidate the model just wrote."""
    return history + [
        {"role": "assistant", "content": reply},
        {"role": "user", "content": FEEDBACK.format(failures=failures)},
    ]

"""Prompts of the solver's three methods: direct answer, chain of thought, chain of code."""
from __future__ import annotations

PROMPT_VERSION = "solver/1"

# Hand-written generic examples (not benchmark items): one knowledge question with options, one
# arithmetic question, one that mixes counting with a judgement call.
EXAMPLES = [
    {
        "question": "Which of these is a mammal?\nOptions:\n(A) trout\n(B) dolphin\n(C) parrot",
        "reasoning": "A trout is a fish. A dolphin breathes air and feeds its young milk, so it "
                     "is a mammal. A parrot is a bird.",
        "answer": "(B)",
        "program": (
            "options = {'(A)': 'trout', '(B)': 'dolphin', '(C)': 'parrot'}\n"
            "answer = None\n"
            "for letter, animal in options.items():\n"
            "    if is_mammal(animal):\n"
            "        answer = letter\n"),
    },
    {
        "question": "A baker makes 4 trays of 6 rolls and sells 9 rolls. How many rolls are "
                    "left?",
        "reasoning": "4 trays of 6 rolls is 4 * 6 = 24 rolls. After selling 9, 24 - 9 = 15 "
                     "rolls are left.",
        "answer": "15",
        "program": "made = 4 * 6\nanswer = made - 9\n",
    },
    {
        "question": "How many of the following words name a colour: ocean, crimson, table, "
                    "teal, violin?",
        "reasoning": "ocean is a place, crimson is a colour, table is furniture, teal is a "
                     "colour, violin is an instrument. That is 2 colours.",
        "answer": "2",
        "program": (
            "words = ['ocean', 'crimson', 'table', 'teal', 'violin']\n"
            "answer = 0\n"
            "for word in words:\n"
            "    if is_colour(word):\n"
            "        answer += 1\n"),
    },
]

DIRECT_SYSTEM = ("Answer the question. Reply with only the final answer: for multiple choice "
                 "the option letter like (A), otherwise the value itself.")
COT_SYSTEM = ("Answer the question. Think step by step, then end with one line of the form "
              "'So the answer is <answer>.' For multiple choice give the option letter like (A).")
COC_SYSTEM = (
    "Answer the question by writing a short Python program that stores the final answer in a "
    "variable named `answer`. Write plain Python wherever you can (arithmetic, loops, sorting, "
    "string handling). Where a step needs judgement or world knowledge, call a helper function "
    "with a descriptive name and do NOT define it (for example is_mammal(animal)); an "
    "interpreter with common sense will work out what it returns. For multiple choice set "
    "`answer` to the option letter like '(A)'. Reply with only the program in a ```python block.")


def hint_line(task_hint: str | None) -> str:
    """An optional line naming the task."""
    return f"Task: {task_hint}\n" if task_hint else ""


def direct_messages(question: str, task_hint: str | None = None) -> list[dict[str, str]]:
    """Few-shot chat asking for the answer only."""
    messages = [{"role": "system", "content": DIRECT_SYSTEM}]
    for ex in EXAMPLES:
        messages += [{"role": "user", "content": ex["question"]},
                     {"role": "assistant", "content": ex["answer"]}]
    messages.append({"role": "user", "content": hint_line(task_hint) + question})
    return messages


def cot_messages(question: str, task_hint: str | None = None) -> list[dict[str, str]]:
    """Few-shot chat asking for step-by-step reasoning ending in 'So the answer is ...'."""
    messages = [{"role": "system", "content": COT_SYSTEM}]
    for ex in EXAMPLES:
        messages += [{"role": "user", "content": ex["question"]},
                     {"role": "assistant",
                      "content": f"{ex['reasoning']} So the answer is {ex['answer']}."}]
    messages.append({"role": "user", "content": hint_line(task_hint) + question})
    return messages


def coc_messages(question: str, task_hint: str | None = None) -> list[dict[str, str]]:
    """Few-shot chat asking for a program (Python plus undefined semantic helpers)."""
    messages = [{"role": "system", "content": COC_SYSTEM}]
    for ex in EXAMPLES:
        messages += [{"role": "user", "content": ex["question"]},
                     {"role": "assistant", "content": f"```python\n{ex['program']}```"}]
    messages.append({"role": "user", "content": hint_line(task_hint) + question})
    return messages

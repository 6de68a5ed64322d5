"""Pull a final answer out of model text or a program's answer (scoring is agents/tasks/scoring.py)."""
from __future__ import annotations

import re

OPTION_LINE = re.compile(r"^\s*\(([A-Z])\)\s*(.+?)\s*$", re.M)
ANSWER_IS = re.compile(r"answer\s*(?:is|:)\s*[:\-]?\s*(.+)", re.I)
OPTION_REF = re.compile(r"\(([A-Z])\)")
BARE_LETTER = re.compile(r"^(?:option\s+)?([A-Z])[\).:]?$", re.I)
NUMBER = re.compile(r"^[-+]?\d+(?:\.\d+)?$")


def question_options(question: str | None) -> dict[str, str]:
    """Letter -> option text for multiple-choice questions ("(A) ..." lines)."""
    if not question:
        return {}
    return {m.group(1): m.group(2) for m in OPTION_LINE.finditer(question)}


def extract_answer(text: str, question: str | None = None) -> str | None:
    """The final answer in a model's reply: the last "answer is ..." phrase, else the last line."""
    if not text or not text.strip():
        return None
    matches = list(ANSWER_IS.finditer(text))
    if matches:
        raw = matches[-1].group(1).splitlines()[0]
    else:
        lines = [line for line in text.strip().splitlines() if line.strip()]
        raw = lines[-1] if lines else ""
    return normalize_answer(raw, question)


def normalize_answer(raw: str | None, question: str | None = None) -> str | None:
    """Clean an answer and, for multiple choice, map it to its "(X)" option."""
    if raw is None:
        return None
    answer = raw.strip().strip("*`").strip()
    answer = re.sub(r"[.\s]+$", "", answer).strip().strip("\"'").strip()
    options = question_options(question)
    if options:
        letter = option_letter(answer, options)
        if letter:
            return f"({letter})"
    if NUMBER.match(answer.replace(",", "")):
        answer = answer.replace(",", "")
        if "." in answer and float(answer).is_integer():
            answer = str(int(float(answer)))
    return answer or None


def option_letter(answer: str, options: dict[str, str]) -> str | None:
    """Which option an answer names: "(B)", "B", "B)" or the option's own text."""
    refs = OPTION_REF.findall(answer)
    if refs and refs[-1] in options:
        return refs[-1]
    bare = BARE_LETTER.match(answer.strip())
    if bare and bare.group(1).upper() in options:
        return bare.group(1).upper()
    folded = fold(answer)
    for letter, text in options.items():
        if folded and folded == fold(text):
            return letter
    return None


def fold(text: str) -> str:
    """Lower-case, punctuation-light form for loose comparison."""
    return re.sub(r"\s+", " ", re.sub(r"[^\w\s:/\-]", "", text.lower())).strip()

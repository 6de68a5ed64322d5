"""The AST transform run in-process with a scripted host: simulated lines at module level, in
loops and in functions, state applied back, trace counters."""
from __future__ import annotations

import pytest

from agents.lmulator.errors import ProgramError, StateReplyError
from agents.lmulator.replies import reply_from_text
from agents.lmulator.transform import transform_program


def run_local(program: str, replies: dict[str, str], *, tool_entry: str | None = None,
              args: list | None = None) -> tuple[dict, list[dict]]:
    """Exec the transformed program here; `replies` maps an expression/statement text to the
    LM reply text. Trusted test programs only: this is not the sandbox."""
    transformed = transform_program(program, tool_entry=tool_entry)
    asked: list[dict] = []

    def host_call(payload: dict) -> dict:
        site = transformed.sites[payload["site"]]
        asked.append({**payload, "site_obj": site})
        key = site.expr if site.mode == "value" else site.text
        if key not in replies:
            return {"abort": f"unscripted site {key!r}"}
        try:
            return reply_from_text(site, replies[key]).wire
        except StateReplyError as exc:
            return {"abort": f"{exc.code}: {exc}"}

    namespace: dict = {"host_call": host_call}
    exec(compile(transformed.code, "<coc>", "exec"), namespace)  # noqa: S102 - test programs
    return namespace["coc_main"](args or []), asked


def test_module_level_helper_call_is_simulated_with_argument_values():
    result, asked = run_local(
        "s = 'What a lovely traffic jam'\nanswer = 'yes' if is_sarcastic(s) else 'no'\n",
        {"is_sarcastic(s)": "True"})
    # Only the helper call was simulated; Python computed the conditional around it.
    assert result["answer"] == "yes"
    assert len(asked) == 1 and asked[0]["mode"] == "value"
    assert asked[0]["call"] == "is_sarcastic('What a lovely traffic jam')"
    assert asked[0]["state"] == {"s": "'What a lovely traffic jam'"}
    assert "NameError" in asked[0]["error"]
    assert result["python_lines"] == 1 and result["simulated_lines"] == 1


def test_failing_expression_that_is_not_a_helper_is_simulated_as_a_value():
    result, asked = run_local("word = 'kayak'\nanswer = word.is_palindrome()\n",
                              {"word.is_palindrome()": "True"})
    assert result["answer"] == "True" and "AttributeError" in asked[0]["error"]


def test_helper_inside_comprehension_sees_the_loop_variable():
    result, asked = run_local("answer = [w for w in ['fig', 'oak'] if is_fruit(w)]\n",
                              {"is_fruit(w)": "True"})
    assert [a["call"] for a in asked] == ["is_fruit('fig')", "is_fruit('oak')"]
    assert result["answer"] == "fig oak"


def test_helper_inside_loop_and_function_updates_locals():
    program = (
        "def label(word):\n"
        "    kind = classify_word(word)\n"
        "    return kind.upper()\n"
        "answer = []\n"
        "for w in ['cat', 'run']:\n"
        "    answer.append(label(w))\n")
    calls = iter(["'noun'", "'verb'"])

    transformed = transform_program(program)
    namespace: dict = {}

    def host_call(payload: dict) -> dict:
        site = transformed.sites[payload["site"]]
        assert site.scope == "label" and site.expr == "classify_word(word)"
        return reply_from_text(site, next(calls)).wire

    namespace["host_call"] = host_call
    exec(compile(transformed.code, "<coc>", "exec"), namespace)  # noqa: S102
    result = namespace["coc_main"]([])
    assert result["answer"] == "NOUN VERB"
    assert result["simulated_lines"] == 2
    lm_steps = [s for s in result["trace"] if s["by"] == "lm"]
    assert [s["value"] for s in lm_steps] == ["'noun'", "'verb'"]


def test_expression_statement_mutation_is_rebound_from_state_reply():
    program = "answer = []\nanswer.push('Paris')\n"
    result, asked = run_local(program, {"answer.push('Paris')": "{'answer': ['Paris']}"})
    assert asked[0]["mode"] == "state"
    assert result["answer"] == "Paris"


def test_state_reply_in_function_rebinds_declared_locals_only():
    program = (
        "def f():\n"
        "    items = []\n"
        "    items.push(7)\n"
        "    return items\n"
        "answer = f()\n")
    result, _ = run_local(program, {"items.push(7)": "{'items': [7], 'unknown_name': 3}"})
    assert result["answer"] == "7"


def test_global_list_mutated_in_place_from_function():
    program = (
        "seen = []\n"
        "def note(x):\n"
        "    seen.push(x)\n"
        "note(1)\n"
        "answer = seen\n")
    result, asked = run_local(program, {"seen.push(x)": "seen = [1]"})
    assert asked[0]["site_obj"].inplace == ("seen",)
    assert result["answer"] == "1"


def test_if_test_and_for_iterable_are_simulated_as_values():
    program = (
        "answer = 0\n"
        "for n in numbers_between(1, 3):\n"
        "    if is_odd_number(n):\n"
        "        answer += n\n")
    replies = {"numbers_between(1, 3)": "[1, 2, 3]", "is_odd_number(n)": "True"}
    result, asked = run_local(program, replies)
    assert result["answer"] == "6"
    assert [a["site_obj"].kind for a in asked] == ["call"] * 4
    assert [a["call"] for a in asked] == ["numbers_between(1, 3)", "is_odd_number(1)",
                                          "is_odd_number(2)", "is_odd_number(3)"]


def test_users_own_try_handler_is_not_intercepted():
    program = "try:\n    answer = int('x')\nexcept ValueError:\n    answer = -1\n"
    result, asked = run_local(program, {})
    assert asked == [] and result["answer"] == "-1"


def test_rejected_reply_aborts_run():
    program = "answer = mystery()\n"
    with pytest.raises(RuntimeError) as info:
        run_local(program, {"mystery()": "__import__('os').system('true')"})
    assert "state_reply_code" in str(info.value)


def test_soft_tool_entry_is_called_with_args():
    code = "def solve(text):\n    mood = detect_mood(text)\n    return mood\n"
    result, asked = run_local(code, {"detect_mood(text)": "'happy'"}, tool_entry="solve",
                              args=["I won!"])
    assert result["value"] == "happy"
    assert asked[0]["state"] == {"text": "'I won!'"}


def test_tuple_and_set_values_survive_the_wire():
    result, _ = run_local("answer = pair_and_set()\n", {"pair_and_set()": "((1, 2), {3})"})
    assert result["answer"] == "((1, 2), {3})"


def test_print_goes_to_output_and_trace_records_python_lines():
    result, _ = run_local("x = 2\nprint('x is', x)\nanswer = x * 3\n", {})
    assert result["output"] == ["x is 2"]
    assert [s["by"] for s in result["trace"]] == ["python"] * 3
    assert result["trace"][2]["changes"] == {"answer": "6"}


def test_syntax_error_and_reserved_names_are_program_errors():
    with pytest.raises(ProgramError, match="does not parse"):
        transform_program("answer = (")
    with pytest.raises(ProgramError, match="reserved"):
        transform_program("coc_run = 1\n")
    with pytest.raises(ProgramError, match="import"):
        transform_program("from math import *\n")


def test_nested_functions_and_globals_declared_by_user():
    program = (
        "total = 0\n"
        "def add(n):\n"
        "    global total\n"
        "    total += weight_of(n)\n"
        "add('a')\n"
        "add('b')\n"
        "answer = total\n")
    result, _ = run_local(program, {"weight_of(n)": "5"})
    assert result["answer"] == "10"


def test_program_lines_count_each_line_once_and_a_simulated_line_as_the_lms():
    from agents.lmulator.trace import build_trace

    program = ("total = 0\n"
               "for n in range(50):\n"
               "    total += n\n"
               "answer = 'yes' if is_big(total) else 'no'\n")
    result, _ = run_local(program, {"is_big(total)": "True"})
    trace = build_trace(transform_program(program), result, [], [])
    # 50 passes of the loop body are 50 executed statements but one program line.
    assert result["python_lines"] > 50
    assert trace.line_runners == {1: "python", 2: "python", 3: "python", 4: "lm"}
    assert trace.simulated_program_lines == 1

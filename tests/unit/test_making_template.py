"""Factoring a task's fixed wording out of its questions, and wrapping a core function."""
from __future__ import annotations

import pytest

from agents.making.code_extract import add_missing_imports
from agents.making.template import find_template

SORT = ["Sort the following words alphabetically: List: syndrome therefrom",
        "Sort the following words alphabetically: List: thrill splutter panicking",
        "Sort the following words alphabetically: List: sioux vegetate"]


def test_prefix_stops_at_a_word_boundary_and_the_label_is_dropped():
    template = find_template(SORT)
    # All three varying parts start with "s" or "t"; the shared "s" of two must not be eaten.
    assert template.prefix == "Sort the following words alphabetically: List: "
    assert template.instruction == "Sort the following words alphabetically"
    assert template.varying_part(SORT[1]) == "thrill splutter panicking"


def test_suffix_is_factored_out_too():
    qs = ["Input: 3 4\nWhat is the sum of these numbers?", "Input: 10 2 7\nWhat is the sum of these numbers?"]
    template = find_template(["Add these numbers. " + q for q in qs])
    assert template.suffix == "\nWhat is the sum of these numbers?"
    assert template.varying_part("Add these numbers. " + qs[1]) == "10 2 7"


@pytest.mark.parametrize("questions", [
    ["There is a basket of 5 apples.", "There is a crate of 7 pears."],  # frames values, no task
    ["What is 2+2?", "Who wrote Hamlet?"],  # nothing shared
    ["Sort the following words alphabetically: List: a b"],  # one question proves nothing
])
def test_no_template_without_a_shared_complete_instruction(questions):
    assert find_template(questions) is None


def test_wrapped_core_runs_on_whole_questions():
    template = find_template(SORT)
    code = template.wrap("def solve(words):\n    return ' '.join(sorted(words))\n", "words")
    scope: dict = {}
    exec(compile(code, "<tool>", "exec"), scope)
    assert scope["solve"](SORT[1]) == "panicking splutter thrill"
    assert scope["solve"]("zeta alpha") == "alpha zeta"  # no frame: the whole text is the input


def test_recursive_core_functions_keep_calling_themselves():
    template = find_template(SORT)
    core = "def solve(text):\n    return text if len(text) < 2 else solve(text[1:]) + text[0]\n"
    scope: dict = {}
    exec(compile(template.wrap(core, "text"), "<tool>", "exec"), scope)
    assert scope["solve"](SORT[0].replace("syndrome therefrom", "abc")) == "cba"


def test_missing_standard_imports_are_added_once():
    code = "def solve(text):\n    return re.sub('a', 'b', text) + str(math.floor(1.5))\n"
    fixed = add_missing_imports(code)
    assert fixed.startswith("import math\nimport re\n")
    assert add_missing_imports(fixed) == fixed  # already imported: nothing added
    shadowed = "def solve(re):\n    return re.x\n"
    assert add_missing_imports(shadowed) == shadowed  # a parameter named re is not the module


def test_bare_names_of_standard_modules_are_imported_unless_the_code_binds_them():
    code = "def compute(xs):\n    return reduce(lambda a, b: a * b // gcd(a, b), xs)\n"
    fixed = add_missing_imports(code)
    assert fixed.startswith("from math import gcd\nfrom functools import reduce\n")
    namespace: dict = {}
    exec(fixed, namespace)
    assert namespace["compute"]([4, 6, 10]) == 60
    assert add_missing_imports(fixed) == fixed
    shadowed = "def compute(xs, gcd):\n    return gcd(xs)\n"
    assert add_missing_imports(shadowed) == shadowed  # a parameter named gcd binds it

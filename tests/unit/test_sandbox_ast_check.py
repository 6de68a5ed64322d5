"""The AST check: an early reject of abusive code that still lets ordinary tools through."""
from __future__ import annotations

import pytest

from agents.sandbox import ForbiddenCode, check_code

GOOD = [
    "def solve(words):\n    return sorted(words)\n",
    "import re\nfrom collections import Counter\ndef solve(s):\n    return Counter(re.findall(r'\\w+', s)).most_common(1)\n",
    "from dataclasses import dataclass\n@dataclass\nclass P:\n    x: int\n    def __post_init__(self):\n        self.x += 1\n"
    "def solve():\n    return P(1).x\n",
    "class A:\n    def __init__(self):\n        super().__init__()\n    def __eq__(self, o):\n        return True\n",
    "import collections.abc\nimport datetime as dt\ndef solve():\n    return dt.date(2020, 1, 1).isoformat()\n",
    "if __name__ == '__main__':\n    print('__main__')\n",
    "def __latm_main__():\n    x = is_sarcastic('hi')\n    return x\n",
    "def solve(s):\n    return '{0} and {1}'.format(s, s.upper())\n",
]

BAD = [
    ("import os\n", "'os' is not allowed"),
    ("import subprocess as s\n", "not allowed"),
    ("from importlib import import_module\n", "not allowed"),
    ("from . import x\n", "relative imports"),
    ("from math import *\n", "import *"),
    ("x = ().__class__.__base__.__subclasses__()\n", "__class__"),
    ("def f(g):\n    return g.gi_frame.f_back.f_globals\n", "gi_frame"),
    ("def f(e):\n    return e.tb_frame\n", "tb_frame"),
    ("__import__('os')\n", "__import__"),
    ("eval('1')\n", "eval"),
    ("exec('x = 1')\n", "exec"),
    ("open('/etc/passwd')\n", "open"),
    ("globals()['x'] = 1\n", "globals"),
    ("b = __builtins__\n", "__builtins__"),
    ("def f(o):\n    return o.__globals__\n", "__globals__"),
    ("def f(o):\n    return o.__dict__\n", "__dict__"),
    ("import math\nmath.pi = 3\n", "shared module"),
    ("def f():\n    return '{0.__class__}'.format(1)\n", "format strings"),
    ("def f(eval):\n    return eval\n", "shadows"),
    ("def f(:\n", "syntax error"),
    ("setattr(int, 'x', 1)\n", "setattr"),
]


@pytest.mark.parametrize("code", GOOD)
def test_ordinary_tools_pass(code):
    check_code(code)


@pytest.mark.parametrize("code,why", BAD)
def test_abuse_is_rejected_with_a_reason(code, why):
    with pytest.raises(ForbiddenCode) as info:
        check_code(code)
    assert why in str(info.value)
    assert "line" in str(info.value)


def test_rejection_is_cached_and_repeated():
    for _ in range(2):
        with pytest.raises(ForbiddenCode):
            check_code("import os\n")


def test_oversized_code_rejected():
    with pytest.raises(ForbiddenCode, match="limit"):
        check_code("x = 1\n" * 60_000)

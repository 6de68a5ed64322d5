"""Tool-to-tool isolation: a tool that leaves state behind never changes another tool's answers.

Each case is a poisoning tool (`poison()` changes some process-wide state, `probe()` reads it)
and a victim tool with the same `probe()`. On one pool with a single call slot the victim runs
before and after the poisoner: its answers must be identical, while the poisoner's own probe
shows the poison took effect in its process. Both with the AST check off (the process design
alone is the boundary) and in the default configuration, which accepts many of these tools.
"""
from __future__ import annotations

import asyncio
from dataclasses import dataclass

import pytest
import pytest_asyncio

from agents.sandbox import Sandbox, SandboxConfig
from agents.sandbox.worker_handle import WorkerHandle
from agents.sandbox.worker_process import make_jail_dir

pytestmark = pytest.mark.asyncio(loop_scope="session")


@dataclass(frozen=True)
class Poison:
    """A way to leave state behind: imports, the poisoning statements, the probe's body."""

    name: str
    imports: str
    poison: str
    probe: str
    default_accepts: bool = False  # the default configuration (AST check on) runs this poisoner


CASES = [
    Poison("module_attribute", "import string", "string.ascii_lowercase = 'poisoned'",
           "return string.ascii_lowercase"),
    Poison("module_function", "import math", "math.sqrt = lambda x: -1.0", "return math.sqrt(16.0)"),
    Poison("class_attribute", "import fractions",
           "fractions.Fraction.limit_denominator = lambda self, max_denominator=0: 0",
           "return str(fractions.Fraction(1, 3).limit_denominator(10))", True),
    Poison("class_default_of_stdlib_singleton", "import json", "json.JSONEncoder.item_separator = ';'",
           "return json.dumps([1, 2, 3])", True),
    Poison("submodule_via_alias", "import json\nimport json.decoder as jd",
           "jd.JSONDecoder.decode = lambda self, s, *a: 'poisoned'", "return json.loads('[1, 2]')", True),
    Poison("decimal_context", "import decimal", "decimal.getcontext().prec = 3",
           "return str(decimal.Decimal(1) / decimal.Decimal(7))", True),
    Poison("decimal_context_template", "import decimal", "decimal.DefaultContext.prec = 4",
           "return str(decimal.Decimal(2).sqrt())", True),
    Poison("strptime_regex_cache", "import datetime\nimport re\nimport _strptime",
           "datetime.datetime.strptime('2024', '%Y')\n"
           "    _strptime._regex_cache['%Y'] = re.compile(r'(?P<Y>\\d\\d)\\d\\d')",
           "return datetime.datetime.strptime('2024', '%Y').year"),
    Poison("regex_cache", "import re", "re._cache[(str, 'a+', 0)] = re.compile('b+')",
           "return re.findall('a+', 'caab')"),
    Poison("random_state", "import random", "random.seed(0)",
           "return random.random() == random.Random(0).random()", True),
    Poison("module_setting", "import calendar", "calendar.setfirstweekday(6)", "return calendar.firstweekday()", True),
    Poison("abc_registry", "import collections.abc", "collections.abc.Sequence.register(dict)",
           "return isinstance({}, collections.abc.Sequence)", True),
    Poison("codec_registry", "import codecs",
           "codecs.register(lambda name: codecs.CodecInfo(lambda s, e='strict': (b'', 0), "
           "lambda b, e='strict': ('', 0), name='latm_probe') if name == 'latm_probe' else None)",
           "try:\n        codecs.lookup('latm_probe')\n        return 'found'\n"
           "    except LookupError:\n        return 'missing'"),
    Poison("copy_dispatch_table", "import copy", "copy._deepcopy_dispatch[list] = lambda x, memo: 'poisoned'",
           "return copy.deepcopy([1, 2])"),
    Poison("warnings_filters", "import warnings", "warnings.simplefilter('error')",
           "try:\n        warnings.warn('probe')\n        return 'passed'\n    except Warning:\n        return 'raised'"),
    Poison("recursion_limit", "import sys", "sys.setrecursionlimit(60)", "return sys.getrecursionlimit()"),
    Poison("int_max_str_digits", "import sys", "sys.set_int_max_str_digits(640)",
           "return sys.get_int_max_str_digits()"),
    Poison("builtins", "import builtins", "builtins.abs = lambda x: -1", "return abs(-3)"),
    Poison("sys_modules", "import sys\nimport types",
           "sys.modules['json'] = types.SimpleNamespace(dumps=lambda v: 'poisoned')",
           "import json\n    return json.dumps([1])"),
    Poison("mutable_module_data", "import codecs\nimport encodings.aliases",
           "encodings.aliases.aliases['latm_alias'] = 'utf_8'",
           "try:\n        return codecs.lookup('latm_alias').name\n    except LookupError:\n        return 'missing'"),
    Poison("garbage_collector", "import gc", "gc.disable()", "return gc.isenabled()"),
    Poison("timezone", "import os\nimport time", "os.environ['TZ'] = 'UTC+05'\n    time.tzset()",
           "return time.localtime(0).tm_hour"),
]


def poisoner_code(case: Poison) -> str:
    """The poisoning tool: `poison()` leaves the state behind, `probe()` reads it."""
    return (f"{case.imports}\n\ndef poison():\n    {case.poison}\n    return 'done'\n\n"
            f"def probe():\n    {case.probe}\n")


def victim_code(case: Poison, tag: str) -> str:
    """Another tool (its own content hash, per tag) reading the same state."""
    return f"# {tag}\n{case.imports}\n\ndef probe():\n    {case.probe}\n"


INNOCENT = "def solve(words):\n    return ' '.join(sorted(words))\n"
WORDS = ["pear", "apple", "fig", "banana"]


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def unchecked_pool():
    """One call slot and the AST check off: only the process design stands between tools."""
    async with Sandbox(SandboxConfig(workers=1, spares=0, ast_check=False)) as box:
        yield box


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def default_pool():
    """The default configuration, one call slot."""
    async with Sandbox(SandboxConfig(workers=1, spares=0)) as box:
        yield box


async def _poison_then_probe(pool: Sandbox, case: Poison):
    """Victim before, poisoner, poisoner's own probe, victim after, an ordinary tool after."""
    before = await pool.call(victim_code(case, "before"), "probe", [])
    poisoned = await pool.call(poisoner_code(case), "poison", [])
    own = await pool.call(poisoner_code(case), "probe", []) if poisoned.ok else None
    after = await pool.call(victim_code(case, "after"), "probe", [])
    innocent = await pool.call(INNOCENT, "solve", [WORDS])
    return before, poisoned, own, after, innocent


@pytest.mark.asyncio(loop_scope="session")
async def test_there_are_at_least_fifteen_ways_to_poison():
    assert len({case.name for case in CASES}) == len(CASES) >= 15


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
async def test_poison_without_ast_check_never_reaches_another_tool(unchecked_pool, case):
    before, poisoned, own, after, innocent = await _poison_then_probe(unchecked_pool, case)
    assert before.ok, before
    assert poisoned.ok, poisoned  # nothing but the process layers checks this code
    assert own.ok and own.value != before.value, (own, before)  # the poison is real in its own process
    assert after.ok and after.value == before.value, (after, before)
    assert innocent.value == " ".join(sorted(WORDS))


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
async def test_poison_in_default_configuration_never_reaches_another_tool(default_pool, case):
    before, poisoned, own, after, innocent = await _poison_then_probe(default_pool, case)
    if case.default_accepts:  # the AST check lets it through: isolation is the process design's job
        assert poisoned.ok, poisoned
        assert own.ok and own.value != before.value, (own, before)
    assert after.ok == before.ok and after.value == before.value, (after, before)
    assert innocent.value == " ".join(sorted(WORDS))


async def test_poisoners_and_victims_interleaved_concurrently():
    """Many tools at once on two slots: every victim answers exactly as on a fresh pool."""
    async with Sandbox(SandboxConfig(workers=2, spares=1, ast_check=False, max_idle_workers=3)) as fresh:
        expected = [await fresh.call(victim_code(case, "baseline"), "probe", []) for case in CASES]
    async with Sandbox(SandboxConfig(workers=2, spares=1, ast_check=False, max_idle_workers=3)) as box:
        calls = []
        for case in CASES:
            calls.append(box.call(poisoner_code(case), "poison", []))
            calls.append(box.call(victim_code(case, "concurrent"), "probe", []))
        outcomes = await asyncio.gather(*calls)
        later = [await box.call(victim_code(case, "later"), "probe", []) for case in CASES]
    victims = outcomes[1::2]
    # A victim running at the same time as its poisoner still sees clean state.
    assert [(r.ok, r.value) for r in victims] == [(r.ok, r.value) for r in expected]
    assert [(r.ok, r.value) for r in later] == [(r.ok, r.value) for r in expected]


async def test_a_worker_refuses_to_run_a_second_tool():
    """The worker itself enforces one tool per process, whatever the host sends."""
    import msgpack
    jail = make_jail_dir()
    worker = await WorkerHandle.start(SandboxConfig(), jail)
    try:
        first = msgpack.packb(["run", "a" * 64, "def f():\n    return 1\n", "f", [[]]])
        second = msgpack.packb(["run", "b" * 64, "def f():\n    return 2\n", "f", [[]]])
        ran = await worker.run_batch(first, 1, 2.0, None, 1 << 20)
        assert (bytes(ran.codes), ran.values) == (b"\x00", [1])
        refused = await worker.run_batch(second, 1, 2.0, None, 1 << 20)
        assert refused.codes[0] == 6 and "another tool" in refused.values[0]
    finally:
        await worker.retire()
        import os
        os.rmdir(jail)

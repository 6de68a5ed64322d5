"""Attack suite, in-process escapes: walks to the interpreter's internals are refused or contained."""
from __future__ import annotations

import pytest

from .sandbox_attack_helpers import MARKER, attack, checked, raw  # noqa: F401 - fixtures

pytestmark = pytest.mark.asyncio(loop_scope="session")

SUBCLASS_WALK = (
    "for cls in ().__class__.__base__.__subclasses__():\n"
    "    if cls.__name__ == '_wrap_close':\n"
    f"        return cls.__init__.__globals__['system']('touch {MARKER}')\n"
    "return 'not found'"
)


async def test_subclasses_walk_rejected_by_ast(checked):
    result = await attack(checked, SUBCLASS_WALK)
    assert result.error == "rejected"


async def test_subclasses_walk_contained_by_process(raw):
    result = await attack(raw, SUBCLASS_WALK)
    assert result.ok and result.value != 0


async def test_generator_frame_walk_rejected(checked):
    result = await attack(checked, "g = (x for x in [1])\nreturn str(g.gi_frame.f_back.f_globals)")
    assert result.error == "rejected"


async def test_frame_walk_to_worker_globals_and_forge(raw):
    # Reach the bootstrap's own objects and write a forged frame on the protocol pipe.
    result = await attack(raw, "import sys\nf = sys._getframe()\n"
                               "while getattr(f.f_locals.get('self'), 'channel', None) is None:\n"
                               "    f = f.f_back\n"
                               "f.f_locals['self'].channel.write_raw(b'\\xff' * 64)\nwhile True:\n    pass")
    assert result.error == "forbidden" and "protocol" in result.detail


async def test_dunder_import_rejected(checked):
    result = await attack(checked, "return __import__('os').system('id')")
    assert result.error == "rejected"


async def test_importlib_rejected(checked):
    result = await attack(checked, "import importlib\nreturn importlib.import_module('os').getcwd()")
    assert result.error == "rejected"


async def test_sys_modules_rejected(checked):
    result = await attack(checked, "import sys\nreturn sys.modules['os'].getcwd()")
    assert result.error == "rejected"


async def test_importlib_in_raw_mode_finds_nothing(raw):
    result = await attack(raw, "import importlib\nreturn importlib.import_module('socket').__name__")
    assert result.error == "forbidden"


async def test_getattr_with_built_name(checked):
    result = await attack(checked, "return getattr(getattr((), '__cl' + 'ass__'), '__ba' + 'se__').__name__")
    assert result.error == "forbidden"


async def test_module_internals_hidden(checked):
    result = await attack(checked, "import dataclasses, random\nreturn [str(dataclasses.sys), str(random._os)]")
    assert result.error == "tool_error" and "AttributeError" in result.detail


async def test_format_string_attribute_walk(checked):
    result = await attack(checked, "return '{0.__class__.__base__}'.format(0)")
    assert result.error == "rejected"

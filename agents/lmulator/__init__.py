"""Chain of Code: run LM-written programs, with the LM simulating the lines Python cannot run."""
from agents.lmulator.errors import (
    LMulatorError, ProgramError, StateReplyError, StateReplyIsCode,
    StateReplyMalformed, StateReplyNotLiteral, StateReplyTooLarge,
)
from agents.lmulator.runner import LMulator, LMulatorConfig, RunResult
from agents.lmulator.soft_tools import is_soft_tool, run_soft_tool, verify_soft_tool
from agents.lmulator.trace import Trace, TraceStep
from agents.lmulator.transform import Site, TransformedProgram, transform_program

__all__ = [
    "LMulator", "LMulatorConfig", "LMulatorError", "ProgramError",
    "RunResult", "Site", "StateReplyError", "StateReplyIsCode", "StateReplyMalformed",
    "StateReplyNotLiteral", "StateReplyTooLarge", "Trace", "TraceStep", "TransformedProgram",
    "is_soft_tool", "run_soft_tool", "transform_program", "verify_soft_tool",
]

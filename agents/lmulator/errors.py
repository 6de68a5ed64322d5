"""Typed errors of the LMulator; each message says how to fix the problem."""
from __future__ import annotations


class LMulatorError(Exception):
    """Base class of every error the LMulator raises or reports."""

    code = "lmulator_error"


class ProgramError(LMulatorError):
    """The program cannot be transformed (syntax error, reserved names)."""

    code = "program_error"


class StateReplyError(LMulatorError):
    """The LM's reply for a simulated line is not usable program state."""

    code = "state_reply"

    def __init__(self, message: str, *, reply: str = "") -> None:
        super().__init__(message)
        self.reply = reply[:500]


class StateReplyMalformed(StateReplyError):
    """The reply does not parse as a Python literal or a dict of literals."""

    code = "state_reply_malformed"


class StateReplyIsCode(StateReplyError):
    """The reply contains code (calls, attribute access, names) instead of data."""

    code = "state_reply_code"


class StateReplyNotLiteral(StateReplyError):
    """The reply parses but is not a plain literal of the allowed shape or types."""

    code = "state_reply_not_literal"


class StateReplyTooLarge(StateReplyError):
    """The reply is longer, deeper or has more items than the configured caps."""

    code = "state_reply_too_large"

"""Test support code: the scripted OpenAI-compatible stub server and the echo agent (also used by benchmarks)."""

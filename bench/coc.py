"""Benchmark: BBH accuracy of direct answering, chain of thought and chain of code (LMulator).

Usage: .venv/bin/python bench/coc.py [--tasks a,b] [--limit N] [--methods direct,cot,coc]
Uses the configured endpoints (LATM_CONFIG / LATM_<ROLE>_*), else the embedded model.
Ends with: direct=A cot=B coc=C simulated_line_share=S
"""
from __future__ import annotations

import sys

from agents.lmulator.bbh_bench import main

if __name__ == "__main__":
    sys.exit(main())

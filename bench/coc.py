"""Benchmark: BBH accuracy of direct answering, chain of thought and chain of code (LMulator).

Usage: .venv/bin/python bench/coc.py [--tasks a,b] [--limit N] [--methods direct,cot,coc]
Uses the configured endpoints (LATM_CONFIG / LATM_<ROLE>_*), else the embedded model.
Ends with: direct=A cot=B coc=C simulated_line_share=S
"""
from __future__ import annotations

import sys
from pathlib import Path

# bench/ holds scripts named like packages (bench/bus.py): import the project, not the scripts.
HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE]
sys.path.insert(0, str(HERE.parent))

from agents.lmulator.bbh_bench import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())

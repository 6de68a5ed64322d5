"""Simulated trial and error: an explorer that practises on a tool and keeps the calls that worked as demos."""

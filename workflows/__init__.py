"""Deterministic lifecycle code. Nothing here reads the clock, the environment or secrets."""

"""Workflows that prove what the sandbox checks (see test_sandbox.py)."""

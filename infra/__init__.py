"""Shared infrastructure: what every process (CLI, gateway, worker) uses.

Settings, the Temporal connection and its data converter (payload codec), logging,
link keys, and locale formatting. It sits just above `schemas/` and imports nothing
of the project but `schemas`: every other layer may use it (import-linter checks).
"""

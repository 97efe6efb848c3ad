"""The chaos suite: the real parts as separate processes, faults injected, lifecycles driven to the end.

- `stack.py`: the Temporal dev server on its SQLite file, two `consult worker`s, `consult gateway`, and
  an SMTP sink (`bench/sink.py`, the benchmark's) in a process of its own; process groups, and faults written down;
- `lifecycle.py`: consultations driven as people drive them (the CLI, the links in received mail),
  with the books kept: lost, duplicated, stalled;
- `scenarios.py`: one scenario per fault, each giving a row of the table;
- `test_chaos.py`: the fast part, inside `make test`; `python -m tests.chaos` (`make chaos`): the full run.
"""

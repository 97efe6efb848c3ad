"""How the chaos suite tells a message re-sent in flight (the at-least-once window of a worker killed
mid-send) from a duplicate: pure accounting, no stack needed."""

from __future__ import annotations

from bench.sink import Received
from tests.chaos.lifecycle import RESENT_IN_FLIGHT, second_copy
from tests.chaos.stack import Fault

KILLED_AT = 1_000.0
KILLED = Fault("worker SIGKILL mid-send", started=0.0, wall=KILLED_AT, smtp_ports=frozenset({40001, 40002}))


def first(at: float, peer: int) -> Received:
    return Received("<n.1.opened.ab@consult.localhost>", "a@b.example", "c", "opened", at, "", peer)


def test_a_copy_accepted_just_before_the_kill_is_re_sent_in_flight_whoever_sent_it() -> None:
    kind, window = second_copy(first(KILLED_AT - 0.004, 50000), 2, [KILLED])
    assert kind == RESENT_IN_FLIGHT and "4 ms before" in window


def test_a_copy_stamped_just_after_the_kill_is_in_flight_only_on_the_killed_workers_connection() -> None:
    kind, window = second_copy(first(KILLED_AT + 0.012, 40002), 2, [KILLED])
    assert kind == RESENT_IN_FLIGHT and "12 ms after" in window
    # The same moment on another worker's connection: that worker sent it twice, a duplicate.
    assert second_copy(first(KILLED_AT + 0.012, 50000), 2, [KILLED])[0] == "duplicated"


def test_copies_far_from_any_kill_or_more_than_two_are_duplicates() -> None:
    far = second_copy(first(KILLED_AT - 0.5, 40001), 2, [KILLED])
    assert far == ("duplicated", " (first copy accepted 500 ms before a worker SIGKILL)")
    assert second_copy(first(KILLED_AT + 0.2, 40001), 2, [KILLED]) == ("duplicated", "")
    assert second_copy(first(KILLED_AT - 0.004, 40001), 3, [KILLED])[0] == "duplicated"
    assert second_copy(first(KILLED_AT, 40001), 2, [])[0] == "duplicated"

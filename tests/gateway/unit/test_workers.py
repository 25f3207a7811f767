"""The worker board (what GATEWAY_WORKERS' processes share) and the supervisor's backoff."""

from aigw.gateway.supervisor import LONGEST_BACKOFF, backoff
from aigw.gateway.workers import WorkerBoard


def test_the_gateway_is_ready_only_when_every_worker_slot_is() -> None:
    board = WorkerBoard.shared(2)
    first, second = board.for_worker(0), board.for_worker(1)
    first.mark(True)
    assert not first.all_ready()
    assert board.ready_count() == 1
    second.mark(True)
    assert first.all_ready()
    assert second.all_ready()
    board.mark(False, 1)  # the supervisor clears a dead worker's slot
    assert not first.all_ready()


def test_a_gateway_without_workers_has_one_slot_that_is_set() -> None:
    assert WorkerBoard.local().all_ready()


def test_restarts_are_counted_on_the_shared_board() -> None:
    board = WorkerBoard.shared(2)
    board.count_restart()
    assert board.for_worker(1).restarts == 1


def test_backoff_doubles_per_death_in_a_row_up_to_a_ceiling() -> None:
    assert [backoff(n) for n in (1, 2, 3)] == [0.5, 1.0, 2.0]
    assert backoff(30) == LONGEST_BACKOFF

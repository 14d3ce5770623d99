"""Dev mode's fast loop: a quiet chain answers at once, a busy one batches."""

from chain.consensus.dev import compute_batch_wait

WINDOW_S = 0.005


def test_quiet_chain_makes_the_block_at_once() -> None:
    assert compute_batch_wait(last_block_at=10.0, now=10.5, window_s=WINDOW_S) == 0.0


def test_first_transaction_ever_waits_for_nothing() -> None:
    assert compute_batch_wait(last_block_at=float("-inf"), now=0.0, window_s=WINDOW_S) == 0.0


def test_busy_chain_waits_out_the_last_blocks_window() -> None:
    wait = compute_batch_wait(last_block_at=10.0, now=10.002, window_s=WINDOW_S)
    assert abs(wait - 0.003) < 1e-9

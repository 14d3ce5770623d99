"""Ordering: the dev-mode sequencer now; CometBFT (ABCI++) for the decentralized mode later."""

"""The braided ledger: one append-only log of the blocks of both chains."""

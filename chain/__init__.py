"""Duet: one braided ledger carrying a ZK chain (L2) and a fast EVM chain (L3)."""

__version__ = "0.1.0"

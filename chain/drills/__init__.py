"""Drills of L1's trust rules on a real dev stack (docs/l1.md, "Trust: who can do what")."""

"""Clients for Duet's chains: what a game or wallet imports to use them."""

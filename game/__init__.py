"""Duet game: the Textual app, the game client SDK and bots."""

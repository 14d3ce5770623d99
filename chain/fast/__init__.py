"""The fast chain (L3): an EVM chain whose blocks are produced as soon as transactions wait."""

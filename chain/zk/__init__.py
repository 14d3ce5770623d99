"""The ZK chain (L2): proven asset state. Until its operations exist, its blocks are empty."""

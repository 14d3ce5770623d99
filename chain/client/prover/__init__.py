"""`duet prover`: what a market prover runs (the loop, its link to a node, its screen),
apart from the market's rules in chain/market/."""

"""The prover market (ZKPoW): who proves what, by when, for how much (docs/market.md).

A pure core (bounty, assignment, book, events; its parameters, MarketConfig, are in
chain/config.py): frozen data and functions over it, no I/O, so every node recomputes the
same assignments, bounties and penalties from the ledger; `book.apply_market_block` is its
one transition, applied once per ZK block. Around it: the node's desk (desk), the jobs as
provers receive and do them (work, aggregate, signing), the node's own prover (house) and
the `duet prover` agent (agent, view).
"""

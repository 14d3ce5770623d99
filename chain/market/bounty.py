"""What a proof is worth: the bounty, rising with the wait and with scarce provers.

    bounty = min(max_bounty,
                 base × (growth_blocks + waited) × target
                 // (growth_blocks × max(1, min(active, target))))

`base` at no wait with at least `target_provers` active provers; one more `base` per
`growth_blocks` blocks waited; multiplied by `target / active` when fewer than
`target_provers` are active (0 active counts as 1). Integer arithmetic only, one floor
division at the end, so every node gets the same wei. It never decreases as the wait grows
or as provers leave, so a job nobody takes becomes worth taking and the chain never stalls
for want of a prover (docs/market.md has a table).
"""

from chain.config import MarketConfig
from chain.types import JobKind, Wei


def compute_bounty(base: Wei, waited_blocks: int, active_provers: int, cfg: MarketConfig) -> Wei:
    if base < 0:
        raise ValueError(f"base bounty must not be negative, got {base}")
    if waited_blocks < 0:
        raise ValueError(f"waited_blocks must not be negative, got {waited_blocks}")
    if active_provers < 0:
        raise ValueError(f"active_provers must not be negative, got {active_provers}")
    scarcity = max(1, min(active_provers, cfg.target_provers))
    grown = base * (cfg.growth_blocks + waited_blocks) * cfg.target_provers
    return Wei(min(cfg.max_bounty_wei, grown // (cfg.growth_blocks * scarcity)))


def compute_base_bounty(kind: JobKind, cfg: MarketConfig) -> Wei:
    return cfg.aggregation_bounty_wei if kind == "aggregate" else cfg.base_bounty_wei

"""What `duet prover` and `duet market` show: rich renderables built from plain data."""

from decimal import Decimal
from typing import Any

from rich.console import Group
from rich.table import Table
from rich.text import Text

from chain.client.prover.loop import ProverStats

WEI = Decimal(10**18)
STATE_STYLES = {
    "queued": "dim",
    "proving": "yellow",
    "submitted": "cyan",
    "valid": "green",
    "invalid": "bold red",
    "refused": "red",
    "failed": "red",
    "dropped": "dim",
}


def format_zkpow(wei: int) -> str:
    return f"{Decimal(wei) / WEI:+.4f}" if wei else "0"


def render_prover(stats: ProverStats, address: str, node_url: str) -> Group:
    snap = stats.snapshot
    head = Table.grid(padding=(0, 2))
    head.add_row(Text("prover", style="bold"), address, Text("node", style="bold"), node_url)
    if snap is None:
        head.add_row("", Text("connecting…", style="yellow"))
        return Group(head)
    active = snap.active_until >= snap.height
    state = Text("active" if active else "inactive", style="green" if active else "red")
    until = "never" if snap.active_until < 0 else str(snap.active_until)
    balance = Text(
        f"{format_zkpow(snap.balance)} ZKPoW", style="red" if snap.balance < 0 else "green"
    )
    head.add_row(
        Text("ZK height", style="bold"),
        str(snap.height),
        Text("status", style="bold"),
        Text.assemble(state, f" through {until}"),
    )
    head.add_row(
        Text("balance", style="bold"),
        balance,
        Text("debt", style="bold"),
        f"{format_zkpow(-snap.balance)} ZKPoW" if snap.balance < 0 else "none",
    )
    head.add_row(
        Text("proven", style="bold"),
        f"{snap.proven} paid, {stats.accepted} of {stats.submitted} submissions valid",
        Text("penalties", style="bold"),
        f"{snap.missed} missed deadlines, {snap.invalid} invalid proofs",
    )
    head.add_row(Text("heartbeats", style="bold"), str(stats.heartbeats))
    if stats.last_error:
        head.add_row(Text("last error", style="bold red"), stats.last_error)
    return Group(head, render_jobs(stats))


def render_jobs(stats: ProverStats) -> Table:
    table = Table(title="jobs", expand=True)
    for column in ("job", "work", "deadline", "bounty (ZKPoW)", "state", "seconds"):
        table.add_column(column)
    shown = [*stats.jobs.values(), *stats.history][:12]
    for job in shown:
        table.add_row(
            job.job_id[:12] + "…",
            job.label,
            str(job.deadline),
            format_zkpow(job.bounty),
            Text(job.state, style=STATE_STYLES.get(job.state, "")),
            f"{job.seconds:.2f}" if job.seconds else "",
        )
    return table


def render_market(market: dict[str, Any]) -> Group:
    """`duet_getProverMarket`'s answer as tables."""
    cfg = market["config"]
    summary = Text.assemble(
        ("ZK height ", "bold"),
        str(market["height"]),
        ("   active provers ", "bold"),
        str(market["activeProvers"]),
        ("   fee pool ", "bold"),
        f"{format_zkpow(int(market['feePool'], 16))} ZKPoW",
        ("   open jobs ", "bold"),
        str(len(market["jobs"])),
    )
    rules = Text(
        f"active {cfg['active_blocks']} blocks per heartbeat · deadline {cfg['deadline_blocks']}"
        f" blocks · penalty {format_zkpow(cfg['penalty_wei'])} · bounty from "
        f"{format_zkpow(cfg['base_bounty_wei'])}, +1 base per {cfg['growth_blocks']} blocks "
        f"waited, ×{cfg['target_provers']}/active below {cfg['target_provers']} provers",
        style="dim",
    )
    provers = Table(title="provers", expand=True)
    for column in ("address", "status", "balance (ZKPoW)", "proven", "missed", "invalid"):
        provers.add_column(column)
    for p in market["provers"]:
        balance = int(p["balance"])
        provers.add_row(
            p["address"],
            Text("active", style="green") if p["active"] else Text("inactive", style="dim"),
            Text(format_zkpow(balance), style="red" if balance < 0 else ""),
            str(p["proven"]),
            str(p["missed"]),
            str(p["invalid"]),
        )
    jobs = Table(title="open jobs", expand=True)
    for column in ("job", "kind", "block", "waited", "bounty (ZKPoW)", "assignee", "deadline"):
        jobs.add_column(column)
    for j in market["jobs"][:20]:
        jobs.add_row(
            j["jobId"][:12] + "…",
            j["kind"],
            str(j["height"]),
            str(j["waited"]),
            format_zkpow(int(j["bounty"], 16)),
            j["assignee"] or Text("waiting for a prover", style="yellow"),
            "" if j["deadline"] is None else str(j["deadline"]),
        )
    return Group(summary, rules, provers, jobs)

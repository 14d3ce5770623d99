"""CometBFT's evidence of misbehaviour (chain/consensus/evidence.py and DuetApplication):
a validator whose duplicate vote a block reports is jailed, once (a validator update of
power 0 from that FinalizeBlock); the height records the evidence; an unknown validator, one
already jailed, or the last one standing is not jailed; a restart remembers."""

from __future__ import annotations

from pathlib import Path

import pytest

from chain.consensus.abci.proto.tendermint.abci import types_pb2 as abci
from chain.consensus.abci.proto.tendermint.crypto import keys_pb2
from chain.consensus.duet_app import DuetApplication
from chain.consensus.evidence import (
    CometValidator,
    Offence,
    compute_address,
    compute_jailings,
)
from tests.unit.abci_requests import GENESIS_MS, header_time, open_network_node, run

KEYS = [bytes([i + 1]) * 32 for i in range(4)]
ADDRESSES = [compute_address(key) for key in KEYS]
VALIDATORS = {a: CometValidator(a, k, 10) for a, k in zip(ADDRESSES, KEYS, strict=True)}


def offence(index: int, height: int = 3) -> Offence:
    return Offence(ADDRESSES[index], "duplicate vote", height, height + 1)


def test_jails_an_offender_once() -> None:
    jailed = compute_jailings([offence(1), offence(1, 4)], VALIDATORS, set())
    assert [v.address for v in jailed] == [ADDRESSES[1]]
    assert compute_jailings([offence(1)], VALIDATORS, {ADDRESSES[1]}) == []


def test_never_jails_an_unknown_validator_or_the_last_one_standing() -> None:
    stranger = Offence(b"\x09" * 20, "duplicate vote", 3, 4)
    assert compute_jailings([stranger], VALIDATORS, set()) == []
    everyone = [offence(i) for i in range(4)]
    assert len(compute_jailings(everyone, VALIDATORS, set())) == 3


@pytest.fixture
def app(tmp_path: Path) -> DuetApplication:
    app = DuetApplication(open_network_node(tmp_path / "node"))
    validators = [
        abci.ValidatorUpdate(pub_key=keys_pb2.PublicKey(ed25519=key), power=10) for key in KEYS
    ]
    run(app.init_chain(abci.RequestInitChain(time=header_time(GENESIS_MS), validators=validators)))
    return app


def finalize(app: DuetApplication, height: int, offenders: list[int]) -> abci.ResponseFinalizeBlock:
    misbehavior = [
        abci.Misbehavior(
            type=abci.DUPLICATE_VOTE,
            validator=abci.Validator(address=ADDRESSES[i], power=10),
            height=height - 1,
        )
        for i in offenders
    ]
    request = abci.RequestFinalizeBlock(height=height, time=header_time(), misbehavior=misbehavior)
    answer = run(app.finalize_block(request))
    run(app.commit(abci.RequestCommit()))
    return answer


def test_a_duplicate_vote_jails_its_validator_from_the_block_that_reports_it(
    app: DuetApplication, tmp_path: Path
) -> None:
    answer = finalize(app, 5, [2])
    (update,) = answer.validator_updates
    assert (update.pub_key.ed25519, update.power) == (KEYS[2], 0)
    assert app.jailed == {ADDRESSES[2]}
    assert app.evidence == [
        {
            "validator": ADDRESSES[2].hex().upper(),
            "kind": "duplicate vote",
            "height": 4,
            "reportedAt": 5,
        }
    ]
    # Reported again (by a later block): recorded, not jailed twice (CometBFT would refuse
    # removing a validator no longer in its set).
    assert list(finalize(app, 6, [2]).validator_updates) == []
    assert len(app.evidence) == 2
    app.node.close()
    again = DuetApplication(open_network_node(tmp_path / "node"))
    assert again.jailed == {ADDRESSES[2]}
    assert again.node.query.list_evidence()[1] == [ADDRESSES[2].hex().upper()]

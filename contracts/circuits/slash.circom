pragma circom 2.1.0;

include "lib/header.circom";
include "stake/stake.circom";

// Slash (ops.process_slash): SLASH_PERCENT of `validator`'s stake, bonded and unbonding, is
// burned, each rounded down. The validators decide it from CometBFT's evidence of a double
// vote (docs/architecture.md, "Stake"); this circuit bounds what any slash can take, and w3
// says what it took of the bonded stake, for anyone following the validators' stake on L1.
// Nobody signs it and nobody pays a fee: no header, and no global moves.
// Public: preRoot, postRoot, w1 = validator (160) | stakeIndex (12), w2 = bondedSlashed (96).
template Slash() {
    signal input preRoot;
    signal input postRoot;
    signal input w1;
    signal input w2;
    // The pre-state's parts that the operation leaves alone, and the accounts root it writes.
    signal input accountsRoot;
    signal input nftsRoot;
    signal input collectionsRoot;
    signal input proversRoot;
    signal input feePool;
    signal input escrow;
    signal input inbox;
    // The stake account before the slash.
    signal input stakeBonded;
    signal input stakeUnbonding;
    signal input stakeUnlockEpoch;
    signal input stakePath[ACCOUNT_LEVELS()][4];

    var indexBits = ACCOUNT_INDEX_BITS();
    component target = UnpackWord(2, [ADDRESS_BITS(), indexBits]);
    target.word <== w1;
    signal validator <== target.fields[0];
    NonZero()(validator);  // "validator must be a non-zero address"

    signal bondedCut <== Slashed()(stakeBonded);
    signal unbondingCut <== Slashed()(stakeUnbonding);
    w2 === bondedCut;

    component stake = StakeUpdate();
    stake.validator <== validator;
    for (var i = 0; i < indexBits; i++) {
        stake.indexBits[i] <== target.bits[ADDRESS_BITS() + i];
    }
    stake.root <== accountsRoot;
    stake.bonded <== stakeBonded;
    stake.unbonding <== stakeUnbonding;
    stake.unlockEpoch <== stakeUnlockEpoch;
    stake.newBonded <== stakeBonded - bondedCut;
    stake.newUnbonding <== stakeUnbonding - unbondingCut;
    stake.newUnlockEpoch <== stakeUnlockEpoch;
    stake.path <== stakePath;
    _ <== target.bits;  // only the index bits are read; the unpacking constrains them all
    _ <== target.fields;

    signal pre <== StateRoot()(
        accountsRoot, nftsRoot, collectionsRoot, proversRoot, feePool, escrow, inbox
    );
    signal post <== StateRoot()(
        stake.newRoot, nftsRoot, collectionsRoot, proversRoot, feePool, escrow, inbox
    );
    preRoot === pre;
    postRoot === post;
}

component main {public [preRoot, postRoot, w1, w2]} = Slash();

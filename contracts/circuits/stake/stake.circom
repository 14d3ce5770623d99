pragma circom 2.1.0;

// A validator's stake (chain/zk/state.py, STAKE_FLAG; docs/zk-state.md, "Stake"): an account
// at validator + STAKE_FLAG, which no signer's address (below 2^160) can be, whose leaf reads
// (address, bonded, unbonding, unlockEpoch). ops.py holds the same numbers. Not in lib/, so
// that it keys only the stake circuits' cached ceremonies; they include lib/header.circom
// before it.

function STAKE_FLAG() { return 2 ** (ADDRESS_BITS() + 1); }
function UNBONDING_EPOCHS() { return 2; }  // epochs between an unbond and its claim
function SLASH_PERCENT() { return 5; }     // of the stake, bonded and unbonding, per slash

// One write to `validator`'s stake account at the index with bits `indexBits`, in the
// accounts tree whose root is `root`. The old leaf carries the stake address, so an empty
// slot or another account's cannot pass for it; the new values are range-checked.
template StakeUpdate() {
    signal input validator;
    signal input indexBits[ACCOUNT_INDEX_BITS()];
    signal input root;
    signal input bonded;
    signal input unbonding;
    signal input unlockEpoch;
    signal input newBonded;
    signal input newUnbonding;
    signal input newUnlockEpoch;
    signal input path[ACCOUNT_LEVELS()][4];
    signal output newRoot;

    RangeCheck(AMOUNT_BITS())(newBonded);
    RangeCheck(AMOUNT_BITS())(newUnbonding);

    signal address <== validator + STAKE_FLAG();
    component update = QuadUpdate(ACCOUNT_LEVELS());
    update.oldLeaf <== AccountLeaf()(address, bonded, unbonding, unlockEpoch);
    update.newLeaf <== AccountLeaf()(address, newBonded, newUnbonding, newUnlockEpoch);
    update.indexBits <== indexBits;
    update.path <== path;
    update.oldRoot === root;
    newRoot <== update.newRoot;
}

// floor(amount * SLASH_PERCENT / 100), for an amount below 2^96: cut * 100 + r = amount * 5
// with 0 <= r < 100 has one solution, and nothing wraps (both sides stay below 2^104).
template Slashed() {
    signal input amount;
    signal output cut;
    cut <-- amount * SLASH_PERCENT() \ 100;
    signal remainder <== amount * SLASH_PERCENT() - cut * 100;
    RangeCheck(AMOUNT_BITS())(cut);
    RangeCheck(7)(remainder);
    RangeCheck(7)(99 - remainder);
}

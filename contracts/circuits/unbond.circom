pragma circom 2.1.0;

include "lib/header.circom";
include "stake/stake.circom";

// Unbond (ops.process_unbond): the signer pays the fee, and `amount` of its bonded stake starts
// unbonding; all of its unbonding stake may be claimed from epoch + UNBONDING_EPOCHS on. The
// stake account is the signer's own (its address is derived from `from`), and the epoch is
// the block's: the rollup checks it against the settled block's time (docs/l1.md, "Epochs").
// Public: preRoot, postRoot, w1 (header), w2 = stakeIndex (12) | epoch (32), w3 = amount (96).
template Unbond() {
    signal input preRoot;
    signal input postRoot;
    signal input w1;
    signal input w2;
    signal input w3;
    // The pre-state's parts that the operation leaves alone.
    signal input nftsRoot;
    signal input collectionsRoot;
    signal input proversRoot;
    signal input feePool;
    signal input escrow;
    signal input inbox;
    signal input signerBalance;
    signal input signerKeyHash;
    signal input signerPath[ACCOUNT_LEVELS()][4];
    // The stake account before the unbond, in the tree the header's write left.
    signal input stakeBonded;
    signal input stakeUnbonding;
    signal input stakeUnlockEpoch;
    signal input stakePath[ACCOUNT_LEVELS()][4];

    var indexBits = ACCOUNT_INDEX_BITS();
    component word = UnpackWord(2, [indexBits, ROUND_BITS()]);
    word.word <== w2;
    signal epoch <== word.fields[1];
    signal amount <== w3;
    RangeCheck(AMOUNT_BITS())(amount);
    NonZero()(amount);  // "amount must be above 0"
    RangeCheck(ROUND_BITS())(epoch + UNBONDING_EPOCHS());  // "epoch out of range"

    component header = Header();
    header.w1 <== w1;
    header.spend <== 0;
    header.balance <== signerBalance;
    header.keyHash <== signerKeyHash;
    header.path <== signerPath;

    // "unbond exceeds the bonded" and "unbonding stake would overflow": StakeUpdate
    // range-checks both new amounts.
    component stake = StakeUpdate();
    stake.validator <== header.from;
    for (var i = 0; i < indexBits; i++) {
        stake.indexBits[i] <== word.bits[i];
    }
    stake.root <== header.newRoot;
    stake.bonded <== stakeBonded;
    stake.unbonding <== stakeUnbonding;
    stake.unlockEpoch <== stakeUnlockEpoch;
    stake.newBonded <== stakeBonded - amount;
    stake.newUnbonding <== stakeUnbonding + amount;
    stake.newUnlockEpoch <== epoch + UNBONDING_EPOCHS();
    stake.path <== stakePath;
    _ <== word.bits;  // only the index bits are read; the unpacking constrains them all
    _ <== word.fields;

    signal pre <== StateRoot()(
        header.oldRoot, nftsRoot, collectionsRoot, proversRoot, feePool, escrow, inbox
    );
    signal post <== StateRoot()(
        stake.newRoot, nftsRoot, collectionsRoot, proversRoot, feePool + header.feeWei, escrow,
        inbox
    );
    preRoot === pre;
    postRoot === post;
}

component main {public [preRoot, postRoot, w1, w2, w3]} = Unbond();

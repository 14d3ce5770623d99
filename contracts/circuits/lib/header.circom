pragma circom 2.1.0;

include "params.circom";
include "checks.circom";
include "leaves.circom";
include "merkle.circom";

// The rules every operation shares (chain/zk/ops.py, process_header). The header word is
// w1 = from (160) | fromIndex (12) | nonce (32) | feeGwei (48). The signer's account at
// fromIndex holds `from` and the word's nonce (the leaf hash binds both: a wrong nonce or a
// stranger's index gives another leaf), pays `spend` plus the fee, and its nonce moves on.
template Header() {
    signal input w1;
    signal input spend;  // wei paid besides the fee (an amount or a price), below 2^96
    signal input balance;
    signal input keyHash;
    signal input path[ACCOUNT_LEVELS()][4];
    signal output from;
    signal output feeWei;
    signal output oldRoot;
    signal output newRoot;

    var indexBits = ACCOUNT_INDEX_BITS();
    component word = UnpackWord(4, [ADDRESS_BITS(), indexBits, NONCE_BITS(), FEE_GWEI_BITS()]);
    word.word <== w1;
    from <== word.fields[0];
    signal nonce <== word.fields[2];
    feeWei <== word.fields[3] * GWEI();

    // Address 0 never has an account: an empty slot must not pass for the signer's.
    NonZero()(from);
    // The nonce after must still fit its 32 bits (ops: "nonce exhausted").
    NonZero()(nonce - (2 ** NONCE_BITS() - 1));
    // The balance before is below 2^96 (every write is range-checked) and spend + fee is
    // below 2^97, so a short balance wraps to p - x and fails here.
    signal newBalance <== balance - spend - feeWei;
    RangeCheck(AMOUNT_BITS())(newBalance);

    component update = QuadUpdate(ACCOUNT_LEVELS());
    update.oldLeaf <== AccountLeaf()(from, balance, nonce, keyHash);
    update.newLeaf <== AccountLeaf()(from, newBalance, nonce + 1, keyHash);
    for (var i = 0; i < indexBits; i++) {
        update.indexBits[i] <== word.bits[ADDRESS_BITS() + i];
    }
    update.path <== path;
    oldRoot <== update.oldRoot;
    newRoot <== update.newRoot;
    _ <== word.bits;  // only the index bits are read; the unpacking constrains them all
    _ <== word.fields;
}

// Pays `amount` to `address` at the account whose index has the bits `indexBits`
// (ops.process_credit), in the accounts tree whose root is `root`. The slot holds `address`
// already or is empty (address 0, which only the empty leaf has) and opens for it.
template Credit() {
    signal input address;
    signal input amount;  // below 2^96
    signal input indexBits[ACCOUNT_INDEX_BITS()];
    signal input root;
    signal input oldAddress;
    signal input balance;
    signal input nonce;
    signal input keyHash;
    signal input path[ACCOUNT_LEVELS()][4];
    signal output newRoot;

    oldAddress * (oldAddress - address) === 0;
    // The recipient's balance must not pass 2^96 ("recipient balance would overflow").
    signal newBalance <== balance + amount;
    RangeCheck(AMOUNT_BITS())(newBalance);

    component update = QuadUpdate(ACCOUNT_LEVELS());
    update.oldLeaf <== AccountLeaf()(oldAddress, balance, nonce, keyHash);
    update.newLeaf <== AccountLeaf()(address, newBalance, nonce, keyHash);
    update.indexBits <== indexBits;
    update.path <== path;
    update.oldRoot === root;
    newRoot <== update.newRoot;
}

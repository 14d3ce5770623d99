pragma circom 2.1.0;

include "circomlib/circuits/comparators.circom";
include "lib/params.circom";
include "lib/checks.circom";
include "lib/leaves.circom";
include "lib/merkle.circom";

// MarketSettle (ops.process_market_settle): the prover market's payments of a ZK block
// (docs/market.md). `paid` leaves the fee pool, which must hold it; each entry adds its signed
// delta to one prover's balance. Bounties come out of `paid` and penalties are burned, so the
// positive deltas add up to at most `paid`: no settlement creates money, not even by turning
// one prover's penalty into another's bounty (a debt is never collected, a bounty is).
// Nobody signs it and nobody pays a fee: no header.
// Public: preRoot, postRoot, w1 = paid (96), then one word per entry:
// proverIndex (6) | deltaOffset (128), where delta = deltaOffset - 2^127.

// ops.MARKET_ENTRIES: entries per settlement, each one Merkle update of the provers tree.
function MARKET_ENTRIES() { return 2; }

// One entry: the prover at the word's index gets delta (ops.process_settle_entry). Its slot
// holds a prover (address non-zero) unless delta is 0: an unused entry may name an empty slot,
// which it writes back unchanged. `bounty` is max(delta, 0).
template SettleEntry() {
    signal input word;
    signal input address;
    signal input balanceOffset;
    signal input activeUntil;
    signal input path[PROVER_LEVELS()][4];
    signal output bounty;
    signal output oldRoot;
    signal output newRoot;

    var indexBits = PROVER_INDEX_BITS();
    var balanceBits = PROVER_BALANCE_BITS();
    component entry = UnpackWord(2, [indexBits, balanceBits]);
    entry.word <== word;
    signal delta <== entry.fields[1] - BALANCE_OFFSET();
    // deltaOffset's top bit is set exactly when delta >= 0.
    bounty <== entry.bits[indexBits + balanceBits - 1] * delta;

    signal isEmpty <== IsZero()(address);
    delta * isEmpty === 0;  // "no prover at index"
    // The old offset is in [0, 2^128) (every write range-checks it), and so must the new one
    // be ("prover balance would overflow").
    signal newBalanceOffset <== balanceOffset + delta;
    RangeCheck(balanceBits)(newBalanceOffset);

    component update = QuadUpdate(PROVER_LEVELS());
    update.oldLeaf <== ProverLeaf()(address, balanceOffset, activeUntil);
    update.newLeaf <== ProverLeaf()(address, newBalanceOffset, activeUntil);
    for (var i = 0; i < indexBits; i++) {
        update.indexBits[i] <== entry.bits[i];
    }
    update.path <== path;
    oldRoot <== update.oldRoot;
    newRoot <== update.newRoot;
    _ <== entry.bits;  // the index bits and the sign bit are read; the unpacking checks all
    _ <== entry.fields;
}

// Entries apply in order, each against the root the previous one left, as the state machine
// applies them: two entries for one prover prove too.
template MarketSettle() {
    signal input preRoot;
    signal input postRoot;
    signal input w1;
    signal input w2;
    signal input w3;
    // The pre-state's parts that the operation leaves alone.
    signal input accountsRoot;
    signal input nftsRoot;
    signal input collectionsRoot;
    signal input feePool;
    signal input escrow;
    signal input inbox;
    // Each entry's prover slot before its write.
    var entries = MARKET_ENTRIES();
    signal input proverAddress[entries];
    signal input proverBalanceOffset[entries];
    signal input proverActiveUntil[entries];
    signal input proverPath[entries][PROVER_LEVELS()][4];
    signal entryWords[entries] <== [w2, w3];  // one word per entry: more entries, more words

    signal paid <== w1;
    RangeCheck(AMOUNT_BITS())(paid);
    // The fee pool is below 2^96, so paying out more than it holds wraps to p - x and fails
    // here ("paid exceeds the fee pool").
    signal newFeePool <== feePool - paid;
    RangeCheck(AMOUNT_BITS())(newFeePool);

    component entry[entries];
    var bounties = 0;
    for (var i = 0; i < entries; i++) {
        entry[i] = SettleEntry();
        entry[i].word <== entryWords[i];
        entry[i].address <== proverAddress[i];
        entry[i].balanceOffset <== proverBalanceOffset[i];
        entry[i].activeUntil <== proverActiveUntil[i];
        entry[i].path <== proverPath[i];
        if (i > 0) {
            entry[i].oldRoot === entry[i - 1].newRoot;
        }
        bounties += entry[i].bounty;
    }
    // Each bounty is below 2^127, so bounties beyond `paid` wrap to p - x and fail here
    // ("bounties exceed the paid").
    RangeCheck(AMOUNT_BITS())(paid - bounties);

    signal pre <== StateRoot()(
        accountsRoot, nftsRoot, collectionsRoot, entry[0].oldRoot, feePool, escrow, inbox
    );
    signal post <== StateRoot()(
        accountsRoot, nftsRoot, collectionsRoot, entry[entries - 1].newRoot, newFeePool, escrow,
        inbox
    );
    preRoot === pre;
    postRoot === post;
}

component main {public [preRoot, postRoot, w1, w2, w3]} = MarketSettle();

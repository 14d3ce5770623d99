pragma circom 2.1.0;

include "circomlib/circuits/comparators.circom";
include "lib/header.circom";

// Heartbeat (ops.process_heartbeat): the signer offers to prove for the market through ZK
// height activeUntil, which never goes backwards. Its prover slot at proverIndex holds it
// already, or is empty and becomes its, with balance 0 (balanceOffset 2^127). An empty slot
// is the only leaf with address 0 (every write names a non-zero signer or keeps the address),
// so address 0 proves the slot is H(0, 0, 0): its balanceOffset and activeUntil are 0.
// The circuit does not see the height: how far ahead of it activeUntil may be is the node's
// rule (the market's active_blocks), as a mint's epoch is.
// Public: preRoot, postRoot, w1 (header), w2 = proverIndex (6) | activeUntil (32).
template Heartbeat() {
    signal input preRoot;
    signal input postRoot;
    signal input w1;
    signal input w2;
    // The pre-state's parts that the operation leaves alone.
    signal input nftsRoot;
    signal input collectionsRoot;
    signal input feePool;
    signal input escrow;
    signal input inbox;
    signal input signerBalance;
    signal input signerKeyHash;
    signal input signerPath[ACCOUNT_LEVELS()][4];
    // The prover's slot before the heartbeat (all zero if it is new).
    signal input proverAddress;
    signal input proverBalanceOffset;
    signal input proverActiveUntil;
    signal input proverPath[PROVER_LEVELS()][4];

    var indexBits = PROVER_INDEX_BITS();
    component beat = UnpackWord(2, [indexBits, ACTIVE_UNTIL_BITS()]);
    beat.word <== w2;
    signal activeUntil <== beat.fields[1];

    component header = Header();
    header.w1 <== w1;
    header.spend <== 0;
    header.balance <== signerBalance;
    header.keyHash <== signerKeyHash;
    header.path <== signerPath;

    // The slot is the signer's, or empty and opens for it.
    proverAddress * (proverAddress - header.from) === 0;
    signal isNew <== IsZero()(proverAddress);
    // The old activeUntil is below 2^32 (every write range-checks it), so one that goes
    // backwards wraps to p - x and fails here ("activeUntil is before the prover's").
    RangeCheck(ACTIVE_UNTIL_BITS())(activeUntil - proverActiveUntil);

    component prover = QuadUpdate(PROVER_LEVELS());
    prover.oldLeaf <== ProverLeaf()(proverAddress, proverBalanceOffset, proverActiveUntil);
    prover.newLeaf <== ProverLeaf()(
        header.from, proverBalanceOffset + isNew * BALANCE_OFFSET(), activeUntil
    );
    for (var i = 0; i < indexBits; i++) {
        prover.indexBits[i] <== beat.bits[i];
    }
    prover.path <== proverPath;
    _ <== beat.bits;  // only proverIndex's bits are read; the unpacking constrains them all
    _ <== beat.fields;

    signal pre <== StateRoot()(
        header.oldRoot, nftsRoot, collectionsRoot, prover.oldRoot, feePool, escrow, inbox
    );
    signal post <== StateRoot()(
        header.newRoot, nftsRoot, collectionsRoot, prover.newRoot, feePool + header.feeWei,
        escrow, inbox
    );
    preRoot === pre;
    postRoot === post;
}

component main {public [preRoot, postRoot, w1, w2]} = Heartbeat();

pragma circom 2.1.0;

include "lib/header.circom";
include "lib/inbox.circom";

// Release (ops.process_release), fast-chain message `seq`: ZKPoW burned on the fast chain is
// paid to `to` here, out of escrow. Whatever the fast chain claims, the release never
// exceeds the escrow, which is all it ever held; the message is not a replay
// (lib/inbox.circom). `to` gets `amount` at toIndex, in an account it already has or one
// that opens there. Nobody signs it and nobody pays a fee: no header.
// Public: preRoot, postRoot, w1 = seq (64) | to (160) | toIndex (12), w2 = amount (96).
template Release() {
    signal input preRoot;
    signal input postRoot;
    signal input w1;
    signal input w2;
    // The pre-state's parts that the operation leaves alone, and the accounts root it credits.
    signal input accountsRoot;
    signal input nftsRoot;
    signal input collectionsRoot;
    signal input proversRoot;
    signal input feePool;
    signal input escrow;
    signal input inbox;
    // The recipient's slot before the credit (all zero if it opens now).
    signal input recipientAddress;
    signal input recipientBalance;
    signal input recipientNonce;
    signal input recipientKeyHash;
    signal input recipientPath[ACCOUNT_LEVELS()][4];

    var indexBits = ACCOUNT_INDEX_BITS();
    component message = UnpackWord(3, [SEQ_BITS(), ADDRESS_BITS(), indexBits]);
    message.word <== w1;
    signal to <== message.fields[1];
    NonZero()(to);  // "recipient must be a non-zero address"
    signal amount <== w2;
    RangeCheck(AMOUNT_BITS())(amount);
    NonZero()(amount);  // "amount must be above 0"
    // The escrow is below 2^96 (every write is range-checked), so a release above it wraps
    // to p - x and fails here ("release exceeds the escrow").
    signal newEscrow <== escrow - amount;
    RangeCheck(AMOUNT_BITS())(newEscrow);
    signal newInbox <== Inbox()(message.fields[0], inbox);

    component credit = Credit();
    credit.address <== to;
    credit.amount <== amount;
    for (var i = 0; i < indexBits; i++) {
        credit.indexBits[i] <== message.bits[SEQ_BITS() + ADDRESS_BITS() + i];
    }
    credit.root <== accountsRoot;
    credit.oldAddress <== recipientAddress;
    credit.balance <== recipientBalance;
    credit.nonce <== recipientNonce;
    credit.keyHash <== recipientKeyHash;
    credit.path <== recipientPath;
    _ <== message.bits;  // only toIndex's bits are read; the unpacking constrains them all
    _ <== message.fields;

    signal pre <== StateRoot()(
        accountsRoot, nftsRoot, collectionsRoot, proversRoot, feePool, escrow, inbox
    );
    signal post <== StateRoot()(
        credit.newRoot, nftsRoot, collectionsRoot, proversRoot, feePool, newEscrow, newInbox
    );
    preRoot === pre;
    postRoot === post;
}

component main {public [preRoot, postRoot, w1, w2]} = Release();

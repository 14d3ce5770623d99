pragma circom 2.1.0;

include "lib/header.circom";

// Deposit (ops.process_deposit), L1 deposit number `index` of the rollup: ZKPoW locked there
// is credited to `to` here. The rollup, not this circuit, makes sure that each deposit is
// credited once, in its queue's order and for exactly what was locked: it reads `index`,
// `to` and `amount` from the words at settlement (docs/l1.md). So nothing here touches the
// globals: no escrow (the ZKPoW is held on L1) and no inbox (the rollup orders deposits).
// `to` gets `amount` at toIndex, in an account it already has or one that opens there.
// Nobody signs it and nobody pays a fee: no header.
// Public: preRoot, postRoot, w1 = index (64) | to (160) | toIndex (12), w2 = amount (96).
template Deposit() {
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
    // The deposit number is range-checked by the unpacking (64 bits) and read by the rollup.
    component deposit = UnpackWord(3, [SEQ_BITS(), ADDRESS_BITS(), indexBits]);
    deposit.word <== w1;
    signal to <== deposit.fields[1];
    NonZero()(to);  // "recipient must be a non-zero address"
    signal amount <== w2;
    RangeCheck(AMOUNT_BITS())(amount);
    NonZero()(amount);  // "amount must be above 0"

    component credit = Credit();
    credit.address <== to;
    credit.amount <== amount;
    for (var i = 0; i < indexBits; i++) {
        credit.indexBits[i] <== deposit.bits[SEQ_BITS() + ADDRESS_BITS() + i];
    }
    credit.root <== accountsRoot;
    credit.oldAddress <== recipientAddress;
    credit.balance <== recipientBalance;
    credit.nonce <== recipientNonce;
    credit.keyHash <== recipientKeyHash;
    credit.path <== recipientPath;
    _ <== deposit.bits;  // only toIndex's bits are read; the unpacking constrains them all
    _ <== deposit.fields;

    signal pre <== StateRoot()(
        accountsRoot, nftsRoot, collectionsRoot, proversRoot, feePool, escrow, inbox
    );
    signal post <== StateRoot()(
        credit.newRoot, nftsRoot, collectionsRoot, proversRoot, feePool, escrow, inbox
    );
    preRoot === pre;
    postRoot === post;
}

component main {public [preRoot, postRoot, w1, w2]} = Deposit();

pragma circom 2.1.0;

include "lib/header.circom";

// Transfer (ops.process_transfer): the signer pays `amount` plus the fee; `to` gets `amount`,
// at toIndex, in an account it already has or one that opens there. The recipient's update
// runs against the root the signer's left, so a transfer to oneself proves too.
// Public: preRoot, postRoot, w1 (header), w2 = to (160) | toIndex (12), w3 = amount (96).
template Transfer() {
    signal input preRoot;
    signal input postRoot;
    signal input w1;
    signal input w2;
    signal input w3;
    // The pre-state's parts that the transfer leaves alone.
    signal input nftsRoot;
    signal input collectionsRoot;
    signal input proversRoot;
    signal input feePool;
    signal input escrow;
    signal input inbox;
    signal input signerBalance;
    signal input signerKeyHash;
    signal input signerPath[ACCOUNT_LEVELS()][4];
    // The recipient's slot before the credit (all zero if it opens now).
    signal input recipientAddress;
    signal input recipientBalance;
    signal input recipientNonce;
    signal input recipientKeyHash;
    signal input recipientPath[ACCOUNT_LEVELS()][4];

    component target = UnpackWord(2, [ADDRESS_BITS(), ACCOUNT_INDEX_BITS()]);
    target.word <== w2;
    signal to <== target.fields[0];
    NonZero()(to);
    signal amount <== w3;
    RangeCheck(AMOUNT_BITS())(amount);

    component header = Header();
    header.w1 <== w1;
    header.spend <== amount;
    header.balance <== signerBalance;
    header.keyHash <== signerKeyHash;
    header.path <== signerPath;

    component credit = Credit();
    credit.address <== to;
    credit.amount <== amount;
    for (var i = 0; i < ACCOUNT_INDEX_BITS(); i++) {
        credit.indexBits[i] <== target.bits[ADDRESS_BITS() + i];
    }
    credit.root <== header.newRoot;
    credit.oldAddress <== recipientAddress;
    credit.balance <== recipientBalance;
    credit.nonce <== recipientNonce;
    credit.keyHash <== recipientKeyHash;
    credit.path <== recipientPath;
    _ <== target.bits;  // only toIndex's bits are read; the unpacking constrains them all
    _ <== target.fields;
    _ <== header.from;  // the leaf hash binds it

    signal pre <== StateRoot()(
        header.oldRoot, nftsRoot, collectionsRoot, proversRoot, feePool, escrow, inbox
    );
    signal post <== StateRoot()(
        credit.newRoot, nftsRoot, collectionsRoot, proversRoot, feePool + header.feeWei, escrow,
        inbox
    );
    preRoot === pre;
    postRoot === post;
}

component main {public [preRoot, postRoot, w1, w2, w3]} = Transfer();

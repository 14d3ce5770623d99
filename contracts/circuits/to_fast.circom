pragma circom 2.1.0;

include "lib/header.circom";

// ToFast (ops.process_to_fast): the signer locks `amount` of ZKPoW in escrow for `to` on the
// fast chain, whose next block credits it. The escrow is what bounds the fast chain: it can
// never hold, or send back, more ZKPoW than this total.
// Public: preRoot, postRoot, w1 (header), w2 = to (160), w3 = amount (96).
template ToFast() {
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

    RangeCheck(ADDRESS_BITS())(w2);
    NonZero()(w2);  // "recipient must be a non-zero address"
    RangeCheck(AMOUNT_BITS())(w3);
    NonZero()(w3);  // "amount must be above 0"
    signal newEscrow <== escrow + w3;
    RangeCheck(AMOUNT_BITS())(newEscrow);  // "escrow would overflow"

    component header = Header();
    header.w1 <== w1;
    header.spend <== w3;
    header.balance <== signerBalance;
    header.keyHash <== signerKeyHash;
    header.path <== signerPath;
    _ <== header.from;  // the leaf hash binds it

    signal pre <== StateRoot()(
        header.oldRoot, nftsRoot, collectionsRoot, proversRoot, feePool, escrow, inbox
    );
    signal post <== StateRoot()(
        header.newRoot, nftsRoot, collectionsRoot, proversRoot, feePool + header.feeWei, newEscrow,
        inbox
    );
    preRoot === pre;
    postRoot === post;
}

component main {public [preRoot, postRoot, w1, w2, w3]} = ToFast();

pragma circom 2.1.0;

include "lib/header.circom";

// Withdraw (ops.process_withdraw): the signer burns `amount` of ZKPoW here, and the rollup
// pays it to `to` on L1 once the block is settled. The amount leaves the ZK chain: unlike
// ToFast, no escrow holds it, and the only global that moves is the fee pool. `to` is an L1
// address that no ZK state holds: the signature binds it, and the rollup reads it, with the
// amount, from the words at settlement.
// Public: preRoot, postRoot, w1 (header), w2 = to (160), w3 = amount (96).
template Withdraw() {
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
    NonZero()(w2);  // "L1 recipient must be a non-zero address"
    RangeCheck(AMOUNT_BITS())(w3);
    NonZero()(w3);  // "amount must be above 0"

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
        header.newRoot, nftsRoot, collectionsRoot, proversRoot, feePool + header.feeWei, escrow,
        inbox
    );
    preRoot === pre;
    postRoot === post;
}

component main {public [preRoot, postRoot, w1, w2, w3]} = Withdraw();

pragma circom 2.1.0;

include "lib/header.circom";

// SetMinter (ops.process_set_minter): the signer is the collection's minter and hands its
// minting to `minter`, a non-zero address: another account (fastChain 0), or a fast-chain
// contract (fastChain 1) whose reward mints the chain then honours, within the caps. The
// collection's leaf keeps the flag beside the address, minter + fastChain * 2^160
// (state.FAST_MINTER), so reward_mint.circom can tell the two apart. Only the minter changes:
// the caps, the counts and the supply stay as they were.
// Public: preRoot, postRoot, w1 (header), w2 = collection (2) | minter (160) | fastChain (1).
template SetMinter() {
    signal input preRoot;
    signal input postRoot;
    signal input w1;
    signal input w2;
    // The pre-state's parts that the operation leaves alone.
    signal input nftsRoot;
    signal input proversRoot;
    signal input feePool;
    signal input escrow;
    signal input inbox;
    signal input signerBalance;
    signal input signerKeyHash;
    signal input signerPath[ACCOUNT_LEVELS()][4];
    // The collection before; its minter is the signer, so never a fast-chain contract's
    // (from < 2^160 has no flag): nothing signed takes such a collection back.
    signal input roundCap;
    signal input epochCap;
    signal input collectionRound;
    signal input roundCount;
    signal input collectionEpoch;
    signal input epochCount;
    signal input supply;
    signal input collectionPath[COLLECTION_LEVELS()][4];

    component op = UnpackWord(3, [COLLECTION_BITS(), ADDRESS_BITS(), 1]);
    op.word <== w2;
    signal minter <== op.fields[1];
    NonZero()(minter);  // "new minter must be a non-zero address"
    // fastChain is one bit by the unpacking ("fastChain must be 0 or 1").
    signal newMinter <== minter + op.fields[2] * (1 << ADDRESS_BITS());

    component header = Header();
    header.w1 <== w1;
    header.spend <== 0;
    header.balance <== signerBalance;
    header.keyHash <== signerKeyHash;
    header.path <== signerPath;

    component collection = QuadUpdate(COLLECTION_LEVELS());
    collection.oldLeaf <== CollectionLeaf()(
        header.from, roundCap, epochCap, collectionRound, roundCount, collectionEpoch, epochCount,
        supply
    );
    collection.newLeaf <== CollectionLeaf()(
        newMinter, roundCap, epochCap, collectionRound, roundCount, collectionEpoch, epochCount,
        supply
    );
    for (var i = 0; i < COLLECTION_BITS(); i++) {
        collection.indexBits[i] <== op.bits[i];
    }
    collection.path <== collectionPath;
    _ <== op.bits;  // only the collection's bits are read; the unpacking constrains them all
    _ <== op.fields;

    signal pre <== StateRoot()(
        header.oldRoot, nftsRoot, collection.oldRoot, proversRoot, feePool, escrow, inbox
    );
    signal post <== StateRoot()(
        header.newRoot, nftsRoot, collection.newRoot, proversRoot, feePool + header.feeWei, escrow,
        inbox
    );
    preRoot === pre;
    postRoot === post;
}

component main {public [preRoot, postRoot, w1, w2]} = SetMinter();

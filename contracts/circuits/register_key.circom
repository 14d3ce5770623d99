pragma circom 2.1.0;

include "lib/header.circom";

// RegisterKey (ops.process_register_key): the signer's account gets keyHash = H(secret), the
// key of the NFT ownership proof (ownership.circom), replacing whatever it held. Two writes to
// the signer's slot, as the state machine makes them: the header's (fee and nonce), then the
// keyHash, against the root the header left. The second write's old leaf is the header's new
// leaf, recomputed here from the same fields, so the old keyHash is the one the pre-state
// holds (the header's Merkle path binds it) and nothing else in the leaf changes.
// Public: preRoot, postRoot, w1 (header), w2 = keyHash (a non-zero field element).
template RegisterKey() {
    signal input preRoot;
    signal input postRoot;
    signal input w1;
    signal input w2;
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
    // The signer's path again, in the tree the header's write left.
    signal input keyPath[ACCOUNT_LEVELS()][4];

    // Any field element but 0, which means "no key" ("key hash must be a non-zero field
    // element"): a wrap-around is no concern, the value is only hashed.
    NonZero()(w2);

    component header = Header();
    header.w1 <== w1;
    header.spend <== 0;
    header.balance <== signerBalance;
    header.keyHash <== signerKeyHash;
    header.path <== signerPath;

    // Header() keeps the word's fields to itself: unpack it again for the slot and the nonce.
    var indexBits = ACCOUNT_INDEX_BITS();
    component word = UnpackWord(4, [ADDRESS_BITS(), indexBits, NONCE_BITS(), FEE_GWEI_BITS()]);
    word.word <== w1;
    signal from <== word.fields[0];
    signal nonce <== word.fields[2];
    _ <== header.from;  // the same field: one word has one decomposition
    signal balance <== signerBalance - header.feeWei;  // Header() range-checked it

    component key = QuadUpdate(ACCOUNT_LEVELS());
    key.oldLeaf <== AccountLeaf()(from, balance, nonce + 1, signerKeyHash);
    key.newLeaf <== AccountLeaf()(from, balance, nonce + 1, w2);
    for (var i = 0; i < indexBits; i++) {
        key.indexBits[i] <== word.bits[ADDRESS_BITS() + i];
    }
    key.path <== keyPath;
    key.oldRoot === header.newRoot;
    _ <== word.bits;  // only the index bits are read; the unpacking constrains them all
    _ <== word.fields;

    signal pre <== StateRoot()(
        header.oldRoot, nftsRoot, collectionsRoot, proversRoot, feePool, escrow, inbox
    );
    signal post <== StateRoot()(
        key.newRoot, nftsRoot, collectionsRoot, proversRoot, feePool + header.feeWei, escrow, inbox
    );
    preRoot === pre;
    postRoot === post;
}

component main {public [preRoot, postRoot, w1, w2]} = RegisterKey();

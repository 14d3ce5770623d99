pragma circom 2.1.0;

include "circomlib/circuits/comparators.circom";
include "lib/header.circom";

// Counts after a mint in a round (or epoch) `current`, the collection being at `last` with
// `count` mints there: rounds never go backwards, a new round starts its count again, and the
// count stays within `cap` (ops.process_mint). All four are below 2^32 (rounds and epochs by
// their range checks, counts and caps by the collection's own rules).
template MintCount() {
    signal input current;
    signal input last;
    signal input count;
    signal input cap;
    signal output newCount;

    RangeCheck(ROUND_BITS())(current - last);
    signal isSame <== IsZero()(current - last);
    newCount <== isSame * count + 1;
    RangeCheck(CAP_BITS())(cap - newCount);
}

// Mint (ops.process_mint): the signer is the collection's minter; the round and the epoch do
// not go backwards and the counts after the mint are within the caps; the new token is
// serial = supply (so supply < 4096), owned by `to`, in a slot never used before.
// Public: preRoot, postRoot, w1 (header), w2 = to (160) | tokenKey (14) | round (32) |
// epoch (32), w3 = metadata. tokenKey = collection << 12 | serial.
template Mint() {
    signal input preRoot;
    signal input postRoot;
    signal input w1;
    signal input w2;
    signal input w3;
    signal input feePool;
    signal input escrow;
    signal input signerBalance;
    signal input signerKeyHash;
    signal input signerPath[ACCOUNT_LEVELS()][4];
    // The collection before the mint; its minter is the signer and its supply the serial.
    signal input roundCap;
    signal input epochCap;
    signal input collectionRound;
    signal input roundCount;
    signal input collectionEpoch;
    signal input epochCount;
    signal input collectionPath[COLLECTION_LEVELS()][4];
    signal input nftPath[NFT_LEVELS()][4];

    var keyBits = TOKEN_KEY_BITS();
    component op = UnpackWord(4, [ADDRESS_BITS(), keyBits, ROUND_BITS(), ROUND_BITS()]);
    op.word <== w2;
    signal to <== op.fields[0];
    NonZero()(to);
    signal round <== op.fields[2];
    signal epoch <== op.fields[3];
    signal tokenKeyBits[keyBits];
    for (var i = 0; i < keyBits; i++) {
        tokenKeyBits[i] <== op.bits[ADDRESS_BITS() + i];
    }
    var serial = 0;
    for (var i = 0; i < SERIAL_BITS(); i++) {
        serial += tokenKeyBits[i] * (1 << i);
    }
    _ <== op.bits;  // only tokenKey's bits are read; the unpacking constrains them all
    _ <== op.fields;

    component header = Header();
    header.w1 <== w1;
    header.spend <== 0;
    header.balance <== signerBalance;
    header.keyHash <== signerKeyHash;
    header.path <== signerPath;

    signal newRoundCount <== MintCount()(round, collectionRound, roundCount, roundCap);
    signal newEpochCount <== MintCount()(epoch, collectionEpoch, epochCount, epochCap);
    component collection = QuadUpdate(COLLECTION_LEVELS());
    collection.oldLeaf <== CollectionLeaf()(
        header.from, roundCap, epochCap, collectionRound, roundCount, collectionEpoch, epochCount,
        serial
    );
    collection.newLeaf <== CollectionLeaf()(
        header.from, roundCap, epochCap, round, newRoundCount, epoch, newEpochCount, serial + 1
    );
    for (var i = 0; i < 2 * COLLECTION_LEVELS(); i++) {
        collection.indexBits[i] <== tokenKeyBits[SERIAL_BITS() + i];
    }
    collection.path <== collectionPath;

    component token = QuadUpdate(NFT_LEVELS());
    token.oldLeaf <== EMPTY_NFT_LEAF();
    token.newLeaf <== NftLeaf()(to, w3, 0);
    token.indexBits <== tokenKeyBits;
    token.path <== nftPath;

    signal pre <== StateRoot()(header.oldRoot, token.oldRoot, collection.oldRoot, feePool, escrow);
    signal post <== StateRoot()(
        header.newRoot, token.newRoot, collection.newRoot, feePool + header.feeWei, escrow
    );
    preRoot === pre;
    postRoot === post;
}

component main {public [preRoot, postRoot, w1, w2, w3]} = Mint();

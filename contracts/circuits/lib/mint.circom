pragma circom 2.1.0;

include "circomlib/circuits/comparators.circom";
include "params.circom";
include "checks.circom";
include "leaves.circom";
include "merkle.circom";

// Counts after a mint in a round (or epoch) `current`, the collection being at `last` with
// `count` mints there: rounds never go backwards, a new round starts its count again, and the
// count stays within `cap` (ops.check_mint). All four are below 2^32 (rounds and epochs by
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

// A new token and its count against the caps, what every mint shares, signed or from the fast
// chain (ops.check_mint, ops.process_new_token): the round and the epoch do not go backwards,
// the round advances at most MAX_ROUNDS_PER_EPOCH for each epoch since the collection's last
// mint and for this one, and the counts after the mint are within the caps; the token is
// serial = supply (so supply < 4096: serial 4096 would be serial 0 of the next collection),
// owned by `to`, in a slot never used before. The caller has already decided who may mint: the
// collection's leaf must hold `minter`. The word is to (160) | tokenKey (14) | round (32) |
// epoch (32), with tokenKey = collection << 12 | serial; the metadata is any field element.
template NewToken() {
    signal input minter;
    signal input word;
    signal input metadata;
    // The collection before the mint; its supply is the token's serial.
    signal input roundCap;
    signal input epochCap;
    signal input collectionRound;
    signal input roundCount;
    signal input collectionEpoch;
    signal input epochCount;
    signal input collectionPath[COLLECTION_LEVELS()][4];
    signal input nftPath[NFT_LEVELS()][4];
    signal output collectionsOldRoot;
    signal output collectionsNewRoot;
    signal output nftsOldRoot;
    signal output nftsNewRoot;

    var keyBits = TOKEN_KEY_BITS();
    component op = UnpackWord(4, [ADDRESS_BITS(), keyBits, ROUND_BITS(), ROUND_BITS()]);
    op.word <== word;
    signal to <== op.fields[0];
    NonZero()(to);  // "recipient must be a non-zero address"
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

    signal newRoundCount <== MintCount()(round, collectionRound, roundCount, roundCap);
    signal newEpochCount <== MintCount()(epoch, collectionEpoch, epochCount, epochCap);
    // "round advances more than 1024 rounds an epoch" (ops.compute_round_allowance): both
    // differences are below 2^32 (MintCount checked them), so the allowance is linear and one
    // range check holds the rule.
    RangeCheck(ROUND_ALLOWANCE_BITS())(
        (epoch - collectionEpoch + 1) * MAX_ROUNDS_PER_EPOCH() - (round - collectionRound)
    );
    component collection = QuadUpdate(COLLECTION_LEVELS());
    collection.oldLeaf <== CollectionLeaf()(
        minter, roundCap, epochCap, collectionRound, roundCount, collectionEpoch, epochCount,
        serial
    );
    collection.newLeaf <== CollectionLeaf()(
        minter, roundCap, epochCap, round, newRoundCount, epoch, newEpochCount, serial + 1
    );
    for (var i = 0; i < COLLECTION_BITS(); i++) {
        collection.indexBits[i] <== tokenKeyBits[SERIAL_BITS() + i];
    }
    collection.path <== collectionPath;

    component token = QuadUpdate(NFT_LEVELS());
    token.oldLeaf <== EMPTY_NFT_LEAF();
    token.newLeaf <== NftLeaf()(to, metadata, 0);
    token.indexBits <== tokenKeyBits;
    token.path <== nftPath;

    collectionsOldRoot <== collection.oldRoot;
    collectionsNewRoot <== collection.newRoot;
    nftsOldRoot <== token.oldRoot;
    nftsNewRoot <== token.newRoot;
}

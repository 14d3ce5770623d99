pragma circom 2.1.0;

include "circomlib/circuits/bitify.circom";
include "circomlib/circuits/poseidon.circom";
include "lib/params.circom";
include "lib/checks.circom";
include "lib/leaves.circom";

// The NFT ownership proof (DESIGN.md, "Cross-chain and the damage bound"; docs/zk-state.md,
// "Ownership proof"). Not an operation: a statement a player proves to a fast-chain contract,
// which checks that `root` is a recent ZK state root and that `nullifier` is unused:
//
//   a token of collection `collection` is in the NFT tree under state root `root`, owned by an
//   account whose keyHash is H(secret) for a secret the prover knows; the proof is for round
//   `round` and session key `sessionKey`, and its nullifier is
//   H(NULLIFIER_DOMAIN, tokenKey, round), tokenKey = collection << 12 | serial.
//
// The nullifier names the token and the round, not the owner: a token handed to another owner
// mid-round still gives one seat. Nothing about the owner is public, but anyone can hash each
// tokenKey and find which token a nullifier spends.
// Public: root, collection (2 bits), round (32), sessionKey (160), nullifier.
//
// The templates below are here rather than in lib/, whose every file keys every circuit's
// cached ceremony: a new file there would rebuild them all.

// int("duet/pass-nullifier" as big-endian ASCII): keeps these hashes apart from every other
// Poseidon(3) of the chain (an NFT leaf is one too). chain/prover/ownership.py holds the same.
function NULLIFIER_DOMAIN() {
    return 2240301180262902091934804793257963566951654770;
}

// One level of an arity-4 Merkle path, read only: the child at position b0 + 2·b1 equals
// `below` (b0, b1 bits), and `node` is the hash of the four. lib/merkle.circom's QuadLevel
// without the write, which would cost a second Poseidon(4) a level.
template QuadReadLevel() {
    signal input b0;
    signal input b1;
    signal input below;
    signal input children[4];
    signal output node;

    signal both <== b0 * b1;
    signal pick1 <== b0 * (children[1] - children[0]);
    signal pick2 <== b1 * (children[2] - children[0]);
    signal pick3 <== both * (children[3] - children[2] - children[1] + children[0]);
    children[0] + pick1 + pick2 + pick3 === below;
    node <== Poseidon(4)(children);
}

// The root of the tree in which `leaf` is at the index with bits `indexBits` (little-endian,
// two per level from the leaves up; callers take them from Num2Bits), along `path`.
template QuadMembership(levels) {
    signal input leaf;
    signal input indexBits[2 * levels];
    signal input path[levels][4];
    signal output root;

    component level[levels];
    for (var l = 0; l < levels; l++) {
        level[l] = QuadReadLevel();
        level[l].b0 <== indexBits[2 * l];
        level[l].b1 <== indexBits[2 * l + 1];
        level[l].children <== path[l];
        level[l].below <== l == 0 ? leaf : level[l - 1].node;
    }
    root <== level[levels - 1].node;
}

template Ownership() {
    signal input root;
    signal input collection;
    signal input round;
    signal input sessionKey;
    signal input nullifier;
    // What only the owner knows.
    signal input secret;
    // The token: its serial in the collection, its leaf and path.
    signal input serial;
    signal input owner;
    signal input metadata;
    signal input price;
    signal input nftPath[NFT_LEVELS()][4];
    // The owner's account: its slot, leaf and path.
    signal input accountIndex;
    signal input balance;
    signal input nonce;
    signal input accountPath[ACCOUNT_LEVELS()][4];
    // The rest of the state root:
    // H(accountsRoot, nftsRoot, collectionsRoot, proversRoot, globalsHash).
    signal input collectionsRoot;
    signal input proversRoot;
    signal input globalsHash;

    signal collectionBits[COLLECTION_BITS()] <== Num2Bits(COLLECTION_BITS())(collection);
    RangeCheck(ROUND_BITS())(round);
    RangeCheck(ADDRESS_BITS())(sessionKey);
    // The session key appears in no other equation that a prover must satisfy: a product
    // puts it in the proof, so the proof is for this key and no other.
    signal sessionKeySquared <== sessionKey * sessionKey;
    signal serialBits[SERIAL_BITS()] <== Num2Bits(SERIAL_BITS())(serial);
    signal indexBits[ACCOUNT_INDEX_BITS()] <== Num2Bits(ACCOUNT_INDEX_BITS())(accountIndex);
    // An empty slot (owner 0) is no one's: not a token, not an account.
    NonZero()(owner);

    // The owner holds the key: its account's keyHash is H(secret).
    signal keyHash <== Poseidon(1)([secret]);
    signal accountLeaf <== AccountLeaf()(owner, balance, nonce, keyHash);
    signal accountsRoot <== QuadMembership(ACCOUNT_LEVELS())(accountLeaf, indexBits, accountPath);

    // The token is the owner's, at tokenKey = collection << 12 | serial.
    signal tokenKeyBits[TOKEN_KEY_BITS()];
    for (var i = 0; i < SERIAL_BITS(); i++) {
        tokenKeyBits[i] <== serialBits[i];
    }
    for (var i = 0; i < COLLECTION_BITS(); i++) {
        tokenKeyBits[SERIAL_BITS() + i] <== collectionBits[i];
    }
    signal nftLeaf <== NftLeaf()(owner, metadata, price);
    signal nftsRoot <== QuadMembership(NFT_LEVELS())(nftLeaf, tokenKeyBits, nftPath);

    signal state <== Poseidon(5)(
        [accountsRoot, nftsRoot, collectionsRoot, proversRoot, globalsHash]
    );
    root === state;
    signal tokenKey <== collection * (1 << SERIAL_BITS()) + serial;
    signal spent <== Poseidon(3)([NULLIFIER_DOMAIN(), tokenKey, round]);
    nullifier === spent;
}

component main {public [root, collection, round, sessionKey, nullifier]} = Ownership();

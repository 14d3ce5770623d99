pragma circom 2.1.0;

include "params.circom";
include "leaves.circom";
include "merkle.circom";

// One write to the token at the key with bits `tokenKeyBits`: (oldOwner, metadata, oldPrice)
// becomes (newOwner, metadata, newPrice); metadata never changes after the mint.
template NftUpdate() {
    signal input tokenKeyBits[TOKEN_KEY_BITS()];
    signal input oldOwner;
    signal input newOwner;
    signal input metadata;
    signal input oldPrice;
    signal input newPrice;
    signal input path[NFT_LEVELS()][4];
    signal output oldRoot;
    signal output newRoot;

    component update = QuadUpdate(NFT_LEVELS());
    update.oldLeaf <== NftLeaf()(oldOwner, metadata, oldPrice);
    update.newLeaf <== NftLeaf()(newOwner, metadata, newPrice);
    update.indexBits <== tokenKeyBits;
    update.path <== path;
    oldRoot <== update.oldRoot;
    newRoot <== update.newRoot;
}

pragma circom 2.1.0;

include "lib/header.circom";
include "lib/nft.circom";

// TransferNft (ops.process_transfer_nft): the signer owns the token and gives it to `to`;
// the transfer clears a listing.
// Public: preRoot, postRoot, w1 (header), w2 = to (160) | tokenKey (14).
template TransferNft() {
    signal input preRoot;
    signal input postRoot;
    signal input w1;
    signal input w2;
    // The pre-state's parts that the operation leaves alone.
    signal input collectionsRoot;
    signal input proversRoot;
    signal input feePool;
    signal input escrow;
    signal input inbox;
    signal input signerBalance;
    signal input signerKeyHash;
    signal input signerPath[ACCOUNT_LEVELS()][4];
    // The token before.
    signal input metadata;
    signal input price;
    signal input nftPath[NFT_LEVELS()][4];

    component op = UnpackWord(2, [ADDRESS_BITS(), TOKEN_KEY_BITS()]);
    op.word <== w2;
    signal to <== op.fields[0];
    NonZero()(to);

    component header = Header();
    header.w1 <== w1;
    header.spend <== 0;
    header.balance <== signerBalance;
    header.keyHash <== signerKeyHash;
    header.path <== signerPath;

    component token = NftUpdate();
    for (var i = 0; i < TOKEN_KEY_BITS(); i++) {
        token.tokenKeyBits[i] <== op.bits[ADDRESS_BITS() + i];
    }
    token.oldOwner <== header.from;  // the signer owns the token (and, from != 0, it exists)
    token.newOwner <== to;
    token.metadata <== metadata;
    token.oldPrice <== price;
    token.newPrice <== 0;
    token.path <== nftPath;
    _ <== op.bits;  // only tokenKey's bits are read; the unpacking constrains them all
    _ <== op.fields;

    signal pre <== StateRoot()(
        header.oldRoot, token.oldRoot, collectionsRoot, proversRoot, feePool, escrow, inbox
    );
    signal post <== StateRoot()(
        header.newRoot, token.newRoot, collectionsRoot, proversRoot, feePool + header.feeWei,
        escrow, inbox
    );
    preRoot === pre;
    postRoot === post;
}

component main {public [preRoot, postRoot, w1, w2]} = TransferNft();

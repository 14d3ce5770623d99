pragma circom 2.1.0;

include "lib/header.circom";
include "lib/nft.circom";

// Cancel (ops.process_cancel): the signer owns the token, which is listed; the listing goes.
// Public: preRoot, postRoot, w1 (header), w2 = tokenKey (14).
template Cancel() {
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

    signal tokenKeyBits[TOKEN_KEY_BITS()] <== Num2Bits(TOKEN_KEY_BITS())(w2);
    NonZero()(price);  // "token is not listed"

    component header = Header();
    header.w1 <== w1;
    header.spend <== 0;
    header.balance <== signerBalance;
    header.keyHash <== signerKeyHash;
    header.path <== signerPath;

    component token = NftUpdate();
    token.tokenKeyBits <== tokenKeyBits;
    token.oldOwner <== header.from;  // the signer owns the token (and, from != 0, it exists)
    token.newOwner <== header.from;
    token.metadata <== metadata;
    token.oldPrice <== price;
    token.newPrice <== 0;
    token.path <== nftPath;

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

component main {public [preRoot, postRoot, w1, w2]} = Cancel();

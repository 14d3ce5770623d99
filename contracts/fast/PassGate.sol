// SPDX-License-Identifier: GPL-3.0-or-later
pragma solidity ^0.8.24;

import {Groth16Precompile} from "contracts/fast/Groth16Precompile.sol";

interface IRootOracle {
    function isRecentStateRoot(bytes32 root) external view returns (bool);
}

/// @title PassGate
/// @notice The entry check a game inherits: "the caller's player owns a token of the pass
///         collection on the ZK chain", proven with the owner's secret, not their key, and
///         without their address as an input (the ownership circuit, docs/cross-chain.md; the
///         nullifier still tells which token took the seat). The proof is made against a recent ZK state root that the
///         root oracle holds, is bound to a round and to a session key (the address that will
///         sign the player's moves), and carries a nullifier that one token can spend once a
///         round: one pass, one seat.
abstract contract PassGate {
    /// The root oracle's system address on the fast chain (chain/fast/system.py).
    IRootOracle internal constant ROOT_ORACLE =
        IRootOracle(0x00000000000000000000000000000000D0E70002);

    /// keccak256 of the ownership circuit's verification key (chain/fast/groth16_precompile.py).
    bytes32 public immutable ownershipVkId;
    /// The ZK chain's collection whose tokens are passes.
    uint256 public immutable passCollection;
    mapping(uint256 => bool) public nullifierUsed;

    error UnknownRoot(bytes32 root);
    error NullifierUsed(uint256 nullifier);
    error InvalidPassProof();

    constructor(bytes32 ownershipVkId_, uint256 passCollection_) {
        ownershipVkId = ownershipVkId_;
        passCollection = passCollection_;
    }

    /// Reverts unless `proof` shows a pass of `passCollection` under the recent root `root`,
    /// for `round` and `sessionKey`, with the unused `nullifier`; then spends the nullifier.
    function _admit(
        bytes32 root,
        uint32 round,
        address sessionKey,
        uint256 nullifier,
        bytes calldata proof
    ) internal {
        if (!ROOT_ORACLE.isRecentStateRoot(root)) revert UnknownRoot(root);
        if (nullifierUsed[nullifier]) revert NullifierUsed(nullifier);
        uint256[] memory inputs = new uint256[](5);
        inputs[0] = uint256(root);
        inputs[1] = passCollection;
        inputs[2] = round;
        inputs[3] = uint160(sessionKey);
        inputs[4] = nullifier;
        if (!Groth16Precompile.verify(ownershipVkId, proof, inputs)) revert InvalidPassProof();
        nullifierUsed[nullifier] = true;
    }
}

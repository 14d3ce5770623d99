// SPDX-License-Identifier: GPL-3.0-or-later
pragma solidity ^0.8.24;

/// @title Groth16Precompile
/// @notice Checks a Groth16 (BN254) proof with the fast chain's native verifier, at a fixed
///         address (chain/fast/groth16_precompile.py): a game contract checks a proof made on
///         the ZK side, a game pass in the NFT tree under a recent root say, in one call of
///         150,000 + 5,000 gas per public input.
/// @dev The precompile takes `vkId ‖ proof ‖ inputs` and returns a 32-byte 1 or 0:
///        vkId    keccak256 of the snarkjs verification_key.json in canonical JSON (keys
///                sorted, no whitespace); pin it as a constant for the circuit you trust;
///        proof   256 bytes, uint256[8]: A.x, A.y, B.x.c1, B.x.c0, B.y.c1, B.y.c0, C.x, C.y
///                (the layout of an Ethereum verifier's verifyProof(a, b, c, ...));
///        inputs  the public signals, each below the BN254 scalar field modulus.
///      A proof that is well-formed but false returns false. The call itself fails for an
///      unknown vkId, a wrong number of inputs for the key, an input out of the field, a
///      proof of the wrong length or with points off their curve (or subgroup): this
///      library reverts with Groth16PrecompileFailed then. Like any failing precompile, a
///      failed call consumes all the gas it was given, here 63/64 of what is left.
library Groth16Precompile {
    address internal constant ADDRESS = 0x00000000000000000000000000000000d0E70100;

    /// The precompile refused the call (see above), or there is none at ADDRESS.
    error Groth16PrecompileFailed(bytes32 vkId);

    /// @notice Whether `proof` proves the statement `inputs` under the key `vkId`.
    function verify(bytes32 vkId, bytes memory proof, uint256[] memory inputs)
        internal
        view
        returns (bool)
    {
        // encodePacked lays an array's elements out as 32-byte words, with no length.
        (bool ok, bytes memory output) = ADDRESS.staticcall(abi.encodePacked(vkId, proof, inputs));
        // An address without code answers a call with success and nothing: not a verdict.
        if (!ok || output.length != 32) revert Groth16PrecompileFailed(vkId);
        return abi.decode(output, (uint256)) == 1;
    }
}

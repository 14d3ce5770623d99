// SPDX-License-Identifier: GPL-3.0-or-later
pragma solidity ^0.8.24;

import {Groth16Precompile} from "contracts/fast/Groth16Precompile.sol";

/// @title Groth16Probe
/// @notice The Groth16 precompile through its library, as a game contract uses it: in a view
///         (eth_call) and in a transaction that logs the verdict. Like FastProbe it reads no
///         fee opcodes, so what sends its transactions to py-evm on the revm executor is the
///         precompile alone.
contract Groth16Probe {
    /// How many proofs `record` has seen verify: state a transaction leaves behind.
    uint256 public verified;

    event Checked(bytes32 indexed vkId, bool valid);

    function check(bytes32 vkId, bytes calldata proof, uint256[] calldata inputs)
        external
        view
        returns (bool)
    {
        return Groth16Precompile.verify(vkId, proof, inputs);
    }

    function record(bytes32 vkId, bytes calldata proof, uint256[] calldata inputs)
        external
        returns (bool valid)
    {
        valid = Groth16Precompile.verify(vkId, proof, inputs);
        if (valid) verified += 1;
        emit Checked(vkId, valid);
    }
}

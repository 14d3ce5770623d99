// SPDX-License-Identifier: GPL-3.0-or-later
pragma solidity ^0.8.24;

/// @title Probe
/// @notice Exercises the corners of a node's JSON-RPC for the integration tests: events with
///         indexed and dynamic fields, both revert encodings, out-of-gas, nested calls, value
///         transfers (to itself and to a precompile) and the block context.
contract Probe {
    uint256 public value;

    /// Fixed payload of ValueSet's dynamic field, so tests can decode and compare it.
    bytes public constant NOTE = "probe";

    /// Slots written by burnGas: a fresh slot costs ~22k gas, so the gas runs out after a few
    /// thousand steps instead of millions, which matters for an interpreter in Python.
    mapping(uint256 => uint256) private scratch;

    event ValueSet(address indexed who, uint256 indexed v, bytes note);

    error Custom(uint256 code);

    constructor(uint256 initial) {
        value = initial;
    }

    receive() external payable {}

    function set(uint256 v) external {
        value = v;
        emit ValueSet(msg.sender, v, NOTE);
    }

    /// Reverts with Error(string) "probe: nope".
    function failWithReason() external pure {
        require(false, "probe: nope");
    }

    /// Reverts with the custom error Custom(c).
    function failCustom(uint256 c) external pure {
        revert Custom(c);
    }

    /// Never returns: burns all the gas it is given.
    function burnGas() external {
        for (uint256 i = 1; ; i++) {
            scratch[i] = i;
        }
    }

    /// An external call to itself, so the inner `set` sees this contract as msg.sender.
    function selfCall(uint256 v) external {
        this.set(v);
    }

    function deposit() external payable {}

    /// Forwards the value to the identity precompile (0x04), which accepts and keeps it.
    function sendToPrecompile() external payable {
        (bool ok, ) = address(4).call{value: msg.value}("");
        require(ok, "probe: precompile call failed");
    }

    function getBlockInfo()
        external
        view
        returns (uint256 number, uint256 timestamp, uint256 chainid, uint256 basefee)
    {
        return (block.number, block.timestamp, block.chainid, block.basefee);
    }
}

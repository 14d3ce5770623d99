// SPDX-License-Identifier: GPL-3.0-or-later
pragma solidity ^0.8.24;

import {FastProbe} from "contracts/test/FastProbe.sol";

/// @title Probe
/// @notice FastProbe plus the block context, base fee included, for the JSON-RPC tests.
contract Probe is FastProbe {
    constructor(uint256 initial) FastProbe(initial) {}

    function getBlockInfo()
        external
        view
        returns (uint256 number, uint256 timestamp, uint256 chainid, uint256 basefee)
    {
        return (block.number, block.timestamp, block.chainid, block.basefee);
    }
}

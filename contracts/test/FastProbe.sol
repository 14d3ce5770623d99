// SPDX-License-Identifier: GPL-3.0-or-later
pragma solidity ^0.8.24;

/// @title FastProbe
/// @notice The corners of a node's EVM that the tests exercise: events with indexed and
///         dynamic fields, both revert encodings, out-of-gas, nested and failing calls, value
///         transfers (to itself and to a precompile). It holds no fee opcodes: pyrevm 0.3.7
///         runs every message with a zero base fee and gas price, so the revm executor hands
///         any transaction whose code contains BASEFEE or GASPRICE to py-evm, and this
///         contract's transactions stay on revm for the conformance suite to compare.
contract FastProbe {
    uint256 public value;

    bytes public constant NOTE = "probe";

    /// Written by burnGas, a fresh slot (~22k gas) per step, so the gas runs out quickly.
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

    function failWithReason() external pure {
        require(false, "probe: nope");
    }

    function failCustom(uint256 c) external pure {
        revert Custom(c);
    }

    function burnGas() external {
        for (uint256 i = 1; ; i++) {
            scratch[i] = i;
        }
    }

    /// An external call to itself, so the inner `set` sees this contract as msg.sender.
    function selfCall(uint256 v) external {
        this.set(v);
    }

    /// Calls set() and then reverts itself: everything the nested call did is undone.
    function setThenFail(uint256 v) external {
        this.set(v);
        revert Custom(v);
    }

    /// Calls burnGas with little gas, which fails after reading and writing fresh slots, and
    /// carries on: the state that failed call read is gone from revm's journal afterwards.
    function swallowFailure() external {
        (bool ok, ) = address(this).call{gas: 30_000}(abi.encodeCall(this.burnGas, ()));
        value = ok ? 2 : 3;
    }

    function deposit() external payable {}

    function sendToPrecompile() external payable {
        (bool ok, ) = address(4).call{value: msg.value}("");
        require(ok, "probe: precompile call failed");
    }
}

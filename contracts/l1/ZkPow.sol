// SPDX-License-Identifier: GPL-3.0-or-later
pragma solidity ^0.8.24;

/// @title ZkPow
/// @notice ZKPoW on L1: a plain ERC-20 (EIP-20), its whole supply minted once, at deployment,
///         to one holder. ZKPoW is born on the ZK chain; this token is its L1 side, which the
///         rollup will lock for deposits and pay out for withdrawals (docs/l1.md).
/// @dev No owner, no further minting, no hooks: nothing here can change after deployment
///      except balances and allowances. An allowance of type(uint256).max is never spent
///      down (the common "infinite approval" convention).
contract ZkPow {
    string public constant name = "ZKPoW";
    string public constant symbol = "ZKPOW";
    uint8 public constant decimals = 18;

    uint256 public immutable totalSupply;
    mapping(address => uint256) public balanceOf;
    mapping(address => mapping(address => uint256)) public allowance;

    event Transfer(address indexed from, address indexed to, uint256 value);
    event Approval(address indexed owner, address indexed spender, uint256 value);

    /// `from` holds `balance`, less than the `needed` it was asked to send.
    error InsufficientBalance(address from, uint256 balance, uint256 needed);
    /// `spender` may move `allowance` of the owner's tokens, less than the `needed`.
    error InsufficientAllowance(address spender, uint256 allowance, uint256 needed);
    /// Tokens sent to the zero address would be lost for good; burning is not offered.
    error TransferToZeroAddress();

    constructor(address holder, uint256 supply) {
        if (holder == address(0)) revert TransferToZeroAddress();
        totalSupply = supply;
        balanceOf[holder] = supply;
        emit Transfer(address(0), holder, supply);
    }

    function transfer(address to, uint256 value) external returns (bool) {
        _move(msg.sender, to, value);
        return true;
    }

    function approve(address spender, uint256 value) external returns (bool) {
        allowance[msg.sender][spender] = value;
        emit Approval(msg.sender, spender, value);
        return true;
    }

    function transferFrom(address from, address to, uint256 value) external returns (bool) {
        uint256 allowed = allowance[from][msg.sender];
        if (allowed != type(uint256).max) {
            if (allowed < value) revert InsufficientAllowance(msg.sender, allowed, value);
            unchecked {
                allowance[from][msg.sender] = allowed - value;
            }
        }
        _move(from, to, value);
        return true;
    }

    function _move(address from, address to, uint256 value) private {
        if (to == address(0)) revert TransferToZeroAddress();
        uint256 balance = balanceOf[from];
        if (balance < value) revert InsufficientBalance(from, balance, value);
        unchecked {
            // No overflow: the sum of all balances is totalSupply.
            balanceOf[from] = balance - value;
            balanceOf[to] += value;
        }
        emit Transfer(from, to, value);
    }
}

// SPDX-License-Identifier: GPL-3.0-or-later
pragma solidity ^0.8.24;

/// @title RootOracle
/// @notice The ZK chain's recent roots, as the fast chain learns them from the ledger: a
///         fast-chain contract checks a proof made against a ZK root (a game pass in the NFT
///         tree, say) by asking whether that root is recent.
/// @dev Written only by the ledger, never by a transaction: each fast block that delivers a
///      ZK block's roots writes this contract's storage directly before its transactions
///      (chain/fast/system.py, compute_root_writes), so there is no setter to guard. Python
///      writes the slots by number, so the layout below is fixed; change it only together
///      with chain/fast/system.py:
///        slot 0         latestHeight
///        slots 1..256   stateRoots[height % WINDOW]
///        slots 257..512 nftsRoots[height % WINDOW]
///        slot 513       stateRootSeen: mapping base, keccak256(root ‖ uint256(513))
///        slot 514       nftsRootSeen: mapping base, keccak256(root ‖ uint256(514))
///      Before the first roots arrive, latestHeight is 0 and every root reads as zero.
contract RootOracle {
    /// How many ZK heights back a root stays readable: a ring of this many slots per root kind.
    uint256 public constant WINDOW = 256;

    /// The ZK height of the newest roots delivered.
    uint256 public latestHeight;
    bytes32[256] private stateRoots;
    bytes32[256] private nftsRoots;
    /// ZK height + 1 at which a root was last the state root (0: never), so that a lookup by
    /// root is one read and not a scan of the ring.
    mapping(bytes32 => uint256) private stateRootSeen;
    mapping(bytes32 => uint256) private nftsRootSeen;

    /// `height` is newer than the latest delivered, or older than the window, whose slot has
    /// since been reused.
    error HeightOutOfWindow(uint256 height, uint256 latestHeight);

    /// @notice The ZK state root at `height`, within the last WINDOW heights.
    function stateRootAt(uint256 height) external view returns (bytes32) {
        _checkInWindow(height);
        return stateRoots[height % WINDOW];
    }

    /// @notice The ZK NFT-tree root at `height`, within the last WINDOW heights.
    function nftsRootAt(uint256 height) external view returns (bytes32) {
        _checkInWindow(height);
        return nftsRoots[height % WINDOW];
    }

    /// @notice Whether `root` was the ZK state root at one of the last WINDOW heights.
    function isRecentStateRoot(bytes32 root) external view returns (bool) {
        return _isRecent(stateRootSeen[root]);
    }

    /// @notice Whether `root` was the ZK NFT-tree root at one of the last WINDOW heights.
    function isRecentNftsRoot(bytes32 root) external view returns (bool) {
        return _isRecent(nftsRootSeen[root]);
    }

    function _checkInWindow(uint256 height) private view {
        if (height > latestHeight || latestHeight - height >= WINDOW) {
            revert HeightOutOfWindow(height, latestHeight);
        }
    }

    /// The same window as _checkInWindow, for a root last seen at height `seen` - 1.
    function _isRecent(uint256 seen) private view returns (bool) {
        return seen != 0 && seen + WINDOW > latestHeight + 1;
    }
}

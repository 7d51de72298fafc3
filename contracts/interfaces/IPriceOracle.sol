// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @title IPriceOracle
/// @notice The protocol token's USD price. Implementations revert (never return a stale or invalid
///         value) so that every consumer halts with a clear error when the price cannot be trusted.
interface IPriceOracle {
    /// @notice USD per whole token, 18 decimals (1e18 = $1). Reverts when invalid or stale.
    function price() external view returns (uint256);
}

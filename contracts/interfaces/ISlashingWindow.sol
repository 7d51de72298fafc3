// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @title ISlashingWindow
/// @notice Implemented by the module that settles jobs (the JobCoordinator): how long after a provider's last
///         possible result it can still be slashed (challenge window + dispute timeout). The ProviderRegistry
///         keeps every unbonding period at least this long, so exiting cannot outrun a pending challenge.
interface ISlashingWindow {
    /// @notice Seconds during which a submitted result can still lead to a slash.
    function slashableWindow() external view returns (uint256);
}

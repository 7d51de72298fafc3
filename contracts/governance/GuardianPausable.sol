// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";

/// @title GuardianPausable
/// @notice Shared pause mechanism of every Cinder module: a GUARDIAN_ROLE may pause at once (a fast
///         reaction to an incident), only DEFAULT_ADMIN_ROLE (the timelock) may unpause. Modules pause
///         only the paths that take on new exposure; exits (withdraw, claim, burn) stay open so a pause
///         can never trap user funds.
abstract contract GuardianPausable is AccessControl, Pausable {
    /// @notice Role allowed to pause (not unpause) the module.
    bytes32 public constant GUARDIAN_ROLE = keccak256("GUARDIAN_ROLE");

    /// @notice Pauses the module's entry points.
    /// @dev Only GUARDIAN_ROLE. Reverts with `EnforcedPause` when already paused.
    function pause() external onlyRole(GUARDIAN_ROLE) {
        _pause();
    }

    /// @notice Lifts the pause.
    /// @dev Only DEFAULT_ADMIN_ROLE (the timelock). Reverts with `ExpectedPause` when not paused.
    function unpause() external onlyRole(DEFAULT_ADMIN_ROLE) {
        _unpause();
    }
}

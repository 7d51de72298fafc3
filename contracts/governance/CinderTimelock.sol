// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {TimelockController} from "@openzeppelin/contracts/governance/TimelockController.sol";

/// @title CinderTimelock
/// @notice The admin of every Cinder module: OpenZeppelin's TimelockController with two additions that make
///         "no admin path to user funds" hold even against a malicious proposal (say, granting a slasher
///         role to an attacker):
///         - the delay never drops to or below `EXIT_FLOOR`, the longest exit (unstake cooldown, provider
///           unbonding) at deployment, so anyone who sees a proposal in the queue can leave before it runs;
///         - cancellers (the guardian) can veto a queued proposal.
///         With no admin, only the timelock itself can change its own roles and delay.
contract CinderTimelock is TimelockController {
    /// @notice Thrown when the delay would not exceed the longest exit.
    error DelayNotAboveExitFloor(uint256 delay, uint256 exitFloor);

    /// @notice The longest exit period the delay must always exceed, in seconds.
    uint256 public immutable EXIT_FLOOR;

    /// @param minDelay Seconds between scheduling and execution; must exceed every entry of `exitPeriods`.
    /// @param proposers Accounts that may schedule (and cancel) operations.
    /// @param executors Accounts that may execute ready operations; address(0) lets anyone execute.
    /// @param cancellers Accounts that may only cancel queued operations (the guardian's veto).
    /// @param exitPeriods The protocol's exit periods (unstake cooldown, unbonding period).
    constructor(
        uint256 minDelay,
        address[] memory proposers,
        address[] memory executors,
        address[] memory cancellers,
        uint256[] memory exitPeriods
    ) TimelockController(minDelay, proposers, executors, address(0)) {
        uint256 floor = 0;
        for (uint256 i = 0; i < exitPeriods.length; ++i) {
            if (exitPeriods[i] > floor) floor = exitPeriods[i];
        }
        EXIT_FLOOR = floor;
        require(minDelay > floor, DelayNotAboveExitFloor(minDelay, floor));
        for (uint256 i = 0; i < cancellers.length; ++i) {
            _grantRole(CANCELLER_ROLE, cancellers[i]);
        }
    }

    /// @notice Changes the delay; only the timelock itself, and never to or below `EXIT_FLOOR`.
    /// @dev Reverts with {DelayNotAboveExitFloor} or `TimelockUnauthorizedCaller`.
    function updateDelay(uint256 newDelay) public override {
        require(newDelay > EXIT_FLOOR, DelayNotAboveExitFloor(newDelay, EXIT_FLOOR));
        super.updateDelay(newDelay);
    }
}

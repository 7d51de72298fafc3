// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Test} from "./Test.sol";
import {ProtocolToken} from "../../../contracts/ProtocolToken.sol";
import {StakingVault} from "../../../contracts/StakingVault.sol";
import {DailyCredit} from "../../../contracts/DailyCredit.sol";
import {MintRateCurve} from "../../../contracts/libraries/MintRateCurve.sol";
import {IStakingVault} from "../../../contracts/interfaces/IStakingVault.sol";

/// @notice Deploys the staking core (ProtocolToken, StakingVault, DailyCredit) with the deploy module's
///         defaults, the test contract as admin and treasury, and DailyCredit holding the vault's LOCKER_ROLE.
abstract contract CoreFixture is Test {
    uint256 internal constant INITIAL_SUPPLY = 100_000_000e18;
    uint256 internal constant MAX_SUPPLY = 1_000_000_000e18;
    uint256 internal constant COOLDOWN = 7 days;
    uint256 internal constant REWARD_PERIOD = 1 days;
    uint256 internal constant CREDIT_PER_DAY = 1e18;
    uint256 internal constant VENICE_BASE = 90e18;
    uint256 internal constant VENICE_POWER = 2e18;
    uint256 internal constant VENICE_TARGET = 38_000e18;

    /// @dev 2026-01-01 13:00 UTC: mid-day, so short warps cross UTC midnight.
    uint256 internal constant START = 1_767_225_600 + 13 hours;

    ProtocolToken internal token;
    StakingVault internal vault;
    DailyCredit internal credit;

    function _deployCore(uint256 initialSupply, uint256 maxSupply) internal {
        vm.warp(START);
        token = new ProtocolToken("Cinder", "CNDR", initialSupply, maxSupply, address(this), address(this));
        vault = new StakingVault(token, address(this), COOLDOWN, REWARD_PERIOD);
        credit = new DailyCredit(
            "Cinder Daily Credit",
            "DCR",
            IStakingVault(address(vault)),
            address(this),
            CREDIT_PER_DAY,
            MintRateCurve.Params(VENICE_BASE, VENICE_POWER, VENICE_TARGET)
        );
        vault.grantRole(vault.LOCKER_ROLE(), address(credit));
        vm.label(address(token), "token");
        vm.label(address(vault), "vault");
        vm.label(address(credit), "credit");
    }

    /// @dev Sends `amount` treasury tokens to `account` and approves the vault for it.
    function _fund(address account, uint256 amount) internal {
        token.transfer(account, amount);
        vm.prank(account);
        token.approve(address(vault), type(uint256).max);
    }

    function _stake(address account, uint256 amount) internal {
        vm.prank(account);
        vault.stake(amount);
    }

    function _claim(address account) internal returns (uint256) {
        vm.prank(account);
        return vault.claim();
    }
}

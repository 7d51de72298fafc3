// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {CoreFixture} from "./utils/CoreFixture.sol";
import {IStakingVault} from "../../contracts/interfaces/IStakingVault.sol";

/// @notice Fuzz tests of StakingVault accounting: streamed rewards, pro-rata split, cooldown and locks.
///         The test contract is admin, treasury and rewarder.
/// @dev Rounding: the stream rate is floored (loses < 1 wei per stream); each accumulator update floors
///      Δ(reward per token) (loses < 1 unit, i.e. < stake / 1e18 wei of a staker's reward) and each
///      settlement floors the staker's share (< 1 wei). So over `u` updates a staker of `s` loses at most
///      u · (s / 1e18 + 1) + 1 wei; the dust stays in the vault's reserve.
contract StakingVaultTest is CoreFixture {
    address internal alice;
    address internal bob;
    address internal carol;

    uint256 internal constant GRANT = 1_000_000_000e18;

    function setUp() public {
        _deployCore(10_000_000_000e18, 10_000_000_000e18);
        vault.grantRole(vault.REWARDER_ROLE(), address(this));
        token.approve(address(vault), type(uint256).max);
        alice = makeAddr("alice");
        bob = makeAddr("bob");
        carol = makeAddr("carol");
        _fund(alice, GRANT);
        _fund(bob, GRANT);
        _fund(carol, GRANT);
    }

    // ------------------------------------------------------------------ reward stream

    /// @notice A lone staker staked for a whole stream receives it all, less at most
    ///         (claims + 1) · (stake / 1e18 + 1) + 1 wei of rounding dust, however often it claims midway.
    function testFuzz_aLoneStakerReceivesTheWholeStreamLessDust(
        uint256 amount,
        uint256 reward,
        uint256 period,
        uint256 claims,
        uint256 seed
    ) public {
        amount = bound(amount, 1, GRANT);
        reward = bound(reward, 1, 1_000_000_000e18);
        period = bound(period, 1 hours, 30 days);
        claims = bound(claims, 0, 6);
        vault.setRewardPeriod(period);

        _stake(alice, amount);
        vault.notifyReward(reward);
        uint256 end = block.timestamp + period;

        uint256 claimed;
        for (uint256 i; i < claims; ++i) {
            seed = uint256(keccak256(abi.encode(seed, i)));
            vm.warp(bound(seed, block.timestamp, end));
            claimed += _claim(alice);
        }
        vm.warp(end + bound(seed, 0, 10 days));
        claimed += _claim(alice);

        uint256 dust = (claims + 1) * (amount / 1e18 + 1) + 1;
        vm.assertLe(claimed, reward, "never more than the stream");
        vm.assertGe(claimed + dust, reward, "the whole stream less rounding dust");
        vm.assertEq(vault.rewardReserve(), reward - claimed, "dust stays in the reserve");
        vm.assertEq(token.balanceOf(address(vault)), amount + reward - claimed, "vault balance");
    }

    /// @notice Rewards streamed while nobody is staked are not lost: they roll into the next stream.
    function testFuzz_rewardsStreamedToNobodyRollIntoTheNextStream(
        uint256 amount,
        uint256 reward1,
        uint256 reward2,
        uint256 idle
    ) public {
        amount = bound(amount, 1, GRANT);
        reward1 = bound(reward1, 1, 1_000_000_000e18);
        reward2 = bound(reward2, 1, 1_000_000_000e18);
        idle = bound(idle, 1, 3 days); // may outlast the 1-day stream

        vault.notifyReward(reward1);
        vm.warp(block.timestamp + idle);
        _stake(alice, amount);
        vm.warp(block.timestamp + REWARD_PERIOD);
        uint256 claimed = _claim(alice);

        vault.notifyReward(reward2); // carries the idle slice of stream 1 over
        vm.warp(block.timestamp + REWARD_PERIOD);
        claimed += _claim(alice);

        // Updates: stake, claim, notify, claim; the idle slice is floored once more when set aside.
        uint256 dust = 4 * (amount / 1e18 + 1) + 3;
        vm.assertLe(claimed, reward1 + reward2, "never more than notified");
        vm.assertGe(claimed + dust, reward1 + reward2, "both streams, idle slice included, less dust");
    }

    /// @notice Two stakers share a stream pro rata to stake × time: Alice alone until Bob joins, then by
    ///         stake. Each is within 2 · (Σ stake / 1e18 + 2) wei of the exact split (two accumulator
    ///         updates: when Bob joins and at the end).
    function testFuzz_twoStakersShareProRataToStakeTimesTime(
        uint256 stakeA,
        uint256 stakeB,
        uint256 reward,
        uint256 join
    ) public {
        stakeA = bound(stakeA, 1e6, GRANT);
        stakeB = bound(stakeB, 1e6, GRANT);
        reward = bound(reward, 1, 1_000_000_000e18);
        join = bound(join, 0, REWARD_PERIOD);

        _stake(alice, stakeA);
        vault.notifyReward(reward);
        uint256 start = block.timestamp;
        vm.warp(start + join);
        _stake(bob, stakeB);
        vm.warp(start + REWARD_PERIOD + 1 hours);

        uint256 soloPart = Math.mulDiv(reward, join, REWARD_PERIOD);
        uint256 sharedPart = Math.mulDiv(reward, REWARD_PERIOD - join, REWARD_PERIOD);
        uint256 expectedA = soloPart + Math.mulDiv(sharedPart, stakeA, stakeA + stakeB);
        uint256 expectedB = Math.mulDiv(sharedPart, stakeB, stakeA + stakeB);
        uint256 tolerance = 2 * ((stakeA + stakeB) / 1e18 + 2);

        uint256 gotA = _claim(alice);
        uint256 gotB = _claim(bob);
        vm.assertApproxEqAbs(gotA, expectedA, tolerance, "alice: solo slice + her share");
        vm.assertApproxEqAbs(gotB, expectedB, tolerance, "bob: his share since joining");
        vm.assertLe(gotA + gotB, reward, "no more than the stream");
    }

    /// @notice Any sequence of stakes, unstake requests, cancels, withdrawals, claims, rewards and warps
    ///         pays out no more than was notified, and the vault's books balance at every step.
    function testFuzz_claimsNeverExceedNotifiedRewards(uint256 seed, uint256 steps) public {
        steps = bound(steps, 4, 40);
        address[3] memory stakers = [alice, bob, carol];
        uint256 notified;
        uint256 claimed;
        for (uint256 i; i < steps; ++i) {
            seed = uint256(keccak256(abi.encode(seed, i)));
            address who = stakers[seed % 3];
            uint256 amount = bound(seed >> 8, 1, 10_000_000e18);
            uint256 action = (seed >> 4) % 7;
            vm.startPrank(who);
            if (action == 0) {
                vault.stake(amount);
            } else if (action == 1) {
                uint256 free = vault.stakeOf(who) - vault.lockedOf(who);
                if (free != 0) vault.requestUnstake(bound(amount, 1, free));
            } else if (action == 2) {
                (uint256 cooling, ) = vault.coolingOf(who);
                if (cooling != 0) vault.cancelUnstake();
            } else if (action == 3) {
                (uint256 cooling, uint256 unlockTime) = vault.coolingOf(who);
                if (cooling != 0 && block.timestamp >= unlockTime) vault.withdraw();
            } else if (action == 4) {
                claimed += vault.claim();
            } else if (action == 5) {
                vm.stopPrank();
                vault.notifyReward(amount);
                notified += amount;
            } else {
                vm.warp(block.timestamp + bound(seed >> 16, 1, 3 days));
            }
            vm.stopPrank();
            _assertBooksBalance(notified, claimed);
        }
        vm.warp(block.timestamp + 30 days);
        for (uint256 j; j < 3; ++j) {
            claimed += _claim(stakers[j]);
        }
        _assertBooksBalance(notified, claimed);
    }

    // ------------------------------------------------------------------ unstaking

    /// @notice requestUnstake followed by cancelUnstake in the same block changes nothing: not the stake,
    ///         the books, or the rewards (Alice ends within 1 wei of Bob, who staked the same and did nothing).
    function testFuzz_requestThenCancelUnstakeIsNeutral(
        uint256 amount,
        uint256 part,
        uint256 reward,
        uint256 at
    ) public {
        amount = bound(amount, 1, GRANT);
        part = bound(part, 1, amount);
        reward = bound(reward, 1, 1_000_000_000e18);
        at = bound(at, 0, 2 * REWARD_PERIOD);

        _stake(alice, amount);
        _stake(bob, amount);
        vault.notifyReward(reward);
        vm.warp(block.timestamp + at);

        uint256 earnedBefore = vault.earned(alice);
        uint256 totalBefore = vault.totalStaked();
        uint256 balanceBefore = token.balanceOf(address(vault));
        vm.startPrank(alice);
        vault.requestUnstake(part);
        vault.cancelUnstake();
        vm.stopPrank();

        (uint256 cooling, uint256 unlockTime) = vault.coolingOf(alice);
        vm.assertEq(vault.stakeOf(alice), amount, "stake restored");
        vm.assertEq(cooling, 0, "nothing cooling");
        vm.assertEq(unlockTime, 0, "no unlock time");
        vm.assertEq(vault.totalStaked(), totalBefore, "total staked");
        vm.assertEq(vault.totalCooling(), 0, "total cooling");
        vm.assertEq(token.balanceOf(address(vault)), balanceBefore, "vault balance");
        vm.assertEq(vault.earned(alice), earnedBefore, "earned so far");

        vm.warp(block.timestamp + REWARD_PERIOD + 1);
        vm.assertApproxEqAbs(vault.earned(alice), vault.earned(bob), 1, "same rewards as an idle twin");
    }

    /// @notice withdraw reverts with CooldownNotElapsed at any time before the unlock time, and pays the
    ///         whole cooling amount from then on.
    function testFuzz_withdrawOnlyAfterTheCooldown(
        uint256 amount,
        uint256 part,
        uint256 cooldown,
        uint256 early,
        uint256 late
    ) public {
        amount = bound(amount, 1, GRANT);
        part = bound(part, 1, amount);
        cooldown = bound(cooldown, 1, 30 days);
        vault.setCooldown(cooldown);
        _stake(alice, amount);

        vm.prank(alice);
        vault.requestUnstake(part);
        uint256 unlockTime = block.timestamp + cooldown;
        (uint256 cooling, uint256 recorded) = vault.coolingOf(alice);
        vm.assertEq(cooling, part, "cooling");
        vm.assertEq(recorded, unlockTime, "unlock time");

        vm.warp(bound(early, block.timestamp, unlockTime - 1));
        vm.expectRevert(
            abi.encodeWithSelector(IStakingVault.CooldownNotElapsed.selector, alice, unlockTime, block.timestamp)
        );
        vm.prank(alice);
        vault.withdraw();

        vm.warp(unlockTime + bound(late, 0, 365 days));
        uint256 before = token.balanceOf(alice);
        vm.prank(alice);
        vm.assertEq(vault.withdraw(), part, "withdrawn");
        vm.assertEq(token.balanceOf(alice), before + part, "paid out");
        (cooling, ) = vault.coolingOf(alice);
        vm.assertEq(cooling, 0, "nothing left cooling");
        vm.assertEq(vault.stakeOf(alice), amount - part, "rest still staked");
    }

    /// @notice A second request adds to the cooling amount and restarts the cooldown for all of it.
    function testFuzz_aSecondRequestRestartsTheCooldown(uint256 first, uint256 second, uint256 gap) public {
        first = bound(first, 1, GRANT / 2);
        second = bound(second, 1, GRANT / 2);
        gap = bound(gap, 1, COOLDOWN - 1);
        _stake(alice, first + second);

        vm.prank(alice);
        vault.requestUnstake(first);
        vm.warp(block.timestamp + gap);
        vm.prank(alice);
        vault.requestUnstake(second);
        uint256 unlockTime = block.timestamp + COOLDOWN;

        vm.warp(block.timestamp + COOLDOWN - gap); // the first request's unlock time
        vm.expectRevert(
            abi.encodeWithSelector(IStakingVault.CooldownNotElapsed.selector, alice, unlockTime, block.timestamp)
        );
        vm.prank(alice);
        vault.withdraw();

        vm.warp(unlockTime);
        vm.prank(alice);
        vm.assertEq(vault.withdraw(), first + second, "both requests");
    }

    /// @notice Stake in the cooldown earns nothing.
    function testFuzz_coolingStakeEarnsNothing(uint256 amount, uint256 reward, uint256 at) public {
        amount = bound(amount, 1, GRANT);
        reward = bound(reward, 1, 1_000_000_000e18);
        at = bound(at, 0, REWARD_PERIOD);
        _stake(alice, amount);
        _stake(bob, amount);
        vault.notifyReward(reward);
        vm.warp(block.timestamp + at);

        vm.prank(alice);
        vault.requestUnstake(amount);
        uint256 earnedAtRequest = vault.earned(alice);
        vm.warp(block.timestamp + REWARD_PERIOD);
        vm.assertEq(vault.earned(alice), earnedAtRequest, "nothing accrues while cooling");
        // Two accumulator slices for Bob, one for Alice's settled share: 3 floors of ≤ amount / 1e18 + 1.
        vm.assertGe(vault.earned(bob) + 3 * (amount / 1e18 + 1), reward - earnedAtRequest, "bob gets the rest");
        vm.assertLe(vault.earned(bob), reward - earnedAtRequest, "and no more");
    }

    /// @notice Locked stake keeps earning but cannot be unstaked; only the part above the lock can.
    function testFuzz_lockedStakeCannotBeUnstaked(uint256 amount, uint256 locked, uint256 ask) public {
        amount = bound(amount, 1, GRANT);
        locked = bound(locked, 1, amount);
        vault.grantRole(vault.LOCKER_ROLE(), address(this));
        _stake(alice, amount);
        vault.lock(alice, locked);

        uint256 free = amount - locked;
        ask = bound(ask, free + 1, amount + 1);
        vm.expectRevert(
            abi.encodeWithSelector(IStakingVault.InsufficientUnlockedStake.selector, alice, free, ask)
        );
        vm.prank(alice);
        vault.requestUnstake(ask);

        if (free != 0) {
            vm.prank(alice);
            vault.requestUnstake(free);
        }
        vm.assertEq(vault.stakeOf(alice), locked, "the locked part stays staked");
        vm.assertEq(vault.lockedOf(alice), locked, "lock unchanged");

        vault.unlock(alice, locked);
        vm.prank(alice);
        vault.requestUnstake(locked);
        vm.assertEq(vault.stakeOf(alice), 0, "unstakable once unlocked");
    }

    // ------------------------------------------------------------------ helpers

    function _assertBooksBalance(uint256 notified, uint256 claimed) internal view {
        vm.assertLe(claimed, notified, "claimed <= notified");
        vm.assertEq(vault.rewardReserve(), notified - claimed, "reserve = notified - claimed");
        vm.assertEq(
            token.balanceOf(address(vault)),
            vault.totalStaked() + vault.totalCooling() + vault.rewardReserve(),
            "vault balance = staked + cooling + reserve"
        );
        uint256 earnedSum = vault.earned(alice) + vault.earned(bob) + vault.earned(carol);
        vm.assertLe(earnedSum, vault.rewardReserve(), "sum earned <= reserve");
    }
}

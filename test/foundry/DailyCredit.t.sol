// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {CoreFixture} from "./utils/CoreFixture.sol";
import {ReferenceCurve} from "./utils/ReferenceCurve.sol";
import {IDailyCredit} from "../../contracts/interfaces/IDailyCredit.sol";

/// @notice Fuzz tests of DailyCredit: the stake a mint locks, pro-rata unlocks, and the daily allowance.
contract DailyCreditTest is CoreFixture {
    address internal alice;
    address internal bob;

    uint256 internal constant GRANT = 500_000_000_000e18;

    function setUp() public {
        _deployCore(1_000_000_000_000e18, 1_000_000_000_000e18);
        credit.grantRole(credit.SPENDER_ROLE(), address(this));
        alice = makeAddr("alice");
        bob = makeAddr("bob");
        _fund(alice, GRANT);
        _fund(bob, GRANT);
        _stake(alice, GRANT);
        _stake(bob, GRANT);
    }

    // ------------------------------------------------------------------ mint

    /// @notice The stake a mint locks is amount × mintRate(supply after the mint) / 1e18 rounded up, never
    ///         less, and within 1e-9 of the independent reference curve. Curve parameters are fuzzed too.
    function testFuzz_mintLocksAtLeastAmountTimesRateRoundedUp(
        uint256 before,
        uint256 amount,
        uint256 base,
        uint256 power,
        uint256 target
    ) public {
        base = bound(base, 1e12, 100e18);
        power = bound(power, 0, 3e18);
        target = bound(target, 1_000e18, 100_000e18);
        credit.setCurve(base, power, target);
        // Supply after both mints ≤ 1.5 × target: exponent ≤ 10.2, rate ≤ 2.7e6 tokens, so the stake each
        // mint locks (≤ 2.7e11 tokens) fits each staker's 5e11.
        before = bound(before, 0, target);
        amount = bound(amount, 1, target / 2);

        if (before != 0) {
            vm.prank(bob);
            credit.mint(before, type(uint256).max);
        }
        uint256 supplyAfter = credit.totalSupply() + amount;
        uint256 rate = credit.mintRate(supplyAfter);
        uint256 quoted = credit.quoteMint(amount);

        vm.prank(alice);
        uint256 locked = credit.mint(amount, type(uint256).max);

        vm.assertEq(locked, quoted, "locks what it quoted");
        vm.assertGe(locked * 1e18, amount * rate, "locked >= amount x rate / 1e18");
        vm.assertLt((locked - 1) * 1e18, amount * rate, "rounded up by less than one wei");
        vm.assertEq(locked, Math.mulDiv(amount, rate, 1e18, Math.Rounding.Ceil), "ceil(amount x rate / 1e18)");
        vm.assertApproxEqRel(
            rate,
            ReferenceCurve.rate(base, power, target, supplyAfter),
            1e9,
            "rate at the supply after the mint"
        );
        vm.assertEq(vault.lockedBy(alice, address(credit)), locked, "vault lock");
        vm.assertEq(vault.lockedOf(alice), locked, "locked of");
        IDailyCredit.Position memory p = credit.positionOf(alice);
        vm.assertEq(p.credits, amount, "position credits");
        vm.assertEq(p.stakeLocked, locked, "position stake");
    }

    /// @notice The slippage guard: a mint that would lock more than maxStakeToLock reverts.
    function testFuzz_mintHonoursTheStakeLimit(uint256 amount, uint256 limit) public {
        amount = bound(amount, 1, 20_000e18);
        uint256 quoted = credit.quoteMint(amount);
        limit = bound(limit, 0, quoted - 1);
        vm.expectRevert(abi.encodeWithSelector(IDailyCredit.StakeLimitExceeded.selector, quoted, limit));
        vm.prank(alice);
        credit.mint(amount, limit);
    }

    // ------------------------------------------------------------------ burn

    /// @notice burn unlocks the position pro rata, rounded down; closing the position unlocks the rest,
    ///         so mint + burns in any split release exactly what was locked.
    function testFuzz_burnUnlocksProRataAndClosingReleasesEverything(uint256 amount, uint256 part) public {
        amount = bound(amount, 1, 30_000e18);
        part = bound(part, 1, amount);
        vm.startPrank(alice);
        uint256 locked = credit.mint(amount, type(uint256).max);

        uint256 released = credit.burn(part);
        vm.assertEq(released, Math.mulDiv(locked, part, amount), "pro rata, rounded down");
        vm.assertEq(vault.lockedBy(alice, address(credit)), locked - released, "vault lock after a partial burn");
        if (part < amount) released += credit.burn(amount - part);
        vm.stopPrank();

        vm.assertEq(released, locked, "closing releases everything");
        vm.assertEq(vault.lockedOf(alice), 0, "nothing locked");
        vm.assertEq(credit.positionOf(alice).stakeLocked, 0, "position closed");
        vm.assertEq(credit.totalSupply(), 0, "no credit left");
    }

    // ------------------------------------------------------------------ allowance

    /// @notice A day's spends stop at creditPerDay × balance; the allowance comes back in full the next day.
    function testFuzz_spendingStopsAtTheDailyAllowance(uint256 amount, uint256 first, uint256 wait) public {
        amount = bound(amount, 1, 20_000e18);
        vm.prank(alice);
        credit.mint(amount, type(uint256).max);
        uint256 budget = (amount * CREDIT_PER_DAY) / 1e18;
        vm.assertEq(credit.dailyAllowance(alice), budget, "minted today spends today");

        first = bound(first, 1, budget);
        credit.spend(alice, first);
        uint256 left = budget - first;
        vm.assertEq(credit.dailyAllowance(alice), left, "allowance left");
        vm.expectRevert(
            abi.encodeWithSelector(IDailyCredit.InsufficientDailyAllowance.selector, alice, left, left + 1)
        );
        credit.spend(alice, left + 1);

        vm.warp((block.timestamp / 1 days + 1) * 1 days + bound(wait, 0, 5 days)); // a later UTC day
        vm.assertEq(credit.dailyAllowance(alice), budget, "fresh allowance, no roll-over");
        vm.assertEq(credit.spentToday(alice), 0, "nothing spent yet");
    }

    /// @notice A refund gives back min(usd, spent today), never more, so the allowance stays within
    ///         creditPerDay × balance; on a later day, a refund for the spending day gives nothing back.
    function testFuzz_refundRestoresAtMostTodaysSpending(uint256 amount, uint256 spent, uint256 usd) public {
        amount = bound(amount, 1, 20_000e18);
        vm.prank(alice);
        credit.mint(amount, type(uint256).max);
        uint256 budget = (amount * CREDIT_PER_DAY) / 1e18; // ≥ 1: one credit is worth one USD a day
        spent = bound(spent, 1, budget);
        usd = bound(usd, 0, 2 * budget);
        uint256 day = credit.currentDay();
        credit.spend(alice, spent);

        uint256 refunded = credit.refund(alice, day, usd);
        vm.assertEq(refunded, Math.min(usd, spent), "refunds min(usd, spent today)");
        vm.assertEq(credit.spentToday(alice), spent - refunded, "spent today");
        vm.assertEq(credit.dailyAllowance(alice), budget - spent + refunded, "allowance restored");
        vm.assertLe(credit.dailyAllowance(alice), budget, "never above the day's budget");

        // Tomorrow starts afresh, and a refund for today then gives nothing back.
        if (spent - refunded != 0) {
            vm.warp((day + 1) * 1 days);
            vm.assertEq(credit.refund(alice, day, spent), 0, "no refund of an earlier day");
            vm.assertEq(credit.dailyAllowance(alice), budget, "fresh allowance, nothing carried over");
        }
    }

    /// @notice Credits received by transfer spend from the next UTC day; credits sent away stop at once,
    ///         so the same credit cannot be spent twice on one day.
    function testFuzz_transferredCreditsSpendOnlyFromTheNextDay(
        uint256 amount,
        uint256 sent,
        uint256 spentFirst
    ) public {
        amount = bound(amount, 2, 20_000e18);
        sent = bound(sent, 1, amount);
        vm.prank(alice);
        credit.mint(amount, type(uint256).max);
        spentFirst = bound(spentFirst, 0, amount);
        if (spentFirst != 0) credit.spend(alice, spentFirst);

        vm.prank(alice);
        credit.transfer(bob, sent);
        vm.assertEq(credit.dailyAllowance(bob), 0, "received today: nothing for bob today");
        uint256 aliceLeft = amount - sent > spentFirst ? amount - sent - spentFirst : 0;
        vm.assertEq(credit.dailyAllowance(alice), aliceLeft, "sent away: stops counting at once");

        vm.warp((block.timestamp / 1 days + 1) * 1 days);
        vm.assertEq(credit.dailyAllowance(bob), sent, "bob spends them from the next day");
        vm.assertEq(credit.dailyAllowance(alice), amount - sent, "alice keeps the rest");
    }

    /// @notice A credit spends at most once a day, even through a burn and re-mint: credits Alice spent
    ///         today, sent to Bob, burned against Bob's position and minted again with the freed stake, give
    ///         Bob no allowance today.
    function testFuzz_burningAndRemintingReceivedCreditsDoesNotRefreshThem(uint256 amount) public {
        amount = bound(amount, 1, 20_000e18);
        // Day 0: Bob mints and hands the credits to Alice; his position stays with him.
        vm.startPrank(bob);
        credit.mint(amount, type(uint256).max);
        credit.transfer(alice, amount);
        vm.stopPrank();

        // Day 1: Alice spends them, then sends them to Bob, who burns and re-mints.
        vm.warp((block.timestamp / 1 days + 1) * 1 days);
        credit.spend(alice, (amount * CREDIT_PER_DAY) / 1e18);
        vm.prank(alice);
        credit.transfer(bob, amount);
        vm.startPrank(bob);
        credit.burn(amount);
        credit.mint(amount, type(uint256).max);
        vm.stopPrank();

        vm.assertEq(credit.totalSupply(), amount, "still the same supply");
        vm.assertEq(credit.dailyAllowance(bob), 0, "re-minted credits do not spend again today");
        vm.assertEq(credit.dailyAllowance(alice), 0, "alice has nothing left");

        vm.warp(block.timestamp + 1 days);
        vm.assertEq(credit.dailyAllowance(bob), (amount * CREDIT_PER_DAY) / 1e18, "they spend again tomorrow");
    }
}

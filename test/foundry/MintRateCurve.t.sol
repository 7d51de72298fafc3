// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {FixedPointMathLib} from "solady/src/utils/FixedPointMathLib.sol";
import {Test} from "./utils/Test.sol";
import {ReferenceCurve} from "./utils/ReferenceCurve.sol";
import {MintRateCurve} from "../../contracts/libraries/MintRateCurve.sol";

/// @notice Exposes the MintRateCurve library through external calls, so reverts can be expected.
contract MintRateCurveHarness {
    function rate(
        uint256 baseRate,
        uint256 power,
        uint256 targetSupply,
        uint256 supply
    ) external pure returns (uint256) {
        return MintRateCurve.rate(MintRateCurve.Params(baseRate, power, targetSupply), supply);
    }

    function stakeFor(uint256 amount, uint256 rate_) external pure returns (uint256) {
        return MintRateCurve.stakeFor(amount, rate_);
    }

    function expWad(int256 x) external pure returns (int256) {
        return FixedPointMathLib.expWad(x);
    }
}

/// @notice rate(S) = base · exp(power · (S / target)^3): Venice's launch point, monotonicity, and agreement
///         with an independent 1e36 fixed-point reference (ReferenceCurve) within 1e-9 relative.
contract MintRateCurveTest is Test {
    MintRateCurveHarness internal curve;

    uint256 internal constant VENICE_BASE = 90e18;
    uint256 internal constant VENICE_POWER = 2e18;
    uint256 internal constant VENICE_TARGET = 38_000e18;

    /// @dev 1e-9 relative, in forge's assertApproxEqRel unit (1e18 = 100 %).
    uint256 internal constant REL_1E_9 = 1e9;

    // DailyCredit's bounds on the curve parameters.
    uint256 internal constant MAX_BASE = 1e24;
    uint256 internal constant MAX_POWER = 10e18;
    uint256 internal constant MIN_TARGET = 1e18;
    uint256 internal constant MAX_TARGET = 1e30;

    function setUp() public {
        curve = new MintRateCurveHarness();
    }

    // ------------------------------------------------------------------ fixed points

    function test_reproducesVeniceObservedRateAt10kSupply() public view {
        uint256 r = curve.rate(VENICE_BASE, VENICE_POWER, VENICE_TARGET, 10_000e18);
        vm.assertApproxEqAbs(r, 93.34e18, 0.005e18, "Venice: 93.34 at S = 10 000");
        vm.assertApproxEqRel(
            r,
            ReferenceCurve.rate(VENICE_BASE, VENICE_POWER, VENICE_TARGET, 10_000e18),
            REL_1E_9,
            "reference"
        );
    }

    /// @dev rate(0) = base · e^0; the curve may round up by a few 1e-18 relative, never down.
    function test_isTheBaseRateAtZeroSupply() public view {
        uint256 r = curve.rate(VENICE_BASE, VENICE_POWER, VENICE_TARGET, 0);
        vm.assertGe(r, VENICE_BASE, "rate(0) >= base");
        vm.assertApproxEqRel(r, VENICE_BASE, 10, "rate(0) = base within 1e-17");
    }

    function test_isBaseTimesEAtTargetWithUnitPower() public view {
        // exp(1 · 1^3) = e = 2.718281828459045235360…
        uint256 r = curve.rate(1e18, 1e18, VENICE_TARGET, VENICE_TARGET);
        vm.assertGe(r, 2_718281828459045235, "rate(target) >= e with power 1");
        vm.assertApproxEqRel(r, 2_718281828459045235, 10, "rate(target) = e within 1e-17");
    }

    function test_referenceEIsEToThirtySixDecimals() public pure {
        vm.assertApproxEqAbs(ReferenceCurve.e(), 2_718281828459045235360287471352662497, 40, "reference e");
    }

    // ------------------------------------------------------------------ fuzz

    /// @notice rate is monotone non-decreasing in the supply, over the whole parameter space.
    function testFuzz_isMonotoneInSupply(
        uint256 base,
        uint256 power,
        uint256 target,
        uint256 s1,
        uint256 s2
    ) public view {
        (base, power, target) = _params(base, power, target);
        uint256 sMax = _maxSupply(power, target, 80e18);
        s1 = bound(s1, 0, sMax);
        s2 = bound(s2, 0, sMax);
        if (s1 > s2) (s1, s2) = (s2, s1);
        vm.assertLe(
            curve.rate(base, power, target, s1),
            curve.rate(base, power, target, s2),
            "rate(s1) <= rate(s2)"
        );
    }

    /// @notice Same, for neighbouring supplies (1 wei to 1e6 wei apart), where rounding could bite.
    function testFuzz_isMonotoneBetweenNeighbouringSupplies(
        uint256 base,
        uint256 power,
        uint256 target,
        uint256 s,
        uint256 gap
    ) public view {
        (base, power, target) = _params(base, power, target);
        uint256 sMax = _maxSupply(power, target, 80e18);
        gap = bound(gap, 1, 1e6);
        s = bound(s, 0, sMax - gap);
        vm.assertLe(curve.rate(base, power, target, s), curve.rate(base, power, target, s + gap), "neighbours");
    }

    /// @notice The curve's only non-monotone-by-construction step is solady's expWad, which switches the
    ///         power of two it factors out at every (k + ½)·ln 2. Around each switch it must not step down.
    function testFuzz_expWadIsMonotoneAcrossItsRangeReductionSwitches(uint256 k, uint256 offset) public view {
        k = bound(k, 0, 144); // exponents up to ~100 (the curve's cap)
        offset = bound(offset, 0, 20_000);
        // (k + ½) · ln 2, wad
        int256 edge = int256(((2 * k + 1) * 693147180559945309417232121458176568) / 2e18);
        int256 x = edge - 10_000 + int256(offset);
        vm.assertLe(uint256(curve.expWad(x)), uint256(curve.expWad(x + 1)), "expWad(x) <= expWad(x + 1)");
    }

    /// @notice rate matches the independent reference within 1e-9 relative, rounding up. Base ≥ 1e12 wei so the final
    ///         round-up (1 wei) stays below 1e-12 relative; exponent ≤ 80 so base · e^y fits a uint256.
    function testFuzz_matchesIndependentReference(
        uint256 base,
        uint256 power,
        uint256 target,
        uint256 supply,
        uint8 shift
    ) public view {
        (base, power, target) = _params(base, power, target);
        base = bound(base, 1e12, MAX_BASE);
        uint256 sMax = _maxSupply(power, target, 80e18);
        // Half the runs log-spread the supply, so small ratios (exponent ≈ 0) are covered too.
        supply = bound(supply, 0, shift % 2 == 0 ? sMax : sMax >> bound(shift, 1, 80));
        _assertMatchesReference(base, power, target, supply);
    }

    /// @notice Same up to the curve's exponent cap of 100 (base ≤ 1e15 keeps base · e^100 representable).
    function testFuzz_matchesIndependentReferenceUpToTheExponentCap(
        uint256 base,
        uint256 power,
        uint256 target,
        uint256 supply
    ) public view {
        (, power, target) = _params(0, power, target);
        base = bound(base, 1e12, 1e15);
        power = bound(power, 1e16, MAX_POWER);
        uint256 sMax = _maxSupply(power, target, 100e18);
        supply = bound(supply, sMax / 2, sMax);
        _assertMatchesReference(base, power, target, supply);
    }

    /// @notice The Venice curve against the reference over supplies from 0 to ~3.4× target (exponent ≤ 80).
    function testFuzz_veniceCurveMatchesReference(uint256 supply) public view {
        supply = bound(supply, 0, 130_000e18);
        _assertMatchesReference(VENICE_BASE, VENICE_POWER, VENICE_TARGET, supply);
    }

    /// @notice A supply whose exponent passes 100 is refused with SupplyBeyondCurve.
    function testFuzz_refusesSupplyBeyondTheCurve(uint256 power, uint256 target, uint256 supply) public {
        (, power, target) = _params(0, power, target);
        power = bound(power, 1e15, MAX_POWER);
        uint256 sCap = _maxSupply(power, target, 100e18);
        supply = bound(supply, sCap + sCap / 100 + 1, type(uint256).max / 1e18);
        vm.expectRevert(abi.encodeWithSelector(MintRateCurve.SupplyBeyondCurve.selector, supply));
        curve.rate(VENICE_BASE, power, target, supply);
    }

    /// @notice Every supply either prices (matching the reference) or is refused with SupplyBeyondCurve, as
    ///         IDailyCredit documents. Runs the Venice curve over exponents ~72 to ~120.
    /// @dev Regression: `baseRate.mulWadUp(growth)` overflowed its 256-bit product base · e^y · 1e18 once
    ///      y > ln(2^256 / (base · 1e18)) — 89.85 for base 90 (S > ~135 075 credits), 80.7 for the largest
    ///      allowed base — below the MAX_EXPONENT cap of 100, so those supplies reverted with solady's
    ///      MulWadFailed() instead of SupplyBeyondCurve(supply). A 512-bit `fullMulDivUp` fixes it.
    function testFuzz_everySupplyPricesOrIsRefusedWithSupplyBeyondCurve(uint256 supply) public view {
        supply = bound(supply, 125_000e18, 160_000e18);
        uint256 y = ReferenceCurve.exponent(VENICE_POWER, VENICE_TARGET, supply); // 1e36-scaled
        try curve.rate(VENICE_BASE, VENICE_POWER, VENICE_TARGET, supply) returns (uint256 r) {
            vm.assertLe(y, 100.001e36, "priced a supply beyond the exponent cap");
            vm.assertApproxEqRel(r, _venice(supply), REL_1E_9, "rate vs reference");
        } catch (bytes memory reason) {
            vm.assertEq(
                reason,
                abi.encodeWithSelector(MintRateCurve.SupplyBeyondCurve.selector, supply),
                "refused with another error than SupplyBeyondCurve(supply)"
            );
            vm.assertGe(y, 99.999e36, "refused a supply below the exponent cap");
        }
    }

    /// @notice stakeFor rounds up: stake · 1e18 ≥ amount · rate > (stake − 1) · 1e18.
    function testFuzz_stakeForRoundsUp(uint256 amount, uint256 rate_) public view {
        amount = bound(amount, 1, 1e36);
        rate_ = bound(rate_, 1, 1e36);
        uint256 stake = curve.stakeFor(amount, rate_);
        vm.assertGe(stake * 1e18, amount * rate_, "stake covers amount x rate");
        vm.assertLt((stake - 1) * 1e18, amount * rate_, "by less than one wei");
    }

    // ------------------------------------------------------------------ helpers

    /// @dev Within 1e-9 of the reference, and never below it: the reference rounds every step down, so it
    ///      is at most the exact curve, and MintRateCurve promises never to undercut the exact curve.
    function _assertMatchesReference(uint256 base, uint256 power, uint256 target, uint256 supply) internal view {
        uint256 r = curve.rate(base, power, target, supply);
        uint256 ref = ReferenceCurve.rate(base, power, target, supply);
        vm.assertApproxEqRel(r, ref, REL_1E_9, "rate vs reference: 1e-9 relative");
        vm.assertGe(r, ref, "rate never below the exact curve");
    }

    /// @dev The Venice rate by the reference; scaled down 1e6 so base · e^100 · 1e18 fits the reference
    ///      (the result is scaled back up; its relative error stays ~1e-14).
    function _venice(uint256 supply) internal pure returns (uint256) {
        return ReferenceCurve.rate(VENICE_BASE / 1e6, VENICE_POWER, VENICE_TARGET, supply) * 1e6;
    }

    function _params(
        uint256 base,
        uint256 power,
        uint256 target
    ) internal pure returns (uint256, uint256, uint256) {
        return (bound(base, 1, MAX_BASE), bound(power, 0, MAX_POWER), bound(target, MIN_TARGET, MAX_TARGET));
    }

    /// @dev A supply (with a 0.1 % margin for the curve's round-ups) whose exponent stays ≤ `maxExponent`
    ///      and whose ratio to target stays ≤ MAX_RATIO: power · x^3 ≤ maxExponent ⇔ x ≤ ∛(maxExponent · 1e54 / power) (wad).
    function _maxSupply(uint256 power, uint256 target, uint256 maxExponent) internal pure returns (uint256) {
        uint256 x = MintRateCurve.MAX_RATIO;
        if (power != 0) {
            uint256 xExp = ReferenceCurve.cbrtFloor((maxExponent * 1e54) / power);
            if (xExp < x) x = xExp;
        }
        return (((x * target) / 1e18) * 999) / 1000;
    }
}

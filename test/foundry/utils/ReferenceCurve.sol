// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";

/// @title ReferenceCurve
/// @notice An independent reference for `rate(S) = base · exp(power · (S / target)^3)`, written to share no
///         code or method with MintRateCurve (which uses solady's `expWad`: a ln 2 range reduction and a
///         rational approximation in a 2^96 basis). Here everything is 1e36-scaled fixed point with
///         OpenZeppelin's `mulDiv`, rounding down: the exponent y is split into an integer k and a fraction
///         f ∈ [0, 1); e^k comes from repeated squaring of e, and e and e^f from their Taylor series.
///         Every step is exact to ~1e-35 relative, so the result is exact to 1 wei plus ~1e-33 relative.
library ReferenceCurve {
    uint256 internal constant ONE = 1e36;

    /// @notice exp(f), 1e36-scaled, for f ∈ [0, 1] (1e36-scaled), by Σ f^n / n!.
    function expTaylor(uint256 f) internal pure returns (uint256 sum) {
        require(f <= ONE, "expTaylor: f > 1");
        uint256 term = ONE;
        sum = ONE;
        // term_n = term_{n-1} · f / n shrinks below 1e-36 after ~35 terms.
        for (uint256 n = 1; term != 0; ++n) {
            term = (term * f) / ONE / n;
            sum += term;
        }
    }

    /// @notice e, 1e36-scaled, from its series (2.718281828459045235360287471352662497…).
    function e() internal pure returns (uint256) {
        return expTaylor(ONE);
    }

    /// @notice The exponent power · (S / target)^3, 1e36-scaled.
    function exponent(uint256 power, uint256 target, uint256 supply) internal pure returns (uint256) {
        uint256 x = Math.mulDiv(supply, ONE, target);
        uint256 cube = Math.mulDiv(Math.mulDiv(x, x, ONE), x, ONE);
        return Math.mulDiv(power, cube, 1e18);
    }

    /// @notice base · exp(power · (S / target)^3), all 18 decimals, rounded down.
    /// @dev Needs base · e^y · 1e18 < 2^256 (e.g. base ≤ 1e24 with y ≤ 80, or base ≤ 1e15 with y ≤ 100).
    function rate(uint256 base, uint256 power, uint256 target, uint256 supply) internal pure returns (uint256) {
        uint256 y = exponent(power, target, supply);
        uint256 k = y / ONE;
        uint256 f = y % ONE;

        uint256 r = base * 1e18; // 1e36-scaled tokens per credit
        uint256 square = e(); // e^(2^i)
        while (k != 0) {
            if (k & 1 == 1) r = Math.mulDiv(r, square, ONE);
            k >>= 1;
            if (k != 0) square = Math.mulDiv(square, square, ONE);
        }
        r = Math.mulDiv(r, expTaylor(f), ONE);
        return r / 1e18;
    }

    /// @notice ⌊∛n⌋ by bisection (to size fuzz domains; not part of the reference rate).
    function cbrtFloor(uint256 n) internal pure returns (uint256) {
        uint256 lo = 0;
        uint256 hi = 1 << 86; // (2^86)^3 = 2^258 > any uint256
        while (lo < hi) {
            uint256 mid = (lo + hi + 1) / 2;
            if (mid * mid <= n / mid)
                lo = mid; // mid^3 ≤ n without overflow (floor division keeps it exact)
            else hi = mid - 1;
        }
        return lo;
    }
}

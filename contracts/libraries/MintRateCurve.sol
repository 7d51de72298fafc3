// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {FixedPointMathLib} from "solady/src/utils/FixedPointMathLib.sol";

/// @title MintRateCurve
/// @notice The DailyCredit mint-rate curve, `rate(S) = baseRate · exp(power · (S / targetSupply)^3)`,
///         in 18-decimal fixed point: how many staked tokens lock one credit when supply after the mint
///         is S. Every step rounds up, so a minter never locks less stake than the curve asks.
library MintRateCurve {
    using FixedPointMathLib for uint256;

    /// @notice Above this exponent (e^100 ≈ 2.7e43) the rate is economically meaningless and the fixed-point
    ///         arithmetic would approach its limits; such a supply is refused.
    uint256 internal constant MAX_EXPONENT = 100e18;

    /// @notice Above this ratio of supply to target (1e6×) the cube would approach uint256 limits.
    uint256 internal constant MAX_RATIO = 1e24;

    /// @notice Thrown when the supply lies so far beyond the target that the curve's exponent exceeds
    ///         {MAX_EXPONENT}.
    error SupplyBeyondCurve(uint256 supply);

    struct Params {
        uint256 baseRate; // staked tokens per credit at zero supply, 1e18 = 1
        uint256 power; // exponent multiplier, 1e18 = 1
        uint256 targetSupply; // credits, 18 decimals
    }

    /// @notice The stake (18 decimals) one credit locks when supply after the mint is `supply`.
    function rate(Params memory p, uint256 supply) internal pure returns (uint256) {
        uint256 x = supply.fullMulDivUp(1e18, p.targetSupply); // S / target
        require(x <= MAX_RATIO, SupplyBeyondCurve(supply));
        uint256 exponent = p.power.mulWadUp(x.mulWadUp(x).mulWadUp(x));
        require(exponent <= MAX_EXPONENT, SupplyBeyondCurve(supply));
        // Cast safe: exponent ≤ 100e18 < type(int256).max, and expWad of a non-negative input is ≥ 1e18.
        uint256 growth = uint256(FixedPointMathLib.expWad(int256(exponent)));
        // expWad approximates and may land a hair (≈1e-20 relative) below e^x: lift it by 1e-18 relative
        // plus one wei so the rate never undercuts the exact curve.
        growth += growth / 1e18 + 1;
        // Full-precision product: baseRate (≤ 1e24) × growth (≤ e^100 ≈ 2.7e61 wad) exceeds 2^256 before dividing.
        return p.baseRate.fullMulDivUp(growth, 1e18);
    }

    /// @notice The stake that minting `amount` credits locks at rate `rate_`, rounded up.
    function stakeFor(uint256 amount, uint256 rate_) internal pure returns (uint256) {
        return amount.fullMulDivUp(rate_, 1e18);
    }
}

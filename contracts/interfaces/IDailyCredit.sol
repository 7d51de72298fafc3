// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IStakingVault} from "./IStakingVault.sol";
import {ICinderErrors} from "./ICinderErrors.sol";

/// @title IDailyCredit
/// @notice Perpetual daily inference credit minted against locked stake (the Venice DIEM analogue).
///         Each credit token is worth `creditPerDay` USD of inference every UTC day, for as long as it
///         exists; unused allowance does not roll over. Tokens are freely transferable, but a token
///         spends at most once per day: tokens received by transfer count from the next day, tokens sent
///         away stop counting at once:
///         `dailyAllowance(a) = creditPerDay × min(balanceAtDayStart(a) + max(mintedToday(a) − burnedToday(a), 0),
///                                                   balanceOf(a)) − spentToday(a)`.
///         (Burns offset mints within a day, so burning received credits and re-minting cannot refresh them.)
interface IDailyCredit is IERC20, ICinderErrors {
    /// @notice A minter's position: the credits it minted and not yet burned, and the stake they lock.
    struct Position {
        uint256 credits;
        uint256 stakeLocked;
    }

    /// @notice Thrown when the stake a mint would lock exceeds the caller's `maxStakeToLock`.
    error StakeLimitExceeded(uint256 required, uint256 maxStakeToLock);
    /// @notice Thrown when `burn` asks for more credits than the caller's position holds.
    error BurnExceedsPosition(address account, uint256 positionCredits, uint256 amount);
    /// @notice Thrown when a spend asks for more USD than the account's remaining allowance today.
    error InsufficientDailyAllowance(address account, uint256 availableUsd, uint256 neededUsd);

    /// @notice Emitted when `account` mints `amount` credits, locking `stakeLocked` at `rate` stake per credit.
    event CreditMinted(address indexed account, uint256 amount, uint256 stakeLocked, uint256 rate);
    /// @notice Emitted when `account` burns `amount` credits, unlocking `stakeUnlocked`.
    event CreditBurned(address indexed account, uint256 amount, uint256 stakeUnlocked);
    /// @notice Emitted when `spender` spends `usd` of `account`'s allowance on UTC day `day`.
    event AllowanceSpent(address indexed account, address indexed spender, uint256 indexed day, uint256 usd);
    /// @notice Emitted when the unused part of a spend comes back to today's allowance.
    event AllowanceRefunded(address indexed account, address indexed spender, uint256 indexed day, uint256 usd);
    /// @notice Emitted when governance changes the mint-rate curve.
    event CurveUpdated(uint256 baseRate, uint256 power, uint256 targetSupply);

    /// @notice Mints `amount` credits to the caller, locking `amount × mintRate(totalSupply + amount)` of the
    ///         caller's unlocked stake in the StakingVault (rounded up).
    /// @dev Reverts with {ZeroAmount}, {StakeLimitExceeded}, `SupplyBeyondCurve`, the vault's
    ///      `InsufficientUnlockedStake`, or `EnforcedPause` while paused.
    /// @param maxStakeToLock Slippage guard: the most stake the caller accepts to lock.
    /// @return stakeLocked The stake locked for this mint.
    function mint(uint256 amount, uint256 maxStakeToLock) external returns (uint256 stakeLocked);

    /// @notice Burns `amount` of the caller's credits and unlocks its position pro rata (rounded down;
    ///         closing the whole position unlocks all of its stake).
    /// @dev Reverts with {ZeroAmount}, {BurnExceedsPosition}, or `ERC20InsufficientBalance`. Never paused.
    /// @return stakeUnlocked The stake released.
    function burn(uint256 amount) external returns (uint256 stakeUnlocked);

    /// @notice Spends `usd` (18 decimals) of `account`'s allowance for today.
    /// @dev Only SPENDER_ROLE (the JobCoordinator). Reverts with {ZeroAmount} or {InsufficientDailyAllowance}.
    function spend(address account, uint256 usd) external;

    /// @notice Gives back up to `usd` of what was spent from `account`'s allowance on `day` (the unused part of a
    ///         job), when `day` is still today: allowance never rolls over, so a refund on a later day is void.
    ///         Returns what was restored.
    /// @dev Only SPENDER_ROLE (the JobCoordinator).
    function refund(address account, uint256 day, uint256 usd) external returns (uint256);

    /// @notice Sets the mint-rate curve for future mints.
    /// @dev Only DEFAULT_ADMIN_ROLE (the timelock). Bounds: baseRate (0, 1e6] tokens, power [0, 10],
    ///      targetSupply [1, 1e12] credits, all 18 decimals.
    function setCurve(uint256 baseRate, uint256 power, uint256 targetSupply) external;

    /// @notice The vault whose stake backs the credits; this contract holds its LOCKER_ROLE.
    function vault() external view returns (IStakingVault);

    /// @notice Staked tokens per credit (18 decimals) when the supply after a mint is `supply`.
    function mintRate(uint256 supply) external view returns (uint256);

    /// @notice The stake that minting `amount` credits would lock now.
    function quoteMint(uint256 amount) external view returns (uint256);

    /// @notice `account`'s minting position.
    function positionOf(address account) external view returns (Position memory);

    /// @notice USD (18 decimals) `account` can still spend today.
    function dailyAllowance(address account) external view returns (uint256);

    /// @notice USD (18 decimals) spent from `account`'s allowance today.
    function spentToday(address account) external view returns (uint256);

    /// @notice The current UTC day number (seconds since the epoch / 86 400).
    function currentDay() external view returns (uint256);

    /// @notice USD (18 decimals) of inference each credit is worth per UTC day. Immutable.
    function creditPerDay() external view returns (uint256);

    /// @notice The curve parameters: base rate, power and target supply (18 decimals each).
    function curve() external view returns (uint256 baseRate, uint256 power, uint256 targetSupply);
}

// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {ICinderErrors} from "./ICinderErrors.sol";

/// @title IStakingVault
/// @notice Staking of the protocol token with streamed rewards, an unstake cooldown and module locks.
/// @dev Life of a stake: `stake` → (earning) → `requestUnstake` → cooldown (not earning) → `withdraw`,
///      or `cancelUnstake` to return the cooling amount to the earning stake. Modules holding LOCKER_ROLE
///      (DailyCredit) lock part of a stake: locked stake keeps earning but cannot be unstaked until the
///      same module unlocks it.
interface IStakingVault is ICinderErrors {
    /// @notice Thrown when an account asks to unstake or lock more than its unlocked earning stake.
    error InsufficientUnlockedStake(address account, uint256 unlocked, uint256 needed);
    /// @notice Thrown when a locker releases more than it has locked of an account's stake.
    error InsufficientLockedStake(address account, address locker, uint256 locked, uint256 needed);
    /// @notice Thrown by `withdraw`/`cancelUnstake` when the account has nothing cooling down.
    error NoPendingUnstake(address account);
    /// @notice Thrown by `withdraw` before the cooldown has elapsed.
    error CooldownNotElapsed(address account, uint256 unlockTime, uint256 currentTime);

    /// @notice Emitted when `account` adds `amount` to its earning stake.
    event Staked(address indexed account, uint256 amount);
    /// @notice Emitted when `amount` leaves the earning stake; `totalCooling` unlocks at `unlockTime`.
    event UnstakeRequested(address indexed account, uint256 amount, uint256 totalCooling, uint256 unlockTime);
    /// @notice Emitted when a cooling amount returns to the earning stake.
    event UnstakeCancelled(address indexed account, uint256 amount);
    /// @notice Emitted when a cooled-down amount is paid out.
    event Withdrawn(address indexed account, uint256 amount);
    /// @notice Emitted when accrued rewards are paid out.
    event RewardClaimed(address indexed account, uint256 amount);
    /// @notice Emitted when a rewarder funds a new stream of `streamed` tokens (amount plus carry-over)
    ///         paid out until `periodFinish`.
    event RewardNotified(address indexed rewarder, uint256 amount, uint256 streamed, uint256 periodFinish);
    /// @notice Emitted when `locker` locks `amount` of `account`'s stake.
    event StakeLocked(address indexed account, address indexed locker, uint256 amount);
    /// @notice Emitted when `locker` releases `amount` of `account`'s stake.
    event StakeUnlocked(address indexed account, address indexed locker, uint256 amount);
    /// @notice Emitted when governance changes the unstake cooldown.
    event CooldownUpdated(uint256 previous, uint256 current);
    /// @notice Emitted when governance changes the period over which a reward is streamed.
    event RewardPeriodUpdated(uint256 previous, uint256 current);

    /// @notice Stakes `amount` tokens of the caller (ERC-20 allowance required). Earns from the next second.
    /// @dev Reverts with {ZeroAmount}, or `EnforcedPause` while paused.
    function stake(uint256 amount) external;

    /// @notice Like {stake}, approving the vault with an ERC-2612 permit in the same transaction.
    /// @dev A permit already used (for example front-run) is ignored when the allowance suffices.
    function stakeWithPermit(uint256 amount, uint256 deadline, uint8 v, bytes32 r, bytes32 s) external;

    /// @notice Moves `amount` of the caller's unlocked stake into the cooldown; it stops earning at once.
    ///         A further request adds to the cooling amount and restarts the cooldown for all of it.
    /// @dev Reverts with {ZeroAmount} or {InsufficientUnlockedStake}. Never paused.
    function requestUnstake(uint256 amount) external;

    /// @notice Returns the caller's whole cooling amount to its earning stake.
    /// @dev Reverts with {NoPendingUnstake}, or `EnforcedPause` while paused.
    function cancelUnstake() external;

    /// @notice Pays the caller's cooled-down amount out to the caller.
    /// @dev Reverts with {NoPendingUnstake} or {CooldownNotElapsed}. Never paused.
    function withdraw() external returns (uint256 amount);

    /// @notice Pays the caller's accrued rewards out to the caller (zero is a no-op).
    /// @dev Never paused.
    function claim() external returns (uint256 amount);

    /// @notice Pulls `amount` tokens from the caller and streams them, with any undistributed remainder
    ///         of the current stream, to stakers over `rewardPeriod`.
    /// @dev Only REWARDER_ROLE (the BurnMintEngine). Reverts with {ZeroAmount}.
    function notifyReward(uint256 amount) external;

    /// @notice Locks `amount` of `account`'s unlocked earning stake on behalf of the calling module.
    /// @dev Only LOCKER_ROLE. Reverts with {ZeroAmount} or {InsufficientUnlockedStake}.
    function lock(address account, uint256 amount) external;

    /// @notice Releases `amount` of the stake the calling module locked for `account`.
    /// @dev Only LOCKER_ROLE. Reverts with {ZeroAmount} or {InsufficientLockedStake}.
    function unlock(address account, uint256 amount) external;

    /// @notice Sets the unstake cooldown applied to future requests.
    /// @dev Only DEFAULT_ADMIN_ROLE (the timelock). Bounds: 0 to 30 days.
    function setCooldown(uint256 newCooldown) external;

    /// @notice Sets the period over which future rewards are streamed.
    /// @dev Only DEFAULT_ADMIN_ROLE (the timelock). Bounds: 1 hour to 30 days.
    function setRewardPeriod(uint256 newPeriod) external;

    /// @notice The staked (and reward) token.
    function token() external view returns (IERC20);

    /// @notice The earning stake of `account` (locked stake included, cooling stake excluded).
    function stakeOf(address account) external view returns (uint256);

    /// @notice The part of `account`'s stake locked by modules.
    function lockedOf(address account) external view returns (uint256);

    /// @notice The part of `account`'s stake locked by `locker`.
    function lockedBy(address account, address locker) external view returns (uint256);

    /// @notice The amount `account` has cooling down and when it can be withdrawn.
    function coolingOf(address account) external view returns (uint256 amount, uint256 unlockTime);

    /// @notice Rewards `account` has accrued and not yet claimed.
    function earned(address account) external view returns (uint256);

    /// @notice Σ earning stake.
    function totalStaked() external view returns (uint256);

    /// @notice Σ cooling stake.
    function totalCooling() external view returns (uint256);

    /// @notice Reward tokens held by the vault: notified minus claimed (accrued, streaming and dust).
    function rewardReserve() external view returns (uint256);

    /// @notice The reward-per-token accumulator, scaled by 1e18.
    function rewardPerToken() external view returns (uint256);

    /// @notice The current stream rate in reward tokens per second, scaled by 1e18.
    function rewardRate() external view returns (uint256);

    /// @notice When the current stream ends.
    function periodFinish() external view returns (uint256);

    /// @notice The unstake cooldown, in seconds.
    function cooldown() external view returns (uint256);

    /// @notice The period over which a notified reward is streamed, in seconds.
    function rewardPeriod() external view returns (uint256);
}

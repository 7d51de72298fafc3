// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Permit.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {GuardianPausable} from "./governance/GuardianPausable.sol";
import {IStakingVault} from "./interfaces/IStakingVault.sol";

/// @title StakingVault
/// @notice Stakes the protocol token. Rewards (emissions from the BurnMintEngine) stream linearly over
///         `rewardPeriod` into a reward-per-token accumulator, so a stake placed just before a reward
///         earns only the slice streamed while it is staked. Unstaking goes through a cooldown during
///         which the amount earns nothing. Modules with LOCKER_ROLE lock stake: it keeps earning but
///         cannot be unstaked.
/// @dev Accounting, held by the invariant tests:
///      token balance = totalStaked + totalCooling + rewardReserve (+ tokens sent without `stake`),
///      Σ earned(a) ≤ rewardReserve, lockedOf(a) ≤ stakeOf(a).
///      Rewards streamed while nothing is staked are not lost: they roll into the next stream.
contract StakingVault is IStakingVault, GuardianPausable, ReentrancyGuardTransient {
    using SafeERC20 for IERC20;

    /// @notice Role allowed to fund reward streams (granted to the BurnMintEngine).
    bytes32 public constant REWARDER_ROLE = keccak256("REWARDER_ROLE");
    /// @notice Role allowed to lock and unlock stake (granted to DailyCredit).
    bytes32 public constant LOCKER_ROLE = keccak256("LOCKER_ROLE");

    uint256 private constant _PRECISION = 1e18;
    uint256 private constant _MAX_COOLDOWN = 30 days;
    uint256 private constant _MIN_REWARD_PERIOD = 1 hours;
    uint256 private constant _MAX_REWARD_PERIOD = 30 days;

    IERC20 private immutable _TOKEN;

    struct Account {
        uint256 staked; // earning stake, locked part included
        uint256 locked; // Σ over lockers of lockedBy
        uint256 cooling; // requested, not yet withdrawn; earns nothing
        uint256 unlockTime; // when `cooling` can be withdrawn
        uint256 rewardPerTokenPaid; // accumulator value at the last update
        uint256 rewards; // accrued, unclaimed
    }

    mapping(address account => Account) private _accounts;
    mapping(address account => mapping(address locker => uint256)) private _lockedBy;

    uint256 private _totalStaked;
    uint256 private _totalCooling;
    uint256 private _rewardReserve;

    uint256 private _cooldown;
    uint256 private _rewardPeriod;
    uint256 private _rewardRate; // tokens per second × 1e18
    uint256 private _periodFinish;
    uint256 private _lastUpdateTime;
    uint256 private _rewardPerTokenStored; // × 1e18
    uint256 private _unassignedRewards; // streamed while nothing was staked; rolls into the next stream

    /// @param token_ The protocol token.
    /// @param admin DEFAULT_ADMIN_ROLE holder (the timelock).
    /// @param cooldown_ Initial unstake cooldown (default 7 days), at most 30 days.
    /// @param rewardPeriod_ Initial reward stream period (default 1 day), 1 hour to 30 days.
    constructor(IERC20 token_, address admin, uint256 cooldown_, uint256 rewardPeriod_) {
        require(address(token_) != address(0) && admin != address(0), ZeroAddress());
        _TOKEN = token_;
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _setCooldown(cooldown_);
        _setRewardPeriod(rewardPeriod_);
    }

    // ---------------------------------------------------------------- stakers

    /// @inheritdoc IStakingVault
    function stake(uint256 amount) external nonReentrant whenNotPaused {
        _stake(amount);
    }

    /// @inheritdoc IStakingVault
    function stakeWithPermit(
        uint256 amount,
        uint256 deadline,
        uint8 v,
        bytes32 r,
        bytes32 s
    ) external nonReentrant whenNotPaused {
        // A permit can be front-run and consumed by anyone; the stake then goes ahead when the
        // allowance is in place, and fails in `safeTransferFrom` otherwise. Hence the empty blocks.
        // solhint-disable-next-line no-empty-blocks
        try IERC20Permit(address(_TOKEN)).permit(msg.sender, address(this), amount, deadline, v, r, s) {} catch {}
        _stake(amount);
    }

    /// @inheritdoc IStakingVault
    function requestUnstake(uint256 amount) external nonReentrant {
        require(amount != 0, ZeroAmount());
        Account storage a = _accounts[msg.sender];
        uint256 unlocked = a.staked - a.locked;
        require(amount <= unlocked, InsufficientUnlockedStake(msg.sender, unlocked, amount));
        _updateReward(msg.sender);

        a.staked -= amount;
        _totalStaked -= amount;
        a.cooling += amount;
        _totalCooling += amount;
        // Time: the unstake cooldown (0 to 30 days) runs from the request.
        // solhint-disable-next-line not-rely-on-time
        a.unlockTime = block.timestamp + _cooldown;
        emit UnstakeRequested(msg.sender, amount, a.cooling, a.unlockTime);
    }

    /// @inheritdoc IStakingVault
    function cancelUnstake() external nonReentrant whenNotPaused {
        Account storage a = _accounts[msg.sender];
        uint256 amount = a.cooling;
        require(amount != 0, NoPendingUnstake(msg.sender));
        _updateReward(msg.sender);

        a.cooling = 0;
        a.unlockTime = 0;
        _totalCooling -= amount;
        a.staked += amount;
        _totalStaked += amount;
        emit UnstakeCancelled(msg.sender, amount);
    }

    /// @inheritdoc IStakingVault
    function withdraw() external nonReentrant returns (uint256 amount) {
        Account storage a = _accounts[msg.sender];
        amount = a.cooling;
        require(amount != 0, NoPendingUnstake(msg.sender));
        // Time: unstaked tokens leave only after the cooldown.
        // solhint-disable-next-line not-rely-on-time
        require(block.timestamp >= a.unlockTime, CooldownNotElapsed(msg.sender, a.unlockTime, block.timestamp));

        a.cooling = 0;
        a.unlockTime = 0;
        _totalCooling -= amount;
        emit Withdrawn(msg.sender, amount);
        _TOKEN.safeTransfer(msg.sender, amount);
    }

    /// @inheritdoc IStakingVault
    function claim() external nonReentrant returns (uint256 amount) {
        _updateReward(msg.sender);
        Account storage a = _accounts[msg.sender];
        amount = a.rewards;
        if (amount == 0) return 0;

        a.rewards = 0;
        _rewardReserve -= amount;
        emit RewardClaimed(msg.sender, amount);
        _TOKEN.safeTransfer(msg.sender, amount);
    }

    // ---------------------------------------------------------------- modules

    /// @inheritdoc IStakingVault
    function notifyReward(uint256 amount) external nonReentrant onlyRole(REWARDER_ROLE) {
        require(amount != 0, ZeroAmount());
        _updateReward(address(0));

        // Time: rewards stream linearly over rewardPeriod (1 hour to 30 days); seconds of timestamp leeway
        // move seconds' worth of a stream between stakers, never more than was funded.
        // solhint-disable not-rely-on-time
        uint256 leftover = block.timestamp < _periodFinish ? (_periodFinish - block.timestamp) * _rewardRate : 0;
        uint256 streamed = amount + _unassignedRewards;
        _unassignedRewards = 0;
        // Rounds down: the stream never pays out more than it was funded with; the dust stays in reserve.
        _rewardRate = (streamed * _PRECISION + leftover) / _rewardPeriod;
        _periodFinish = block.timestamp + _rewardPeriod;
        _lastUpdateTime = block.timestamp;
        // solhint-enable not-rely-on-time
        _rewardReserve += amount;
        emit RewardNotified(msg.sender, amount, streamed + leftover / _PRECISION, _periodFinish);

        _TOKEN.safeTransferFrom(msg.sender, address(this), amount);
    }

    /// @inheritdoc IStakingVault
    function lock(address account, uint256 amount) external onlyRole(LOCKER_ROLE) {
        require(amount != 0, ZeroAmount());
        Account storage a = _accounts[account];
        uint256 unlocked = a.staked - a.locked;
        require(amount <= unlocked, InsufficientUnlockedStake(account, unlocked, amount));

        a.locked += amount;
        _lockedBy[account][msg.sender] += amount;
        emit StakeLocked(account, msg.sender, amount);
    }

    /// @inheritdoc IStakingVault
    function unlock(address account, uint256 amount) external onlyRole(LOCKER_ROLE) {
        require(amount != 0, ZeroAmount());
        uint256 held = _lockedBy[account][msg.sender];
        require(amount <= held, InsufficientLockedStake(account, msg.sender, held, amount));

        // `a.locked` is the sum over lockers, so it holds at least `held`.
        _lockedBy[account][msg.sender] = held - amount;
        _accounts[account].locked -= amount;
        emit StakeUnlocked(account, msg.sender, amount);
    }

    // ---------------------------------------------------------------- governance

    /// @inheritdoc IStakingVault
    function setCooldown(uint256 newCooldown) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _setCooldown(newCooldown);
    }

    /// @inheritdoc IStakingVault
    function setRewardPeriod(uint256 newPeriod) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _setRewardPeriod(newPeriod);
    }

    // ---------------------------------------------------------------- views

    /// @inheritdoc IStakingVault
    function token() external view returns (IERC20) {
        return _TOKEN;
    }

    /// @inheritdoc IStakingVault
    function stakeOf(address account) external view returns (uint256) {
        return _accounts[account].staked;
    }

    /// @inheritdoc IStakingVault
    function lockedOf(address account) external view returns (uint256) {
        return _accounts[account].locked;
    }

    /// @inheritdoc IStakingVault
    function lockedBy(address account, address locker) external view returns (uint256) {
        return _lockedBy[account][locker];
    }

    /// @inheritdoc IStakingVault
    function coolingOf(address account) external view returns (uint256 amount, uint256 unlockTime) {
        Account storage a = _accounts[account];
        return (a.cooling, a.unlockTime);
    }

    /// @inheritdoc IStakingVault
    function earned(address account) public view returns (uint256) {
        Account storage a = _accounts[account];
        return a.rewards + (a.staked * (rewardPerToken() - a.rewardPerTokenPaid)) / _PRECISION;
    }

    /// @inheritdoc IStakingVault
    function totalStaked() external view returns (uint256) {
        return _totalStaked;
    }

    /// @inheritdoc IStakingVault
    function totalCooling() external view returns (uint256) {
        return _totalCooling;
    }

    /// @inheritdoc IStakingVault
    function rewardReserve() external view returns (uint256) {
        return _rewardReserve;
    }

    /// @inheritdoc IStakingVault
    function rewardPerToken() public view returns (uint256) {
        if (_totalStaked == 0) return _rewardPerTokenStored;
        return
            _rewardPerTokenStored + ((_lastTimeRewardApplicable() - _lastUpdateTime) * _rewardRate) / _totalStaked;
    }

    /// @inheritdoc IStakingVault
    function rewardRate() external view returns (uint256) {
        return _rewardRate;
    }

    /// @inheritdoc IStakingVault
    function periodFinish() external view returns (uint256) {
        return _periodFinish;
    }

    /// @inheritdoc IStakingVault
    function cooldown() external view returns (uint256) {
        return _cooldown;
    }

    /// @inheritdoc IStakingVault
    function rewardPeriod() external view returns (uint256) {
        return _rewardPeriod;
    }

    // ---------------------------------------------------------------- internal

    function _stake(uint256 amount) private {
        require(amount != 0, ZeroAmount());
        _updateReward(msg.sender);

        _accounts[msg.sender].staked += amount;
        _totalStaked += amount;
        emit Staked(msg.sender, amount);
        _TOKEN.safeTransferFrom(msg.sender, address(this), amount);
    }

    /// @dev Brings the accumulator up to now and settles `account`'s accrual (none for address(0)).
    function _updateReward(address account) private {
        uint256 applicable = _lastTimeRewardApplicable();
        if (_totalStaked == 0 && applicable > _lastUpdateTime) {
            // Nobody earns this slice of the stream: keep it for the next one instead of stranding it.
            _unassignedRewards += ((applicable - _lastUpdateTime) * _rewardRate) / _PRECISION;
        }
        _rewardPerTokenStored = rewardPerToken();
        _lastUpdateTime = applicable;
        if (account != address(0)) {
            Account storage a = _accounts[account];
            a.rewards = earned(account);
            a.rewardPerTokenPaid = _rewardPerTokenStored;
        }
    }

    function _lastTimeRewardApplicable() private view returns (uint256) {
        // Time: the reward stream accrues per second until it ends.
        // solhint-disable-next-line not-rely-on-time
        return block.timestamp < _periodFinish ? block.timestamp : _periodFinish;
    }

    function _setCooldown(uint256 newCooldown) private {
        require(newCooldown <= _MAX_COOLDOWN, ParameterOutOfBounds("cooldown", newCooldown, 0, _MAX_COOLDOWN));
        emit CooldownUpdated(_cooldown, newCooldown);
        _cooldown = newCooldown;
    }

    function _setRewardPeriod(uint256 newPeriod) private {
        require(
            newPeriod >= _MIN_REWARD_PERIOD && newPeriod <= _MAX_REWARD_PERIOD,
            ParameterOutOfBounds("rewardPeriod", newPeriod, _MIN_REWARD_PERIOD, _MAX_REWARD_PERIOD)
        );
        emit RewardPeriodUpdated(_rewardPeriod, newPeriod);
        _rewardPeriod = newPeriod;
    }
}

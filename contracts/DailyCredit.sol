// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {ERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Permit.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {GuardianPausable} from "./governance/GuardianPausable.sol";
import {IDailyCredit} from "./interfaces/IDailyCredit.sol";
import {IStakingVault} from "./interfaces/IStakingVault.sol";
import {MintRateCurve} from "./libraries/MintRateCurve.sol";

/// @title DailyCredit
/// @notice Perpetual daily inference credit (the Venice DIEM analogue): lock stake once, get
///         `creditPerDay` USD of inference per credit every UTC day, for as long as the stake stays locked.
/// @dev The allowance rule makes a token spend at most once per day. Each account keeps a day ledger,
///      rolled lazily on its first balance change or spend of a day: the balance at the day's start (no
///      change happened since, so the current balance before the change is it), credits minted and burned
///      today and USD spent today. Per account, spent ≤ creditPerDay × (startBalance + minted), so summed
///      over accounts, Σ spent(day) ≤ creditPerDay × (supply at day start + minted that day).
///      Burns offset mints within the day (see `_allowance`), which closes a loophole in the plain DESIGN.md
///      formula: received credits, burned and re-minted with the freed stake, would otherwise spend twice.
///      `creditPerDay` is immutable: the "inference for life" promise cannot be diluted by governance.
contract DailyCredit is ERC20, ERC20Permit, GuardianPausable, ReentrancyGuardTransient, IDailyCredit {
    using SafeCast for uint256;

    /// @notice Role allowed to spend allowance (granted to the JobCoordinator).
    bytes32 public constant SPENDER_ROLE = keccak256("SPENDER_ROLE");

    uint256 private constant _MAX_BASE_RATE = 1e6 * 1e18;
    uint256 private constant _MAX_POWER = 10e18;
    uint256 private constant _MIN_TARGET = 1e18;
    uint256 private constant _MAX_TARGET = 1e12 * 1e18;

    IStakingVault private immutable _VAULT;

    uint256 private immutable _CREDIT_PER_DAY;

    struct DayLedger {
        uint64 day;
        uint192 startBalance; // balance at the start of `day`
        uint128 minted; // credits minted to the account during `day`
        uint128 burned; // credits the account burned during `day`
        uint256 spent; // USD spent from the account's allowance during `day`
    }

    MintRateCurve.Params private _curve;
    mapping(address account => Position) private _positions;
    mapping(address account => DayLedger) private _ledgers;

    /// @param name_ ERC-20 name.
    /// @param symbol_ ERC-20 symbol.
    /// @param vault_ The StakingVault.
    /// @param admin DEFAULT_ADMIN_ROLE holder (the timelock).
    /// @param creditPerDay_ USD (18 decimals) per credit per day, > 0 (default 1e18: $1).
    /// @param curve_ Initial mint-rate curve (Venice launch values: 90, 2, 38 000).
    constructor(
        string memory name_,
        string memory symbol_,
        IStakingVault vault_,
        address admin,
        uint256 creditPerDay_,
        MintRateCurve.Params memory curve_
    ) ERC20(name_, symbol_) ERC20Permit(name_) {
        require(address(vault_) != address(0) && admin != address(0), ZeroAddress());
        require(creditPerDay_ != 0, ZeroAmount());
        _VAULT = vault_;
        _CREDIT_PER_DAY = creditPerDay_;
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _setCurve(curve_);
    }

    // ---------------------------------------------------------------- minters

    /// @inheritdoc IDailyCredit
    function mint(
        uint256 amount,
        uint256 maxStakeToLock
    ) external nonReentrant whenNotPaused returns (uint256 stakeLocked) {
        require(amount != 0, ZeroAmount());
        uint256 rate = MintRateCurve.rate(_curve, totalSupply() + amount);
        stakeLocked = MintRateCurve.stakeFor(amount, rate);
        require(stakeLocked <= maxStakeToLock, StakeLimitExceeded(stakeLocked, maxStakeToLock));

        Position storage position = _positions[msg.sender];
        position.credits += amount;
        position.stakeLocked += stakeLocked;
        _mint(msg.sender, amount);
        emit CreditMinted(msg.sender, amount, stakeLocked, rate);

        // Reverts with the vault's InsufficientUnlockedStake when the caller lacks free stake.
        _VAULT.lock(msg.sender, stakeLocked);
    }

    /// @inheritdoc IDailyCredit
    function burn(uint256 amount) external nonReentrant returns (uint256 stakeUnlocked) {
        require(amount != 0, ZeroAmount());
        Position storage position = _positions[msg.sender];
        uint256 credits = position.credits;
        require(amount <= credits, BurnExceedsPosition(msg.sender, credits, amount));

        // Pro rata, rounded down; closing the position releases the rounding remainder too.
        stakeUnlocked =
            amount == credits ? position.stakeLocked : Math.mulDiv(position.stakeLocked, amount, credits);
        position.credits = credits - amount;
        position.stakeLocked -= stakeUnlocked;
        _burn(msg.sender, amount);
        emit CreditBurned(msg.sender, amount, stakeUnlocked);

        if (stakeUnlocked != 0) _VAULT.unlock(msg.sender, stakeUnlocked);
    }

    // ---------------------------------------------------------------- spender

    /// @inheritdoc IDailyCredit
    function spend(address account, uint256 usd) external onlyRole(SPENDER_ROLE) {
        require(usd != 0, ZeroAmount());
        DayLedger storage ledger = _rolledLedger(account);
        uint256 available = _allowance(ledger, balanceOf(account));
        require(usd <= available, InsufficientDailyAllowance(account, available, usd));

        ledger.spent += usd;
        emit AllowanceSpent(account, msg.sender, ledger.day, usd);
    }

    /// @inheritdoc IDailyCredit
    function refund(address account, uint256 day, uint256 usd) external onlyRole(SPENDER_ROLE) returns (uint256) {
        DayLedger storage ledger = _ledgers[account];
        // Allowance never rolls over: only what was spent today and is still recorded for today can come back.
        if (day != currentDay() || ledger.day != day) return 0;
        uint256 refunded = Math.min(usd, ledger.spent);
        ledger.spent -= refunded;
        emit AllowanceRefunded(account, msg.sender, day, refunded);
        return refunded;
    }

    // ---------------------------------------------------------------- governance

    /// @inheritdoc IDailyCredit
    function setCurve(
        uint256 baseRate,
        uint256 power,
        uint256 targetSupply
    ) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _setCurve(MintRateCurve.Params(baseRate, power, targetSupply));
    }

    // ---------------------------------------------------------------- views

    /// @inheritdoc IDailyCredit
    function vault() external view returns (IStakingVault) {
        return _VAULT;
    }

    /// @inheritdoc IDailyCredit
    function mintRate(uint256 supply) external view returns (uint256) {
        return MintRateCurve.rate(_curve, supply);
    }

    /// @inheritdoc IDailyCredit
    function quoteMint(uint256 amount) external view returns (uint256) {
        return MintRateCurve.stakeFor(amount, MintRateCurve.rate(_curve, totalSupply() + amount));
    }

    /// @inheritdoc IDailyCredit
    function positionOf(address account) external view returns (Position memory) {
        return _positions[account];
    }

    /// @inheritdoc IDailyCredit
    function dailyAllowance(address account) external view returns (uint256) {
        return _allowance(_viewLedger(account), balanceOf(account));
    }

    /// @inheritdoc IDailyCredit
    function spentToday(address account) external view returns (uint256) {
        return _viewLedger(account).spent;
    }

    /// @inheritdoc IDailyCredit
    function currentDay() public view returns (uint256) {
        // Time: the allowance is per UTC day by design (the DIEM model); a block producer's few seconds of
        // timestamp leeway only nudge the day boundary (THREAT_MODEL.md, "Time").
        // solhint-disable-next-line not-rely-on-time
        return block.timestamp / 1 days;
    }

    /// @inheritdoc IDailyCredit
    function creditPerDay() external view returns (uint256) {
        return _CREDIT_PER_DAY;
    }

    /// @inheritdoc IDailyCredit
    function curve() external view returns (uint256 baseRate, uint256 power, uint256 targetSupply) {
        MintRateCurve.Params memory c = _curve;
        return (c.baseRate, c.power, c.targetSupply);
    }

    // ---------------------------------------------------------------- internal

    /// @dev Every balance change first rolls both sides' ledgers to today (recording the balance at the
    ///      day's start), then applies the change; a mint also counts as minted today for its recipient.
    function _update(address from, address to, uint256 value) internal override {
        if (from != address(0)) {
            DayLedger storage ledger = _rolledLedger(from);
            if (to == address(0)) ledger.burned = (ledger.burned + value).toUint128();
        }
        if (to != address(0)) {
            DayLedger storage ledger = _rolledLedger(to);
            if (from == address(0)) ledger.minted = (ledger.minted + value).toUint128();
        }
        super._update(from, to, value);
    }

    /// @dev The account's ledger, reset to today if it belongs to an earlier day. Must run before the
    ///      account's balance changes today, so the current balance is the balance at the day's start.
    function _rolledLedger(address account) private returns (DayLedger storage ledger) {
        ledger = _ledgers[account];
        uint256 today = currentDay();
        if (ledger.day != today) {
            ledger.day = today.toUint64();
            ledger.startBalance = balanceOf(account).toUint192();
            ledger.minted = 0;
            ledger.burned = 0;
            ledger.spent = 0;
        }
    }

    /// @dev What `_rolledLedger` would hold, without writing it.
    function _viewLedger(address account) private view returns (DayLedger memory ledger) {
        ledger = _ledgers[account];
        uint256 today = currentDay();
        if (ledger.day != today) {
            ledger = DayLedger(today.toUint64(), balanceOf(account).toUint192(), 0, 0, 0);
        }
    }

    /// @dev creditPerDay × min(startBalance + max(minted − burned, 0), balance) − spent, floored at zero,
    ///      rounded down. Only net new credits count as fresh: burning credits received today and minting
    ///      the same amount again cannot turn them into spendable "minted today" credits.
    function _allowance(DayLedger memory ledger, uint256 balance) private view returns (uint256) {
        uint256 freshlyMinted = ledger.minted > ledger.burned ? ledger.minted - ledger.burned : 0;
        uint256 spendable = Math.min(uint256(ledger.startBalance) + freshlyMinted, balance);
        uint256 budget = Math.mulDiv(spendable, _CREDIT_PER_DAY, 1e18);
        return budget > ledger.spent ? budget - ledger.spent : 0;
    }

    function _setCurve(MintRateCurve.Params memory c) private {
        require(
            c.baseRate != 0 && c.baseRate <= _MAX_BASE_RATE,
            ParameterOutOfBounds("baseRate", c.baseRate, 1, _MAX_BASE_RATE)
        );
        require(c.power <= _MAX_POWER, ParameterOutOfBounds("power", c.power, 0, _MAX_POWER));
        require(
            c.targetSupply >= _MIN_TARGET && c.targetSupply <= _MAX_TARGET,
            ParameterOutOfBounds("targetSupply", c.targetSupply, _MIN_TARGET, _MAX_TARGET)
        );
        _curve = c;
        emit CurveUpdated(c.baseRate, c.power, c.targetSupply);
    }
}

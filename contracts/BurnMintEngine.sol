// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {GuardianPausable} from "./governance/GuardianPausable.sol";
import {IBurnMintEngine} from "./interfaces/IBurnMintEngine.sol";
import {IComputeCredit} from "./interfaces/IComputeCredit.sol";
import {IPriceOracle} from "./interfaces/IPriceOracle.sol";
import {IProtocolToken} from "./interfaces/IProtocolToken.sol";
import {IStakingVault} from "./interfaces/IStakingVault.sol";

/// @title BurnMintEngine
/// @notice The economic engine of Cinder: burn-and-mint equilibrium with a public per-epoch ledger.
/// @dev Needs MINTER_ROLE on the token, ENGINE_ROLE on ComputeCredit and REWARDER_ROLE on the vault.
///      Mint cap: tokens minted during an epoch (redemptions plus distributions executed in it) never exceed
///      `epochMintCap`. Redemptions leave room for the previous epoch's scheduled emission while it is
///      undistributed, and `epochMintCap ≥ emissionPerEpoch` always, so the regular daily `distribute` can
///      never be crowded out by redemptions.
///      Rounding is in the protocol's favour: credit out and tokens out round down, the spread rounds up.
contract BurnMintEngine is IBurnMintEngine, GuardianPausable, ReentrancyGuardTransient {
    using SafeERC20 for IProtocolToken;

    /// @notice Role allowed to record work and mint subsidised credit (the JobCoordinator).
    bytes32 public constant COORDINATOR_ROLE = keccak256("COORDINATOR_ROLE");
    /// @notice Role allowed to report voucher revenue (the VoucherMarket).
    bytes32 public constant REPORTER_ROLE = keccak256("REPORTER_ROLE");

    uint256 private constant _BPS = 10_000;
    uint256 private constant _MAX_SPREAD_BPS = 500;
    uint256 private constant _MAX_SUBSIDY_BUDGET = 1e9 * 1e18;

    IProtocolToken private immutable _TOKEN;
    IComputeCredit private immutable _CREDIT;
    IStakingVault private immutable _VAULT;
    uint256 private immutable _EMISSION_PER_EPOCH;
    uint256 private immutable _HALVING_EPOCHS;
    uint256 private immutable _GENESIS_EPOCH;

    IPriceOracle private _oracle;
    address private _treasury;
    uint256 private _mintSpreadBps;
    uint256 private _epochMintCap; // in force up to the epoch before `_nextCapEpoch`
    uint256 private _nextEpochMintCap; // in force from `_nextCapEpoch` (0: no change scheduled)
    uint256 private _nextCapEpoch;
    uint256 private _stakerShareBps;
    uint256 private _subsidyBudgetUsd;

    mapping(uint256 epoch => EpochLedger) private _ledgers;
    mapping(uint256 epoch => uint256) private _mintedIn;
    mapping(uint256 epoch => mapping(address provider => uint256)) private _providerWork;
    mapping(uint256 epoch => mapping(address provider => bool)) private _claimed;

    /// @param token The protocol token.
    /// @param credit ComputeCredit.
    /// @param vault The StakingVault receiving the stakers' share of emissions.
    /// @param oracle_ Token/USD price oracle.
    /// @param treasury_ Receives the mint spread (in credit).
    /// @param admin DEFAULT_ADMIN_ROLE holder (the timelock).
    /// @param cfg Initial configuration; emission schedule fixed for life.
    constructor(
        IProtocolToken token,
        IComputeCredit credit,
        IStakingVault vault,
        IPriceOracle oracle_,
        address treasury_,
        address admin,
        Config memory cfg
    ) {
        require(
            address(token) != address(0) &&
                address(credit) != address(0) &&
                address(vault) != address(0) &&
                address(oracle_) != address(0) &&
                treasury_ != address(0) &&
                admin != address(0),
            ZeroAddress()
        );
        uint256 maxSupply = token.maxSupply();
        require(
            cfg.emissionPerEpoch <= maxSupply,
            ParameterOutOfBounds("emissionPerEpoch", cfg.emissionPerEpoch, 0, maxSupply)
        );
        require(
            cfg.halvingEpochs != 0,
            ParameterOutOfBounds("halvingEpochs", cfg.halvingEpochs, 1, type(uint256).max)
        );
        _TOKEN = token;
        _CREDIT = credit;
        _VAULT = vault;
        _EMISSION_PER_EPOCH = cfg.emissionPerEpoch;
        _HALVING_EPOCHS = cfg.halvingEpochs;
        // Time: epochs are UTC days by design; the emission schedule starts on the deployment's day.
        // solhint-disable-next-line not-rely-on-time
        _GENESIS_EPOCH = block.timestamp / 1 days;
        _oracle = oracle_;
        _treasury = treasury_;
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _setMintSpreadBps(cfg.mintSpreadBps);
        _checkEpochMintCap(cfg.epochMintCap);
        _epochMintCap = cfg.epochMintCap;
        emit ParameterUpdated("epochMintCap", 0, cfg.epochMintCap);
        _setStakerShareBps(cfg.stakerShareBps);
        _setSubsidyBudgetUsd(cfg.subsidyBudgetUsd);
    }

    // ---------------------------------------------------------------- conversions

    /// @inheritdoc IBurnMintEngine
    function mintCredits(
        uint256 tokenAmount,
        uint256 minCreditsOut,
        address recipient
    ) external nonReentrant whenNotPaused returns (uint256 credits) {
        require(recipient != address(0), ZeroAddress());
        uint256 price = _oracle.price();
        uint256 spread;
        (credits, spread) = _quoteMintCredits(tokenAmount, price);
        require(credits != 0, ZeroAmount());
        require(credits >= minCreditsOut, SlippageExceeded(credits, minCreditsOut));

        EpochLedger storage ledger = _ledgers[currentEpoch()];
        ledger.organicCreditUsd += credits + spread;
        ledger.tokensBurned += tokenAmount;
        emit CreditsMinted(msg.sender, recipient, tokenAmount, credits, spread, price);

        _TOKEN.burnFrom(msg.sender, tokenAmount);
        _CREDIT.mint(recipient, credits);
        if (spread != 0) _CREDIT.mint(_treasury, spread);
    }

    /// @inheritdoc IBurnMintEngine
    function redeem(
        uint256 creditAmount,
        uint256 minTokensOut,
        address recipient
    ) external nonReentrant whenNotPaused returns (uint256 tokens) {
        require(recipient != address(0), ZeroAddress());
        uint256 price = _oracle.price();
        tokens = Math.mulDiv(creditAmount, 1e18, price);
        require(tokens != 0, ZeroAmount());
        require(tokens >= minTokensOut, SlippageExceeded(tokens, minTokensOut));
        uint256 capacity = redeemCapacity();
        require(tokens <= capacity, EpochMintCapExceeded(tokens, capacity));

        uint256 epoch = currentEpoch();
        _mintedIn[epoch] += tokens;
        _ledgers[epoch].tokensRedeemed += tokens;
        emit CreditsRedeemed(msg.sender, recipient, creditAmount, tokens, price);

        _CREDIT.burn(msg.sender, creditAmount);
        _TOKEN.mint(recipient, tokens);
    }

    // ---------------------------------------------------------------- emissions

    /// @inheritdoc IBurnMintEngine
    function distribute(uint256 epoch) external nonReentrant returns (uint256 emitted) {
        uint256 current = currentEpoch();
        require(epoch < current, EpochNotFinished(epoch, current));
        require(epoch >= _GENESIS_EPOCH, EpochBeforeGenesis(epoch, _GENESIS_EPOCH));
        EpochLedger storage ledger = _ledgers[epoch];
        require(!ledger.distributed, AlreadyDistributed(epoch));

        uint256 scheduled = emissionFor(epoch);
        uint256 toStakers = (scheduled * _stakerShareBps) / _BPS;
        // With no work recorded there is nobody to pay: the providers' share is never minted.
        uint256 toProviders = ledger.workUsd == 0 ? 0 : scheduled - toStakers;
        // maxSupply bounds the emission; stakers are served first.
        uint256 headroom = _TOKEN.maxSupply() - _TOKEN.totalSupply();
        toStakers = Math.min(toStakers, headroom);
        toProviders = Math.min(toProviders, headroom - toStakers);
        emitted = toStakers + toProviders;
        // The previous epoch's own distribution may use its reserve; an older, late one may not.
        uint256 capLeft = epoch + 1 == current ? _capLeft(current, false) : _capLeft(current, true);
        require(emitted <= capLeft, EpochMintCapExceeded(emitted, capLeft));

        ledger.distributed = true;
        ledger.tokensEmitted = emitted;
        ledger.providerPool = toProviders;
        _mintedIn[current] += emitted;
        emit EmissionDistributed(epoch, msg.sender, toStakers, toProviders);

        if (emitted != 0) _TOKEN.mint(address(this), emitted);
        if (toStakers != 0) {
            _TOKEN.forceApprove(address(_VAULT), toStakers);
            _VAULT.notifyReward(toStakers);
        }
    }

    /// @inheritdoc IBurnMintEngine
    function claimEmissions(uint256[] calldata epochs) external nonReentrant returns (uint256 amount) {
        for (uint256 i = 0; i < epochs.length; ++i) {
            uint256 epoch = epochs[i];
            require(_ledgers[epoch].distributed, NotDistributed(epoch));
            require(!_claimed[epoch][msg.sender], AlreadyClaimed(epoch, msg.sender));
            _claimed[epoch][msg.sender] = true;
            amount += _shareOf(epoch, msg.sender);
        }
        if (amount == 0) return 0;
        emit EmissionClaimed(msg.sender, amount);
        _TOKEN.safeTransfer(msg.sender, amount);
    }

    // ---------------------------------------------------------------- protocol reporters

    /// @inheritdoc IBurnMintEngine
    function recordWork(address provider, uint256 usd, bool subsidised) external onlyRole(COORDINATOR_ROLE) {
        require(provider != address(0), ZeroAddress());
        require(usd != 0, ZeroAmount());
        uint256 epoch = currentEpoch();
        EpochLedger storage ledger = _ledgers[epoch];
        ledger.workUsd += usd;
        if (subsidised) ledger.subsidisedWorkUsd += usd;
        _providerWork[epoch][provider] += usd;
        emit WorkRecorded(epoch, provider, usd, subsidised);
    }

    /// @inheritdoc IBurnMintEngine
    function mintSubsidisedCredits(address provider, uint256 usd) external onlyRole(COORDINATOR_ROLE) {
        require(provider != address(0), ZeroAddress());
        require(usd != 0, ZeroAmount());
        uint256 remaining = subsidyRemaining();
        require(usd <= remaining, SubsidyBudgetExceeded(usd, remaining));

        uint256 epoch = currentEpoch();
        _ledgers[epoch].subsidyMintedUsd += usd;
        emit SubsidisedCreditsMinted(epoch, provider, usd);
        _CREDIT.mint(provider, usd);
    }

    /// @inheritdoc IBurnMintEngine
    function returnSubsidisedCredits(uint256 epoch, uint256 usd) external onlyRole(COORDINATOR_ROLE) {
        require(usd != 0, ZeroAmount());
        EpochLedger storage ledger = _ledgers[epoch];
        require(
            usd <= ledger.subsidyMintedUsd,
            ParameterOutOfBounds("subsidyReturned", usd, 1, ledger.subsidyMintedUsd)
        );
        ledger.subsidyMintedUsd -= usd;
        emit SubsidisedCreditsReturned(epoch, msg.sender, usd);
        _CREDIT.burn(msg.sender, usd);
    }

    /// @inheritdoc IBurnMintEngine
    function recordVoucherRevenue(uint256 usd) external onlyRole(REPORTER_ROLE) {
        require(usd != 0, ZeroAmount());
        uint256 epoch = currentEpoch();
        _ledgers[epoch].voucherRevenueUsd += usd;
        emit VoucherRevenueRecorded(epoch, msg.sender, usd);
    }

    // ---------------------------------------------------------------- governance

    /// @inheritdoc IBurnMintEngine
    function setMintSpreadBps(uint256 bps) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _setMintSpreadBps(bps);
    }

    /// @inheritdoc IBurnMintEngine
    function setEpochMintCap(uint256 cap) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _checkEpochMintCap(cap);
        // A running epoch keeps the cap it started with, so redemptions admitted under it (and the reserve
        // kept for the previous epoch's emission) stay valid: mintedIn(e) ≤ the cap of e, always.
        uint256 current = currentEpoch();
        uint256 inForce = _capOf(current);
        _epochMintCap = inForce;
        _nextEpochMintCap = cap;
        _nextCapEpoch = current + 1;
        emit ParameterUpdated("epochMintCap", inForce, cap);
    }

    /// @inheritdoc IBurnMintEngine
    function setStakerShareBps(uint256 bps) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _setStakerShareBps(bps);
    }

    /// @inheritdoc IBurnMintEngine
    function setSubsidyBudgetUsd(uint256 usd) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _setSubsidyBudgetUsd(usd);
    }

    /// @inheritdoc IBurnMintEngine
    function setOracle(address newOracle) external onlyRole(DEFAULT_ADMIN_ROLE) {
        require(newOracle != address(0), ZeroAddress());
        IPriceOracle(newOracle).price(); // a replacement must answer now (reverts with its own error)
        emit AddressUpdated("oracle", address(_oracle), newOracle);
        _oracle = IPriceOracle(newOracle);
    }

    /// @inheritdoc IBurnMintEngine
    function setTreasury(address newTreasury) external onlyRole(DEFAULT_ADMIN_ROLE) {
        require(newTreasury != address(0), ZeroAddress());
        emit AddressUpdated("treasury", _treasury, newTreasury);
        _treasury = newTreasury;
    }

    // ---------------------------------------------------------------- views

    /// @inheritdoc IBurnMintEngine
    function config() external view returns (Config memory) {
        return
            Config({
                mintSpreadBps: _mintSpreadBps,
                epochMintCap: _capOf(currentEpoch()),
                emissionPerEpoch: _EMISSION_PER_EPOCH,
                halvingEpochs: _HALVING_EPOCHS,
                stakerShareBps: _stakerShareBps,
                subsidyBudgetUsd: _subsidyBudgetUsd
            });
    }

    /// @inheritdoc IBurnMintEngine
    function genesisEpoch() external view returns (uint256) {
        return _GENESIS_EPOCH;
    }

    /// @inheritdoc IBurnMintEngine
    function oracle() external view returns (address) {
        return address(_oracle);
    }

    /// @inheritdoc IBurnMintEngine
    function treasury() external view returns (address) {
        return _treasury;
    }

    /// @inheritdoc IBurnMintEngine
    function currentEpoch() public view returns (uint256) {
        // Time: an epoch is a UTC day by design (emissions, mint cap, subsidy budget); a block producer's
        // few seconds of timestamp leeway only nudge the boundary (THREAT_MODEL.md, "Time").
        // solhint-disable-next-line not-rely-on-time
        return block.timestamp / 1 days;
    }

    /// @inheritdoc IBurnMintEngine
    function emissionFor(uint256 epoch) public view returns (uint256) {
        if (epoch < _GENESIS_EPOCH) return 0;
        uint256 halvings = (epoch - _GENESIS_EPOCH) / _HALVING_EPOCHS;
        return halvings >= 256 ? 0 : _EMISSION_PER_EPOCH >> halvings;
    }

    /// @inheritdoc IBurnMintEngine
    function epochLedger(uint256 epoch) external view returns (EpochLedger memory) {
        return _ledgers[epoch];
    }

    /// @inheritdoc IBurnMintEngine
    function organicUsd(uint256 epoch) external view returns (uint256) {
        EpochLedger storage ledger = _ledgers[epoch];
        return ledger.organicCreditUsd + ledger.voucherRevenueUsd;
    }

    /// @inheritdoc IBurnMintEngine
    function subsidyRatio(uint256 epoch) external view returns (uint256) {
        EpochLedger storage ledger = _ledgers[epoch];
        if (ledger.workUsd == 0) return 0;
        return (ledger.subsidisedWorkUsd * _BPS) / ledger.workUsd;
    }

    /// @inheritdoc IBurnMintEngine
    function netSupplyChange(uint256 epoch) external view returns (int256) {
        EpochLedger storage ledger = _ledgers[epoch];
        // Each term is bounded by maxSupply (< 2^255), so the casts are safe.
        return int256(ledger.tokensRedeemed + ledger.tokensEmitted) - int256(ledger.tokensBurned);
    }

    /// @inheritdoc IBurnMintEngine
    function mintedIn(uint256 epoch) external view returns (uint256) {
        return _mintedIn[epoch];
    }

    /// @inheritdoc IBurnMintEngine
    function redeemCapacity() public view returns (uint256) {
        return _capLeft(currentEpoch(), true);
    }

    /// @inheritdoc IBurnMintEngine
    function subsidyRemaining() public view returns (uint256) {
        uint256 used = _ledgers[currentEpoch()].subsidyMintedUsd;
        return used >= _subsidyBudgetUsd ? 0 : _subsidyBudgetUsd - used;
    }

    /// @inheritdoc IBurnMintEngine
    function providerWork(uint256 epoch, address provider) external view returns (uint256) {
        return _providerWork[epoch][provider];
    }

    /// @inheritdoc IBurnMintEngine
    function claimableEmission(uint256 epoch, address provider) external view returns (uint256) {
        if (!_ledgers[epoch].distributed || _claimed[epoch][provider]) return 0;
        return _shareOf(epoch, provider);
    }

    /// @inheritdoc IBurnMintEngine
    function quoteMintCredits(uint256 tokenAmount) external view returns (uint256 credits, uint256 spread) {
        return _quoteMintCredits(tokenAmount, _oracle.price());
    }

    /// @inheritdoc IBurnMintEngine
    function quoteRedeem(uint256 creditAmount) external view returns (uint256 tokens) {
        return Math.mulDiv(creditAmount, 1e18, _oracle.price());
    }

    // ---------------------------------------------------------------- internal

    function _quoteMintCredits(uint256 tokenAmount, uint256 price) private view returns (uint256, uint256) {
        uint256 gross = Math.mulDiv(tokenAmount, price, 1e18);
        uint256 spread = Math.mulDiv(gross, _mintSpreadBps, _BPS, Math.Rounding.Ceil);
        return (gross - spread, spread);
    }

    /// @dev What the cap of epoch `current` has left, optionally keeping back the previous epoch's scheduled
    ///      emission while that epoch is undistributed.
    function _capLeft(uint256 current, bool keepReserve) private view returns (uint256) {
        uint256 used = _mintedIn[current];
        if (keepReserve && current > _GENESIS_EPOCH && !_ledgers[current - 1].distributed) {
            used += emissionFor(current - 1);
        }
        uint256 cap = _capOf(current);
        return used >= cap ? 0 : cap - used;
    }

    /// @dev The mint cap in force during `epoch` (a change takes effect from the epoch after it was made).
    function _capOf(uint256 epoch) private view returns (uint256) {
        return _nextCapEpoch != 0 && epoch >= _nextCapEpoch ? _nextEpochMintCap : _epochMintCap;
    }

    /// @dev `provider`'s pro-rata share of `epoch`'s provider pool, rounded down.
    function _shareOf(uint256 epoch, address provider) private view returns (uint256) {
        EpochLedger storage ledger = _ledgers[epoch];
        if (ledger.providerPool == 0) return 0;
        return Math.mulDiv(ledger.providerPool, _providerWork[epoch][provider], ledger.workUsd);
    }

    function _setMintSpreadBps(uint256 bps) private {
        require(bps <= _MAX_SPREAD_BPS, ParameterOutOfBounds("mintSpreadBps", bps, 0, _MAX_SPREAD_BPS));
        emit ParameterUpdated("mintSpreadBps", _mintSpreadBps, bps);
        _mintSpreadBps = bps;
    }

    function _checkEpochMintCap(uint256 cap) private view {
        uint256 maxSupply = _TOKEN.maxSupply();
        require(
            cap >= _EMISSION_PER_EPOCH && cap <= maxSupply,
            ParameterOutOfBounds("epochMintCap", cap, _EMISSION_PER_EPOCH, maxSupply)
        );
    }

    function _setStakerShareBps(uint256 bps) private {
        require(bps <= _BPS, ParameterOutOfBounds("stakerShareBps", bps, 0, _BPS));
        emit ParameterUpdated("stakerShareBps", _stakerShareBps, bps);
        _stakerShareBps = bps;
    }

    function _setSubsidyBudgetUsd(uint256 usd) private {
        require(usd <= _MAX_SUBSIDY_BUDGET, ParameterOutOfBounds("subsidyBudgetUsd", usd, 0, _MAX_SUBSIDY_BUDGET));
        emit ParameterUpdated("subsidyBudgetUsd", _subsidyBudgetUsd, usd);
        _subsidyBudgetUsd = usd;
    }
}

// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {IDisputeModule} from "./interfaces/IDisputeModule.sol";
import {IJobCoordinator} from "./interfaces/IJobCoordinator.sol";
import {IProviderRegistry} from "./interfaces/IProviderRegistry.sol";
import {IResultVerifier} from "./interfaces/IResultVerifier.sol";

/// @title DisputeModule
/// @notice Challenges of submitted results, decided by a pluggable {IResultVerifier} or, failing a verdict, by
///         timeout in the provider's favour (Infernet's default). A fault costs the provider `faultSlashBps` of its
///         whole bond (Livepeer: `finderFeeBps` of it to the challenger, the rest burned) and a jail term; the
///         requester gets a full refund through the coordinator.
/// @dev Holds challenger bonds only: its token balance equals the bonds of open disputes. Each dispute resolves
///      once (the outcome is written before any transfer). Challenging needs the coordinator's DISPUTE_ROLE; the
///      module needs the registry's SLASHER_ROLE. Nothing here pauses: a challenge protects requesters, and a
///      paused challenge path would let wrong results finalise while windows run out. Each dispute keeps the
///      timeout it was opened with, so a parameter change never shortens or stretches a running dispute.
contract DisputeModule is IDisputeModule, AccessControl, ReentrancyGuardTransient {
    using SafeERC20 for IERC20;

    uint256 private constant _BPS = 10_000;
    uint256 private constant _MAX_BOND = 1e27;
    uint256 private constant _MIN_TIMEOUT = 1 hours;
    uint256 private constant _MAX_TIMEOUT = 30 days;
    uint256 private constant _MIN_JAIL = 1 days;
    uint256 private constant _MAX_JAIL = 365 days;

    IJobCoordinator private immutable _COORDINATOR;
    IProviderRegistry private immutable _PROVIDERS;
    IERC20 private immutable _TOKEN;

    IResultVerifier private _verifier;
    uint256 private _challengeBond;
    uint256 private _disputeTimeout;
    uint256 private _faultSlashBps;
    uint256 private _finderFeeBps;
    uint256 private _jailDuration;

    mapping(uint256 jobId => Dispute) private _disputes;
    uint256 private _openDisputes;

    /// @notice Constructor configuration; every value changes later only through the timelock.
    struct Config {
        uint256 challengeBond;
        uint256 disputeTimeout;
        uint256 faultSlashBps;
        uint256 finderFeeBps;
        uint256 jailDuration;
    }

    /// @param coordinator_ The JobCoordinator.
    /// @param providers_ The ProviderRegistry (bonds in its token, which is also the challenger bond token).
    /// @param verifier_ The result verifier.
    /// @param admin DEFAULT_ADMIN_ROLE holder (the timelock).
    /// @param config Initial parameters.
    constructor(
        IJobCoordinator coordinator_,
        IProviderRegistry providers_,
        IResultVerifier verifier_,
        address admin,
        Config memory config
    ) {
        require(
            address(coordinator_) != address(0) &&
                address(providers_) != address(0) &&
                address(verifier_) != address(0) &&
                admin != address(0),
            ZeroAddress()
        );
        _COORDINATOR = coordinator_;
        _PROVIDERS = providers_;
        _TOKEN = IERC20(address(providers_.token()));
        _verifier = verifier_;
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _setChallengeBond(config.challengeBond);
        _setDisputeTimeout(config.disputeTimeout);
        _setSlashing(config.faultSlashBps, config.finderFeeBps);
        _setJailDuration(config.jailDuration);
    }

    // ---------------------------------------------------------------- disputes

    /// @inheritdoc IDisputeModule
    function challenge(uint256 jobId) external nonReentrant {
        // The coordinator checks the job is submitted and inside its window, and blocks its finalisation.
        address provider = _COORDINATOR.markChallenged(jobId);
        require(msg.sender != provider, SelfChallenge(jobId));
        uint256 bond = _challengeBond;
        // Time: a dispute records when it opened and times out a fixed duration (1 hour to 30 days) later.
        // solhint-disable not-rely-on-time
        _disputes[jobId] = Dispute({
            challenger: msg.sender,
            openedAt: uint64(block.timestamp),
            outcome: Outcome.Open,
            provider: provider,
            timeoutAt: uint64(block.timestamp + _disputeTimeout),
            bond: bond
        });
        // solhint-enable not-rely-on-time
        ++_openDisputes;
        emit Challenged(jobId, msg.sender, provider, bond);
        _TOKEN.safeTransferFrom(msg.sender, address(this), bond);
    }

    /// @inheritdoc IDisputeModule
    function resolve(uint256 jobId) external nonReentrant returns (Outcome outcome) {
        Dispute storage d = _disputes[jobId];
        require(d.outcome == Outcome.Open, NoOpenDispute(jobId));
        IResultVerifier.Verdict verdict = _verifier.verdict(jobId);
        if (verdict == IResultVerifier.Verdict.Fault) outcome = Outcome.Upheld;
        else if (verdict == IResultVerifier.Verdict.Valid) outcome = Outcome.Rejected;
        else {
            // Time: without a verdict the dispute timeout decides (for the provider, bond returned).
            // solhint-disable-next-line not-rely-on-time
            require(block.timestamp >= d.timeoutAt, NotResolvable(jobId, d.timeoutAt));
            outcome = Outcome.TimedOut;
        }
        d.outcome = outcome;
        --_openDisputes;

        address challenger = d.challenger;
        address provider = d.provider;
        uint256 bond = d.bond;
        uint256 slashed;
        uint256 finderFee;
        if (outcome == Outcome.Upheld) {
            // Refund and release first, so the slash below reaches the job's collateral like the rest of the bond.
            _COORDINATOR.resolveChallenge(jobId, false);
            uint256 total = Math.mulDiv(_PROVIDERS.getProvider(provider).bond, _faultSlashBps, _BPS);
            uint256 fee = Math.mulDiv(total, _finderFeeBps, _BPS);
            if (fee != 0) finderFee = _PROVIDERS.slash(provider, fee, challenger);
            slashed = finderFee + _PROVIDERS.slash(provider, total - fee, address(0));
            // Time: a jail term (1 to 365 days) from the resolution.
            // solhint-disable-next-line not-rely-on-time
            _PROVIDERS.jail(provider, block.timestamp + _jailDuration);
            _TOKEN.safeTransfer(challenger, bond);
        } else {
            _COORDINATOR.resolveChallenge(jobId, true);
            // A rejected challenge pays the provider for its trouble; a timeout is nobody's fault.
            _TOKEN.safeTransfer(outcome == Outcome.Rejected ? provider : challenger, bond);
        }
        emit DisputeResolved(jobId, outcome, slashed, finderFee);
    }

    // ---------------------------------------------------------------- governance

    /// @inheritdoc IDisputeModule
    function setChallengeBond(uint256 bond) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _setChallengeBond(bond);
    }

    /// @inheritdoc IDisputeModule
    function setDisputeTimeout(uint256 timeout) external onlyRole(DEFAULT_ADMIN_ROLE) {
        uint256 total = _COORDINATOR.challengeWindow() + timeout;
        uint256 unbonding = _PROVIDERS.unbondingPeriod();
        require(total <= unbonding, ParameterOutOfBounds("slashableWindow", total, 0, unbonding));
        _setDisputeTimeout(timeout);
    }

    /// @inheritdoc IDisputeModule
    function setSlashing(uint256 faultSlashBps_, uint256 finderFeeBps_) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _setSlashing(faultSlashBps_, finderFeeBps_);
    }

    /// @inheritdoc IDisputeModule
    function setJailDuration(uint256 duration) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _setJailDuration(duration);
    }

    /// @inheritdoc IDisputeModule
    function setVerifier(IResultVerifier verifier_) external onlyRole(DEFAULT_ADMIN_ROLE) {
        require(address(verifier_) != address(0), ZeroAddress());
        emit VerifierUpdated(address(_verifier), address(verifier_));
        _verifier = verifier_;
    }

    // ---------------------------------------------------------------- views

    /// @inheritdoc IDisputeModule
    function getDispute(uint256 jobId) external view returns (Dispute memory) {
        return _disputes[jobId];
    }

    /// @inheritdoc IDisputeModule
    function isOpen(uint256 jobId) external view returns (bool) {
        return _disputes[jobId].outcome == Outcome.Open;
    }

    /// @inheritdoc IDisputeModule
    function openDisputes() external view returns (uint256) {
        return _openDisputes;
    }

    /// @inheritdoc IDisputeModule
    function challengeBond() external view returns (uint256) {
        return _challengeBond;
    }

    /// @inheritdoc IDisputeModule
    function disputeTimeout() external view returns (uint256) {
        return _disputeTimeout;
    }

    /// @inheritdoc IDisputeModule
    function faultSlashBps() external view returns (uint256) {
        return _faultSlashBps;
    }

    /// @inheritdoc IDisputeModule
    function finderFeeBps() external view returns (uint256) {
        return _finderFeeBps;
    }

    /// @inheritdoc IDisputeModule
    function jailDuration() external view returns (uint256) {
        return _jailDuration;
    }

    /// @inheritdoc IDisputeModule
    function verifier() external view returns (IResultVerifier) {
        return _verifier;
    }

    /// @inheritdoc IDisputeModule
    function coordinator() external view returns (IJobCoordinator) {
        return _COORDINATOR;
    }

    /// @inheritdoc IDisputeModule
    function providers() external view returns (IProviderRegistry) {
        return _PROVIDERS;
    }

    // ---------------------------------------------------------------- internal

    function _setChallengeBond(uint256 bond) private {
        require(bond != 0 && bond <= _MAX_BOND, ParameterOutOfBounds("challengeBond", bond, 1, _MAX_BOND));
        emit ParameterUpdated("challengeBond", _challengeBond, bond);
        _challengeBond = bond;
    }

    function _setDisputeTimeout(uint256 timeout) private {
        require(
            timeout >= _MIN_TIMEOUT && timeout <= _MAX_TIMEOUT,
            ParameterOutOfBounds("disputeTimeout", timeout, _MIN_TIMEOUT, _MAX_TIMEOUT)
        );
        emit ParameterUpdated("disputeTimeout", _disputeTimeout, timeout);
        _disputeTimeout = timeout;
    }

    function _setSlashing(uint256 faultSlashBps_, uint256 finderFeeBps_) private {
        require(faultSlashBps_ <= _BPS, ParameterOutOfBounds("faultSlashBps", faultSlashBps_, 0, _BPS));
        require(finderFeeBps_ <= _BPS, ParameterOutOfBounds("finderFeeBps", finderFeeBps_, 0, _BPS));
        emit ParameterUpdated("faultSlashBps", _faultSlashBps, faultSlashBps_);
        emit ParameterUpdated("finderFeeBps", _finderFeeBps, finderFeeBps_);
        _faultSlashBps = faultSlashBps_;
        _finderFeeBps = finderFeeBps_;
    }

    function _setJailDuration(uint256 duration) private {
        require(
            duration >= _MIN_JAIL && duration <= _MAX_JAIL,
            ParameterOutOfBounds("jailDuration", duration, _MIN_JAIL, _MAX_JAIL)
        );
        emit ParameterUpdated("jailDuration", _jailDuration, duration);
        _jailDuration = duration;
    }
}

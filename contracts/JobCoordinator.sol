// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC20Metadata} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Metadata.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {GuardianPausable} from "./governance/GuardianPausable.sol";
import {IBurnMintEngine} from "./interfaces/IBurnMintEngine.sol";
import {IComputeCredit} from "./interfaces/IComputeCredit.sol";
import {IDailyCredit} from "./interfaces/IDailyCredit.sol";
import {IDisputeModule} from "./interfaces/IDisputeModule.sol";
import {IJobCoordinator} from "./interfaces/IJobCoordinator.sol";
import {IModelRegistry} from "./interfaces/IModelRegistry.sol";
import {IProviderRegistry} from "./interfaces/IProviderRegistry.sol";
import {ISlashingWindow} from "./interfaces/ISlashingWindow.sol";
import {IVoucherMarket} from "./interfaces/IVoucherMarket.sol";

/// @title JobCoordinator
/// @notice Escrowed inference jobs from request to settlement, for all three payment paths:
///         - Voucher: whole vouchers covering `maxUnits` move into this contract's custody; at settlement the used
///           ones are redeemed (principal credited to the provider, reported as organic revenue) and the rest
///           returned to the requester.
///         - DailyCredit: `maxUnits × maxPricePerUnit` of the requester's allowance is spent and the same USD of
///           subsidised ComputeCredit minted here from the engine's budget (reserved up front, so a provider is
///           never left unpaid by an exhausted budget); the unused part is burned back and the allowance restored
///           when still the same day.
///         - ComputeCredit: the credit is pulled into escrow; the provider is paid for the units used at its own
///           price (never above the requester's cap) and the rest refunded.
/// @dev Storage is packed for the hot paths: a voucher request writes two new slots (the header and the input
///      hash); the model and voucher class live in a small terms table shared by all jobs with the same terms.
///      Settlement goes through one mechanism for `finalize`, `finalizeBatch` and rejected challenges: per-job
///      state changes and refunds first, then one call per provider (collateral, credit, work) and per
///      (class, provider) voucher redemption, so a batch pays the cross-contract overhead once.
///      A job's escrow leaves only on its single terminal transition; every such transition sets the status first.
contract JobCoordinator is IJobCoordinator, GuardianPausable, ReentrancyGuardTransient, EIP712 {
    using SafeERC20 for IERC20;
    using SafeCast for uint256;

    /// @notice Role of the DisputeModule: marks jobs challenged and resolves them.
    bytes32 public constant DISPUTE_ROLE = keccak256("DISPUTE_ROLE");

    /// @notice EIP-712 type of a provider's result attestation.
    bytes32 public constant RESULT_TYPEHASH = keccak256(
        "Result(uint256 jobId,bytes32 modelId,bytes32 inputHash,bytes32 outputHash,uint256 unitsUsed)"
    );

    /// @notice Longest `inputRef` (bytes): a URI or a small ciphertext; larger inputs go behind a URI.
    uint256 public constant MAX_INPUT_REF = 2_048;
    /// @notice Most jobs one `finalizeBatch` call takes.
    uint256 public constant MAX_BATCH = 100;

    uint256 private constant _BPS = 10_000;
    uint256 private constant _WAD = 1e18;
    uint256 private constant _MIN_WINDOW = 1 minutes;
    uint256 private constant _MAX_WINDOW = 7 days;
    uint256 private constant _MAX_JOB_DURATION = 30 days;
    uint256 private constant _MAX_COLLATERAL_PER_USD = 1e24;

    /// @dev A job, packed: slot 0 and 1 are written at request, 2 at acceptance (at request for a direct job),
    ///      3 and 4 at submission, 5 only for credit payments.
    struct Job {
        address requester;
        uint32 deadline;
        JobStatus status;
        PaymentKind kind;
        uint32 maxUnits;
        uint16 termsId;
        bytes32 inputHash;
        address provider;
        uint96 collateral;
        bytes32 outputHash;
        uint32 unitsUsed;
        uint32 challengeEnds;
        uint128 escrowUsd; // credit payments: USD escrowed
        uint96 pricePerUnit; // credit payments: the cap until acceptance, then the provider's price
        uint32 fundedDay; // DailyCredit payments: UTC day of the spend (= engine epoch of the subsidy)
    }

    /// @dev What a job's payment is for: the model and, for vouchers, the class and its units per voucher.
    struct Terms {
        bytes32 modelId;
        uint64 classId;
        uint96 unitsPerVoucher;
        uint96 usdPerVoucher; // the class's unit price in USD (18 decimals): the value at stake per voucher
    }

    /// @dev Per-provider totals of one settlement.
    struct ProviderTally {
        address provider;
        uint256 jobs;
        uint256 collateral;
        uint256 credit;
        uint256 organicUsd;
        uint256 subsidisedUsd;
    }

    /// @dev Vouchers of one class to redeem for one provider.
    struct VoucherTally {
        address provider;
        uint256 classId;
        uint256 vouchers;
    }

    /// @dev An in-memory settlement: filled job by job, flushed once.
    struct Settlement {
        ProviderTally[] providers;
        uint256 providerCount;
        VoucherTally[] vouchers;
        uint256 voucherCount;
    }

    IProviderRegistry private immutable _PROVIDERS;
    IModelRegistry private immutable _MODELS;
    IVoucherMarket private immutable _MARKET;
    IDailyCredit private immutable _DAILY;
    IComputeCredit private immutable _CREDIT;
    IBurnMintEngine private immutable _ENGINE;

    /// @dev The job counter and every parameter a request or acceptance reads, in one slot (all bounded to fit).
    struct State {
        uint64 jobCount;
        uint32 challengeWindow;
        uint32 minJobDuration;
        uint32 maxJobDuration;
        uint16 lateSlashBps;
        uint80 collateralPerUsd;
    }

    State private _state;
    mapping(uint256 jobId => Job) private _jobs;
    uint16 private _termsCount;
    mapping(uint256 termsId => Terms) private _terms;
    mapping(bytes32 termsKey => uint16) private _termsIds;

    address private _disputeModule;

    /// @notice Constructor configuration; every value changes later only through the timelock.
    struct Config {
        uint256 challengeWindow;
        uint256 minJobDuration;
        uint256 maxJobDuration;
        uint256 collateralPerUsd;
        uint256 lateSlashBps;
    }

    /// @param providers_ The ProviderRegistry (this contract needs its COORDINATOR_ROLE and SLASHER_ROLE).
    /// @param market_ The VoucherMarket (REDEEMER_ROLE).
    /// @param daily_ DailyCredit (SPENDER_ROLE).
    /// @param credit_ ComputeCredit (PROTOCOL_ROLE).
    /// @param engine_ The BurnMintEngine (COORDINATOR_ROLE).
    /// @param admin DEFAULT_ADMIN_ROLE holder (the timelock).
    /// @param config Initial parameters.
    constructor(
        IProviderRegistry providers_,
        IVoucherMarket market_,
        IDailyCredit daily_,
        IComputeCredit credit_,
        IBurnMintEngine engine_,
        address admin,
        Config memory config
    ) EIP712("Cinder JobCoordinator", "1") {
        require(
            address(providers_) != address(0) &&
                address(market_) != address(0) &&
                address(daily_) != address(0) &&
                address(credit_) != address(0) &&
                address(engine_) != address(0) &&
                admin != address(0),
            ZeroAddress()
        );
        _PROVIDERS = providers_;
        _MODELS = providers_.models();
        _MARKET = market_;
        _DAILY = daily_;
        _CREDIT = credit_;
        _ENGINE = engine_;
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _setChallengeWindow(config.challengeWindow);
        _setJobDurationBounds(config.minJobDuration, config.maxJobDuration);
        _setCollateralPerUsd(config.collateralPerUsd);
        _setLateSlashBps(config.lateSlashBps);
    }

    // ---------------------------------------------------------------- requester

    /// @inheritdoc IJobCoordinator
    function requestJob(
        bytes32 modelId,
        bytes32 inputHash,
        bytes calldata inputRef,
        uint256 maxUnits,
        Payment calldata payment,
        uint256 deadline,
        address provider
    ) external nonReentrant whenNotPaused returns (uint256 jobId) {
        require(inputHash != bytes32(0), EmptyHash());
        require(inputRef.length <= MAX_INPUT_REF, InputRefTooLong(inputRef.length, MAX_INPUT_REF));
        _checkRequest(modelId, maxUnits, deadline, provider);

        jobId = ++_state.jobCount;
        Job storage job = _jobs[jobId];
        uint256 escrow = _takeEscrow(job, modelId, maxUnits, payment);
        job.requester = msg.sender;
        job.deadline = uint32(deadline);
        job.status = JobStatus.Requested;
        job.kind = payment.kind;
        job.maxUnits = uint32(maxUnits);
        job.inputHash = inputHash;
        if (provider != address(0)) job.provider = provider;

        _emitRequested(jobId, modelId, payment.classId, job, inputRef, escrow);
    }

    /// @inheritdoc IJobCoordinator
    function cancel(uint256 jobId) external nonReentrant {
        Job storage job = _existing(jobId);
        _requireStatus(jobId, job, JobStatus.Requested);
        require(msg.sender == job.requester, NotJobParty(jobId, msg.sender));
        job.status = JobStatus.Cancelled;
        uint256 refunded = _refundAll(job);
        emit JobCancelled(jobId, refunded);
    }

    // ---------------------------------------------------------------- provider

    /// @inheritdoc IJobCoordinator
    function acceptJob(uint256 jobId) external nonReentrant whenNotPaused {
        Job storage job = _existing(jobId);
        _requireStatus(jobId, job, JobStatus.Requested);
        // Time: the requester's deadline bounds acceptance (a job accepted too late could only expire).
        // solhint-disable-next-line not-rely-on-time
        require(block.timestamp < job.deadline, DeadlinePassed(jobId, job.deadline));
        address named = job.provider;
        require(named == address(0) || named == msg.sender, ProviderNotEligible(jobId, msg.sender));
        Terms storage terms = _terms[job.termsId];
        uint256 price = _PROVIDERS.eligiblePrice(msg.sender, terms.modelId);
        require(price != 0, ProviderNotEligible(jobId, msg.sender));
        // Collateral is proportional to what the requester has at stake, rounded up: the escrowed vouchers' USD
        // value (never the provider's own price, which it could set to almost nothing), or the credit job's value
        // at the provider's price.
        uint256 value;
        if (job.kind == PaymentKind.Voucher) {
            value = Math.ceilDiv(job.maxUnits, terms.unitsPerVoucher) * terms.usdPerVoucher;
        } else {
            uint256 cap = job.pricePerUnit;
            require(price <= cap, PriceAboveCap(price, cap));
            job.pricePerUnit = uint96(price);
            value = uint256(job.maxUnits) * price;
        }
        uint256 collateral = Math.mulDiv(value, _state.collateralPerUsd, _WAD, Math.Rounding.Ceil);

        job.status = JobStatus.Accepted;
        job.provider = msg.sender;
        job.collateral = collateral.toUint96();
        emit JobAccepted(jobId, msg.sender, collateral, job.kind == PaymentKind.Voucher ? 0 : price);

        _PROVIDERS.lockCollateral(msg.sender, collateral);
    }

    /// @inheritdoc IJobCoordinator
    function submitResult(
        uint256 jobId,
        bytes32 outputHash,
        uint256 unitsUsed,
        bytes calldata signature
    ) external nonReentrant {
        Job storage job = _existing(jobId);
        _requireStatus(jobId, job, JobStatus.Accepted);
        address provider = job.provider;
        require(msg.sender == provider, NotJobParty(jobId, msg.sender));
        // Time: results are due by the requester's deadline; after it the job expires and the provider is slashed.
        // solhint-disable-next-line not-rely-on-time
        require(block.timestamp < job.deadline, DeadlinePassed(jobId, job.deadline));
        require(outputHash != bytes32(0), EmptyHash());
        require(unitsUsed <= job.maxUnits, UnitsExceedMax(unitsUsed, job.maxUnits));

        bytes32 digest = _resultDigest(jobId, _terms[job.termsId].modelId, job.inputHash, outputHash, unitsUsed);
        address signer = _PROVIDERS.signerOf(provider);
        (address recovered, ECDSA.RecoverError err, ) = ECDSA.tryRecover(digest, signature);
        require(
            err == ECDSA.RecoverError.NoError && recovered == signer,
            InvalidAttestation(jobId, recovered, signer)
        );

        // Time: the challenge window (1 minute to 7 days) opens at submission.
        // solhint-disable-next-line not-rely-on-time
        uint256 challengeEnds = block.timestamp + _state.challengeWindow;
        job.status = JobStatus.Submitted;
        job.outputHash = outputHash;
        job.unitsUsed = uint32(unitsUsed);
        job.challengeEnds = challengeEnds.toUint32();
        emit ResultSubmitted(jobId, provider, outputHash, unitsUsed, challengeEnds);
    }

    // ---------------------------------------------------------------- settlement (anyone, never paused)

    /// @inheritdoc IJobCoordinator
    function finalize(uint256 jobId) external nonReentrant {
        Job storage job = _existing(jobId);
        _requireStatus(jobId, job, JobStatus.Submitted);
        // Time: settlement waits for the challenge window to close.
        // solhint-disable-next-line not-rely-on-time
        require(block.timestamp >= job.challengeEnds, ChallengeWindowOpen(jobId, job.challengeEnds));
        Settlement memory s = _newSettlement(1);
        _settle(jobId, job, s);
        _flush(s);
    }

    /// @inheritdoc IJobCoordinator
    function finalizeBatch(
        uint256[] calldata jobIds
    ) external nonReentrant returns (uint256 settled, uint256[] memory skipped) {
        uint256 n = jobIds.length;
        require(n != 0 && n <= MAX_BATCH, InvalidBatchSize(n, MAX_BATCH));
        Settlement memory s = _newSettlement(n);
        skipped = new uint256[](n);
        uint256 skippedCount;
        for (uint256 i = 0; i < n; ++i) {
            uint256 jobId = jobIds[i];
            Job storage job = _jobs[jobId];
            JobStatus status = job.status;
            SkipReason reason;
            if (status == JobStatus.Submitted) {
                // Time: settlement waits for the challenge window to close.
                // solhint-disable-next-line not-rely-on-time
                if (block.timestamp >= job.challengeEnds) {
                    _settle(jobId, job, s);
                    ++settled;
                    continue;
                }
                reason = SkipReason.WindowOpen;
            } else {
                reason = status == JobStatus.Challenged ? SkipReason.Challenged : SkipReason.NotSubmitted;
            }
            skipped[skippedCount++] = jobId;
            emit JobSkipped(jobId, reason);
        }
        // Shrinks `skipped` to the ids actually skipped (Solidity cannot shorten a memory array); memory-safe, as it
        // only lowers the length of an array this function allocated.
        // solhint-disable-next-line no-inline-assembly
        assembly ("memory-safe") {
            mstore(skipped, skippedCount)
        }
        if (settled != 0) _flush(s);
    }

    /// @inheritdoc IJobCoordinator
    function expire(uint256 jobId) external nonReentrant {
        Job storage job = _existing(jobId);
        JobStatus status = job.status;
        require(status == JobStatus.Requested || status == JobStatus.Accepted, InvalidJobStatus(jobId, status));
        // Time: a missed deadline lets anyone expire the job (refund, late slash).
        // solhint-disable-next-line not-rely-on-time
        require(block.timestamp >= job.deadline, DeadlineNotReached(jobId, job.deadline));
        job.status = JobStatus.Expired;
        uint256 refunded = _refundAll(job);

        address provider;
        uint256 slashed;
        if (status == JobStatus.Accepted) {
            provider = job.provider;
            uint256 collateral = job.collateral;
            // Rounded up: the protocol's favour.
            slashed = _PROVIDERS.slash(
                provider,
                Math.mulDiv(collateral, _state.lateSlashBps, _BPS, Math.Rounding.Ceil),
                address(0)
            );
            _PROVIDERS.releaseCollateral(provider, collateral, 1);
        }
        emit JobExpired(jobId, provider, refunded, slashed);
    }

    // ---------------------------------------------------------------- dispute module

    /// @inheritdoc IJobCoordinator
    function markChallenged(uint256 jobId) external onlyRole(DISPUTE_ROLE) returns (address provider) {
        Job storage job = _existing(jobId);
        _requireStatus(jobId, job, JobStatus.Submitted);
        // Time: a challenge must land inside the window.
        // solhint-disable-next-line not-rely-on-time
        require(block.timestamp < job.challengeEnds, ChallengeWindowClosed(jobId, job.challengeEnds));
        job.status = JobStatus.Challenged;
        provider = job.provider;
        emit JobChallenged(jobId, provider);
    }

    /// @inheritdoc IJobCoordinator
    function resolveChallenge(uint256 jobId, bool resultValid) external nonReentrant onlyRole(DISPUTE_ROLE) {
        Job storage job = _existing(jobId);
        _requireStatus(jobId, job, JobStatus.Challenged);
        if (resultValid) {
            Settlement memory s = _newSettlement(1);
            _settle(jobId, job, s);
            _flush(s);
        } else {
            job.status = JobStatus.Faulted;
            uint256 refunded = _refundAll(job);
            address provider = job.provider;
            _PROVIDERS.releaseCollateral(provider, job.collateral, 1);
            emit JobFaulted(jobId, provider, refunded);
        }
    }

    // ---------------------------------------------------------------- governance

    /// @inheritdoc IJobCoordinator
    function setChallengeWindow(uint256 window) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _setChallengeWindow(window);
    }

    /// @inheritdoc IJobCoordinator
    function setJobDurationBounds(uint256 minDuration, uint256 maxDuration) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _setJobDurationBounds(minDuration, maxDuration);
    }

    /// @inheritdoc IJobCoordinator
    function setCollateralPerUsd(uint256 collateralPerUsd_) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _setCollateralPerUsd(collateralPerUsd_);
    }

    /// @inheritdoc IJobCoordinator
    function setLateSlashBps(uint256 bps) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _setLateSlashBps(bps);
    }

    /// @inheritdoc IJobCoordinator
    function setDisputeModule(address disputeModule_) external onlyRole(DEFAULT_ADMIN_ROLE) {
        require(disputeModule_ != address(0), ZeroAddress());
        address previous = _disputeModule;
        if (previous != address(0)) {
            // The old module must have resolved every dispute it opened: only it can end them.
            uint256 open = IDisputeModule(previous).openDisputes();
            require(open == 0, DisputesStillOpen(open));
        }
        uint256 window = _state.challengeWindow + IDisputeModule(disputeModule_).disputeTimeout();
        uint256 unbonding = _PROVIDERS.unbondingPeriod();
        require(window <= unbonding, ParameterOutOfBounds("slashableWindow", window, 0, unbonding));
        if (previous != address(0)) _revokeRole(DISPUTE_ROLE, previous);
        _grantRole(DISPUTE_ROLE, disputeModule_);
        _disputeModule = disputeModule_;
        emit DisputeModuleUpdated(previous, disputeModule_);
    }

    // ---------------------------------------------------------------- views

    /// @inheritdoc IJobCoordinator
    function getJob(uint256 jobId) external view returns (JobView memory v) {
        Job storage job = _existing(jobId);
        Terms storage terms = _terms[job.termsId];
        v.status = job.status;
        v.kind = job.kind;
        v.requester = job.requester;
        v.provider = job.provider;
        v.modelId = terms.modelId;
        v.inputHash = job.inputHash;
        v.outputHash = job.outputHash;
        v.classId = terms.classId;
        v.maxUnits = job.maxUnits;
        v.unitsUsed = job.unitsUsed;
        v.deadline = job.deadline;
        v.challengeEnds = job.challengeEnds;
        v.collateral = job.collateral;
        if (job.kind == PaymentKind.Voucher) {
            v.escrow = Math.ceilDiv(job.maxUnits, terms.unitsPerVoucher);
        } else {
            v.escrow = job.escrowUsd;
            v.pricePerUnit = job.pricePerUnit;
            v.fundedDay = job.fundedDay;
        }
    }

    /// @inheritdoc IJobCoordinator
    function jobCount() external view returns (uint256) {
        return _state.jobCount;
    }

    /// @inheritdoc IJobCoordinator
    function resultDigest(
        uint256 jobId,
        bytes32 modelId,
        bytes32 inputHash,
        bytes32 outputHash,
        uint256 unitsUsed
    ) external view returns (bytes32) {
        return _resultDigest(jobId, modelId, inputHash, outputHash, unitsUsed);
    }

    /// @inheritdoc ISlashingWindow
    function slashableWindow() public view returns (uint256) {
        address dispute = _disputeModule;
        return _state.challengeWindow + (dispute == address(0) ? 0 : IDisputeModule(dispute).disputeTimeout());
    }

    /// @inheritdoc IJobCoordinator
    function challengeWindow() external view returns (uint256) {
        return _state.challengeWindow;
    }

    /// @inheritdoc IJobCoordinator
    function jobDurationBounds() external view returns (uint256 minDuration, uint256 maxDuration) {
        return (_state.minJobDuration, _state.maxJobDuration);
    }

    /// @inheritdoc IJobCoordinator
    function collateralPerUsd() external view returns (uint256) {
        return _state.collateralPerUsd;
    }

    /// @inheritdoc IJobCoordinator
    function lateSlashBps() external view returns (uint256) {
        return _state.lateSlashBps;
    }

    /// @inheritdoc IJobCoordinator
    function disputeModule() external view returns (address) {
        return _disputeModule;
    }

    // ---------------------------------------------------------------- request internals

    function _checkRequest(bytes32 modelId, uint256 maxUnits, uint256 deadline, address provider) private view {
        require(maxUnits != 0, ZeroAmount());
        require(maxUnits <= type(uint32).max, ParameterOutOfBounds("maxUnits", maxUnits, 1, type(uint32).max));
        // Time: a deadline must lie between minJobDuration and maxJobDuration from now.
        // solhint-disable not-rely-on-time
        uint256 earliest = block.timestamp + _state.minJobDuration;
        uint256 latest = block.timestamp + _state.maxJobDuration;
        // solhint-enable not-rely-on-time
        require(deadline >= earliest && deadline <= latest, InvalidDeadline(deadline, earliest, latest));
        if (provider == address(0)) {
            require(_MODELS.isActive(modelId), ModelMismatch(modelId, bytes32(0)));
        } else {
            // A direct request fails fast; the provider's eligibility is checked again when it accepts.
            require(_PROVIDERS.eligiblePrice(provider, modelId) != 0, ProviderNotEligible(0, provider));
        }
    }

    function _emitRequested(
        uint256 jobId,
        bytes32 modelId,
        uint256 classId,
        Job storage job,
        bytes calldata inputRef,
        uint256 escrow
    ) private {
        RequestTerms memory t = RequestTerms({
            provider: job.provider,
            kind: job.kind,
            classId: classId,
            inputHash: job.inputHash,
            maxUnits: job.maxUnits,
            escrow: escrow,
            deadline: job.deadline
        });
        emit JobRequested(jobId, msg.sender, modelId, t, inputRef);
    }

    /// @dev Takes the job's full maximum cost from the caller into escrow and records its terms.
    function _takeEscrow(
        Job storage job,
        bytes32 modelId,
        uint256 maxUnits,
        Payment calldata payment
    ) private returns (uint256 escrow) {
        if (payment.kind == PaymentKind.Voucher) {
            (bytes32 classModel, , uint256 vouchers) = _MARKET.escrowForJob(msg.sender, payment.classId, maxUnits);
            require(classModel == modelId, ModelMismatch(modelId, classModel));
            job.termsId = _termsFor(modelId, payment.classId);
            return vouchers;
        }
        require(payment.classId == 0, InvalidPayment());
        uint256 cap = payment.maxPricePerUnit;
        require(cap != 0 && cap <= type(uint96).max, InvalidPayment());
        escrow = maxUnits * cap;
        job.termsId = _termsFor(modelId, 0);
        job.escrowUsd = escrow.toUint128();
        job.pricePerUnit = uint96(cap);
        if (payment.kind == PaymentKind.DailyCredit) {
            // Time: a DailyCredit job spends today's allowance and today's subsidy budget (one UTC day = one epoch).
            // solhint-disable-next-line not-rely-on-time
            job.fundedDay = uint32(block.timestamp / 1 days);
            _DAILY.spend(msg.sender, escrow);
            // Reserve the subsidy now: the provider is paid from it whatever the budget holds later.
            _ENGINE.mintSubsidisedCredits(address(this), escrow);
        } else {
            IERC20(address(_CREDIT)).safeTransferFrom(msg.sender, address(this), escrow);
        }
    }

    // ---------------------------------------------------------------- settlement internals

    function _newSettlement(uint256 jobs) private pure returns (Settlement memory s) {
        s.providers = new ProviderTally[](jobs);
        s.vouchers = new VoucherTally[](jobs);
    }

    /// @dev Ends one submitted (or challenged and upheld-as-valid) job: status, refund to the requester now; the
    ///      provider's pay, collateral and work go into `s` for `_flush`.
    function _settle(uint256 jobId, Job storage job, Settlement memory s) private {
        job.status = JobStatus.Finalized;
        address provider = job.provider;
        address requester = job.requester;
        uint256 unitsUsed = job.unitsUsed;
        ProviderTally memory tally = _providerTally(s, provider);
        tally.jobs += 1;
        tally.collateral += job.collateral;

        uint256 paid;
        uint256 refunded;
        PaymentKind kind = job.kind;
        if (kind == PaymentKind.Voucher) {
            Terms storage terms = _terms[job.termsId];
            uint256 unitsPerVoucher = terms.unitsPerVoucher;
            uint256 classId = terms.classId;
            // Whole vouchers: a partly used voucher is spent (the provider did that work).
            paid = Math.ceilDiv(unitsUsed, unitsPerVoucher);
            refunded = Math.ceilDiv(job.maxUnits, unitsPerVoucher) - paid;
            if (paid != 0) _voucherTally(s, provider, classId).vouchers += paid;
            if (refunded != 0) _MARKET.returnEscrow(requester, classId, refunded);
        } else {
            paid = unitsUsed * job.pricePerUnit;
            refunded = job.escrowUsd - paid;
            tally.credit += paid;
            if (kind == PaymentKind.DailyCredit) {
                tally.subsidisedUsd += paid;
                if (refunded != 0) _returnSubsidy(job, requester, refunded);
            } else {
                tally.organicUsd += paid;
                if (refunded != 0) IERC20(address(_CREDIT)).safeTransfer(requester, refunded);
            }
        }
        emit JobFinalized(jobId, provider, paid, refunded);
    }

    /// @dev Pays out a settlement: voucher redemptions (whose USD value counts as the provider's organic work),
    ///      then per provider: collateral released, credit paid, work recorded.
    function _flush(Settlement memory s) private {
        for (uint256 i = 0; i < s.voucherCount; ++i) {
            VoucherTally memory v = s.vouchers[i];
            uint256 usd = _MARKET.redeem(address(this), v.classId, v.vouchers, v.provider);
            _providerTally(s, v.provider).organicUsd += usd;
        }
        for (uint256 i = 0; i < s.providerCount; ++i) {
            ProviderTally memory p = s.providers[i];
            _PROVIDERS.releaseCollateral(p.provider, p.collateral, p.jobs);
            if (p.credit != 0) IERC20(address(_CREDIT)).safeTransfer(p.provider, p.credit);
            if (p.organicUsd != 0) _ENGINE.recordWork(p.provider, p.organicUsd, false);
            if (p.subsidisedUsd != 0) _ENGINE.recordWork(p.provider, p.subsidisedUsd, true);
        }
    }

    function _providerTally(Settlement memory s, address provider) private pure returns (ProviderTally memory t) {
        for (uint256 i = 0; i < s.providerCount; ++i) {
            if (s.providers[i].provider == provider) return s.providers[i];
        }
        t = s.providers[s.providerCount++];
        t.provider = provider;
    }

    function _voucherTally(
        Settlement memory s,
        address provider,
        uint256 classId
    ) private pure returns (VoucherTally memory t) {
        for (uint256 i = 0; i < s.voucherCount; ++i) {
            t = s.vouchers[i];
            if (t.provider == provider && t.classId == classId) return t;
        }
        t = s.vouchers[s.voucherCount++];
        t.provider = provider;
        t.classId = classId;
    }

    /// @dev Returns a job's whole escrow to its requester (cancel, expiry, upheld challenge).
    function _refundAll(Job storage job) private returns (uint256 refunded) {
        address requester = job.requester;
        if (job.kind == PaymentKind.Voucher) {
            Terms storage terms = _terms[job.termsId];
            refunded = Math.ceilDiv(job.maxUnits, terms.unitsPerVoucher);
            _MARKET.returnEscrow(requester, terms.classId, refunded);
        } else {
            refunded = job.escrowUsd;
            if (job.kind == PaymentKind.DailyCredit) _returnSubsidy(job, requester, refunded);
            else IERC20(address(_CREDIT)).safeTransfer(requester, refunded);
        }
    }

    /// @dev Burns unused subsidised credit back into its epoch's budget and restores the allowance (same day only).
    function _returnSubsidy(Job storage job, address requester, uint256 usd) private {
        uint256 day = job.fundedDay;
        _ENGINE.returnSubsidisedCredits(day, usd);
        _DAILY.refund(requester, day, usd);
    }

    // ---------------------------------------------------------------- other internals

    function _existing(uint256 jobId) private view returns (Job storage job) {
        job = _jobs[jobId];
        require(job.status != JobStatus.None, UnknownJob(jobId));
    }

    function _requireStatus(uint256 jobId, Job storage job, JobStatus expected) private view {
        JobStatus status = job.status;
        require(status == expected, InvalidJobStatus(jobId, status));
    }

    /// @dev The id of (model, class) in the terms table, adding it on first use (reading the class's USD value per
    ///      voucher once: class terms are immutable).
    function _termsFor(bytes32 modelId, uint256 classId) private returns (uint16 id) {
        bytes32 key = keccak256(abi.encode(modelId, classId));
        id = _termsIds[key];
        if (id != 0) return id;
        require(_termsCount < type(uint16).max, TermsTableFull());
        uint256 unitsPerVoucher;
        uint256 usdPerVoucher;
        if (classId != 0) {
            IVoucherMarket.VoucherClass memory c = _MARKET.getClass(classId);
            unitsPerVoucher = c.unitsPerVoucher;
            usdPerVoucher = c.unitPrice * 10 ** (18 - IERC20Metadata(address(c.stablecoin)).decimals());
        }
        id = ++_termsCount;
        _termsIds[key] = id;
        _terms[id] = Terms(modelId, classId.toUint64(), unitsPerVoucher.toUint96(), usdPerVoucher.toUint96());
    }

    function _resultDigest(
        uint256 jobId,
        bytes32 modelId,
        bytes32 inputHash,
        bytes32 outputHash,
        uint256 unitsUsed
    ) private view returns (bytes32) {
        return
            _hashTypedDataV4(
                keccak256(abi.encode(RESULT_TYPEHASH, jobId, modelId, inputHash, outputHash, unitsUsed))
            );
    }

    function _setChallengeWindow(uint256 window) private {
        require(
            window >= _MIN_WINDOW && window <= _MAX_WINDOW,
            ParameterOutOfBounds("challengeWindow", window, _MIN_WINDOW, _MAX_WINDOW)
        );
        address dispute = _disputeModule;
        if (dispute != address(0)) {
            uint256 unbonding = _PROVIDERS.unbondingPeriod();
            uint256 total = window + IDisputeModule(dispute).disputeTimeout();
            require(total <= unbonding, ParameterOutOfBounds("slashableWindow", total, 0, unbonding));
        }
        emit ParameterUpdated("challengeWindow", _state.challengeWindow, window);
        _state.challengeWindow = uint32(window);
    }

    function _setJobDurationBounds(uint256 minDuration, uint256 maxDuration) private {
        require(
            minDuration >= _MIN_WINDOW && minDuration <= maxDuration,
            ParameterOutOfBounds("minJobDuration", minDuration, _MIN_WINDOW, maxDuration)
        );
        require(
            maxDuration <= _MAX_JOB_DURATION,
            ParameterOutOfBounds("maxJobDuration", maxDuration, minDuration, _MAX_JOB_DURATION)
        );
        emit ParameterUpdated("minJobDuration", _state.minJobDuration, minDuration);
        emit ParameterUpdated("maxJobDuration", _state.maxJobDuration, maxDuration);
        _state.minJobDuration = uint32(minDuration);
        _state.maxJobDuration = uint32(maxDuration);
    }

    function _setCollateralPerUsd(uint256 value) private {
        require(
            value != 0 && value <= _MAX_COLLATERAL_PER_USD,
            ParameterOutOfBounds("collateralPerUsd", value, 1, _MAX_COLLATERAL_PER_USD)
        );
        emit ParameterUpdated("collateralPerUsd", _state.collateralPerUsd, value);
        _state.collateralPerUsd = uint80(value);
    }

    function _setLateSlashBps(uint256 bps) private {
        require(bps <= _BPS, ParameterOutOfBounds("lateSlashBps", bps, 0, _BPS));
        emit ParameterUpdated("lateSlashBps", _state.lateSlashBps, bps);
        _state.lateSlashBps = uint16(bps);
    }
}

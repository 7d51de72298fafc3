// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {ICinderErrors} from "./ICinderErrors.sol";
import {ISlashingWindow} from "./ISlashingWindow.sol";

/// @title IJobCoordinator
/// @notice The job lifecycle: a requester escrows the full maximum cost of an inference job (voucher units,
///         DailyCredit allowance or ComputeCredit), a provider accepts it with collateral from its bond, submits
///         an EIP-712-attested result before the deadline, and after the challenge window the job settles:
///         the provider is paid for the units used, the rest is refunded, the collateral released and the work
///         recorded with the BurnMintEngine. Prompts never appear on-chain in plaintext: `inputRef` is opaque
///         (a ciphertext or URI) and the provider attests to `inputHash`.
/// @dev Status machine:
///      Requested ─accept→ Accepted ─submit→ Submitted ─(window)→ Finalized
///      Requested ─cancel (requester)→ Cancelled;  Requested|Accepted ─(deadline)→ Expired
///      Submitted ─challenge→ Challenged ─valid/timeout→ Finalized | ─fault→ Faulted
///      Every terminal status is reached once; value leaves escrow only on that transition, so a job pays out at
///      most once and escrow = payout + refund for every job.
interface IJobCoordinator is ICinderErrors, ISlashingWindow {
    /// @notice How a job is paid.
    enum PaymentKind {
        Voucher, // VoucherMarket units of a class (stablecoin principal, organic revenue)
        DailyCredit, // the requester's DailyCredit allowance; the provider is paid in subsidised ComputeCredit
        ComputeCredit // ComputeCredit bought by burning tokens (organic)
    }

    /// @notice A job's lifecycle status.
    enum JobStatus {
        None,
        Requested,
        Accepted,
        Submitted,
        Challenged,
        Finalized,
        Cancelled,
        Expired,
        Faulted
    }

    /// @notice The payment chosen by a requester. `classId` for vouchers; `maxPricePerUnit` (USD, 18 decimals)
    ///         for the two credit kinds, which escrow `maxUnits × maxPricePerUnit`.
    struct Payment {
        PaymentKind kind;
        uint256 classId;
        uint256 maxPricePerUnit;
    }

    /// @notice A job's full state, as returned by {getJob}.
    struct JobView {
        JobStatus status;
        PaymentKind kind;
        address requester;
        address provider; // the named provider of a direct request before acceptance, else the acceptor
        bytes32 modelId;
        bytes32 inputHash;
        bytes32 outputHash;
        uint256 classId; // voucher class (0 for credit payments)
        uint256 maxUnits;
        uint256 unitsUsed;
        uint256 deadline;
        uint256 challengeEnds; // 0 until a result is submitted
        uint256 escrow; // vouchers (voucher jobs) or USD (credit jobs) escrowed at request; held only while open
        uint256 pricePerUnit; // credit jobs: requester's cap until acceptance, then the provider's price
        uint256 collateral; // provider bond locked for the job
        uint256 fundedDay; // DailyCredit jobs: the UTC day the allowance was spent
    }

    /// @notice Why `finalizeBatch` skipped a job.
    enum SkipReason {
        NotSubmitted, // no result yet, or already settled, cancelled, expired or faulted
        WindowOpen, // challenge window still running
        Challenged // under dispute: settles through the DisputeModule
    }

    /// @notice Thrown when an input or output hash is zero.
    error EmptyHash();
    /// @notice Thrown by `requestJob` for a payment that does not fit its kind: a voucher class on a credit
    ///         payment, or a zero (or above 2^96 − 1) price cap.
    error InvalidPayment();
    /// @notice Thrown for a job id that does not exist.
    error UnknownJob(uint256 jobId);
    /// @notice Thrown when a job is not in the status the call needs.
    error InvalidJobStatus(uint256 jobId, JobStatus status);
    /// @notice Thrown by `requestJob` for a deadline outside [now + minJobDuration, now + maxJobDuration].
    error InvalidDeadline(uint256 deadline, uint256 earliest, uint256 latest);
    /// @notice Thrown by `requestJob` for a model that is not active, or a voucher class of another model.
    error ModelMismatch(bytes32 modelId, bytes32 expected);
    /// @notice Thrown when an input reference exceeds `MAX_INPUT_REF`.
    error InputRefTooLong(uint256 length, uint256 max);
    /// @notice Thrown when a provider cannot take the job (not eligible for the model, or not the named one).
    error ProviderNotEligible(uint256 jobId, address provider);
    /// @notice Thrown by `acceptJob` when the provider's price exceeds the requester's cap.
    error PriceAboveCap(uint256 price, uint256 cap);
    /// @notice Thrown when the caller is not the job's requester (cancel) or provider (submit).
    error NotJobParty(uint256 jobId, address caller);
    /// @notice Thrown by `submitResult` at or after the deadline.
    error DeadlinePassed(uint256 jobId, uint256 deadline);
    /// @notice Thrown by `expire` before the deadline.
    error DeadlineNotReached(uint256 jobId, uint256 deadline);
    /// @notice Thrown by `submitResult` when more units are claimed than the job allows.
    error UnitsExceedMax(uint256 unitsUsed, uint256 maxUnits);
    /// @notice Thrown by `submitResult` when the signature is not the provider's attestation signer's.
    error InvalidAttestation(uint256 jobId, address recovered, address signer);
    /// @notice Thrown by `finalize` before the challenge window ends.
    error ChallengeWindowOpen(uint256 jobId, uint256 challengeEnds);
    /// @notice Thrown by `markChallenged` after the challenge window ends.
    error ChallengeWindowClosed(uint256 jobId, uint256 challengeEnds);
    /// @notice Thrown when the table of (model, voucher class) terms is full.
    error TermsTableFull();
    /// @notice Thrown by `setDisputeModule` while the current module still has open disputes.
    error DisputesStillOpen(uint256 openDisputes);
    /// @notice Thrown by `finalizeBatch` for an empty or oversized batch.
    error InvalidBatchSize(uint256 size, uint256 max);

    /// @notice What a request asks for, as logged by {JobRequested}. `provider` is zero for an open request;
    ///         `escrow` is in vouchers for a voucher job, in USD (18 decimals) for a credit job.
    struct RequestTerms {
        address provider;
        PaymentKind kind;
        uint256 classId;
        bytes32 inputHash;
        uint256 maxUnits;
        uint256 escrow;
        uint256 deadline;
    }

    /// @notice Emitted when a job is requested, with everything a provider needs to decide and to fetch the input.
    event JobRequested(
        uint256 indexed jobId,
        address indexed requester,
        bytes32 indexed modelId,
        RequestTerms terms,
        bytes inputRef
    );
    /// @notice Emitted when a provider accepts a job at `pricePerUnit` (0 for voucher jobs).
    event JobAccepted(uint256 indexed jobId, address indexed provider, uint256 collateral, uint256 pricePerUnit);
    /// @notice Emitted when a provider submits an attested result.
    event ResultSubmitted(
        uint256 indexed jobId,
        address indexed provider,
        bytes32 outputHash,
        uint256 unitsUsed,
        uint256 challengeEnds
    );
    /// @notice Emitted when a job settles: `paid` to the provider and `refunded` to the requester, in the job's
    ///         escrow unit (vouchers or USD).
    event JobFinalized(uint256 indexed jobId, address indexed provider, uint256 paid, uint256 refunded);
    /// @notice Emitted when the requester cancels an unaccepted job.
    event JobCancelled(uint256 indexed jobId, uint256 refunded);
    /// @notice Emitted when a job expires; `slashed` tokens of the provider's bond are burned.
    event JobExpired(uint256 indexed jobId, address indexed provider, uint256 refunded, uint256 slashed);
    /// @notice Emitted when the DisputeModule opens a challenge on a job.
    event JobChallenged(uint256 indexed jobId, address indexed provider);
    /// @notice Emitted when a challenge is upheld: the requester is refunded in full.
    event JobFaulted(uint256 indexed jobId, address indexed provider, uint256 refunded);
    /// @notice Emitted by `finalizeBatch` for each job it skipped.
    event JobSkipped(uint256 indexed jobId, SkipReason reason);
    /// @notice Emitted when a numeric parameter changes.
    event ParameterUpdated(bytes32 indexed parameter, uint256 previous, uint256 current);
    /// @notice Emitted when the DisputeModule changes.
    event DisputeModuleUpdated(address previous, address current);

    /// @notice Requests a job and escrows its full maximum cost from the caller.
    /// @param modelId An active model of the ModelRegistry.
    /// @param inputHash Hash of the plaintext input, which the provider attests to.
    /// @param inputRef Opaque reference to the input (ciphertext or URI), at most `MAX_INPUT_REF` bytes.
    /// @param maxUnits Most model units the job may use (≤ 2^32 − 1).
    /// @param payment Voucher class, or credit kind with the highest USD price per unit accepted.
    /// @param deadline Result deadline (unix seconds), within [now + minJobDuration, now + maxJobDuration].
    /// @param provider Named provider (a direct request, checked eligible now), or zero for any provider.
    /// @dev Vouchers need `setApprovalForAll(coordinator)` on the VoucherMarket; ComputeCredit an ERC-20
    ///      allowance. Reverts with {EmptyHash}, {ZeroAmount}, {ParameterOutOfBounds}, {InvalidPayment},
    ///      {InvalidDeadline}, {InputRefTooLong}, {ModelMismatch}, {ProviderNotEligible}, {TermsTableFull}, the
    ///      payment module's error, or `EnforcedPause`.
    function requestJob(
        bytes32 modelId,
        bytes32 inputHash,
        bytes calldata inputRef,
        uint256 maxUnits,
        Payment calldata payment,
        uint256 deadline,
        address provider
    ) external returns (uint256 jobId);

    /// @notice Accepts a requested job as the caller: an eligible provider (active, not jailed, offering the model,
    ///         named by a direct request) locks `value × collateralPerUsd` of its free bond, `value` being the
    ///         escrowed vouchers' USD value (voucher jobs) or `maxUnits ×` its price, at most the requester's cap
    ///         (credit jobs).
    /// @dev Reverts with {UnknownJob}, {InvalidJobStatus}, {DeadlinePassed}, {ProviderNotEligible},
    ///      {PriceAboveCap}, `InsufficientFreeBond` or `EnforcedPause`.
    function acceptJob(uint256 jobId) external;

    /// @notice Submits the result of an accepted job, attested by the provider's signer: an EIP-712 `Result`
    ///         (jobId, modelId, inputHash, outputHash, unitsUsed) under this contract's domain (chain id and
    ///         address bind it). Opens the challenge window. Never paused (a pause must not make providers late).
    /// @dev Reverts with {UnknownJob}, {InvalidJobStatus}, {NotJobParty}, {DeadlinePassed}, {EmptyHash},
    ///      {UnitsExceedMax} or {InvalidAttestation}.
    function submitResult(uint256 jobId, bytes32 outputHash, uint256 unitsUsed, bytes calldata signature) external;

    /// @notice Settles a job whose challenge window has passed without a challenge. Anyone may call; never paused.
    /// @dev Reverts with {UnknownJob}, {InvalidJobStatus} (not submitted: already settled, or challenged) or
    ///      {ChallengeWindowOpen}.
    function finalize(uint256 jobId) external;

    /// @notice Settles every ready job of `jobIds` and skips (emitting {JobSkipped}) the others; never reverts for
    ///         a job that is not ready. Returns how many settled and the ids skipped.
    /// @dev Reverts with {InvalidBatchSize} for 0 or more than `MAX_BATCH` ids.
    function finalizeBatch(uint256[] calldata jobIds) external returns (uint256 settled, uint256[] memory skipped);

    /// @notice Ends a job whose deadline passed without a result: full refund; an accepted job's provider loses
    ///         `lateSlashBps` of the job's collateral (burned). Anyone may call; never paused.
    /// @dev Reverts with {UnknownJob}, {InvalidJobStatus} or {DeadlineNotReached}.
    function expire(uint256 jobId) external;

    /// @notice Cancels the caller's job before any provider accepts it: full refund.
    /// @dev Reverts with {UnknownJob}, {InvalidJobStatus} or {NotJobParty}.
    function cancel(uint256 jobId) external;

    /// @notice Marks a submitted job as challenged (blocks `finalize`) and returns its provider.
    /// @dev Only DISPUTE_ROLE. Reverts with {UnknownJob}, {InvalidJobStatus} or {ChallengeWindowClosed}.
    function markChallenged(uint256 jobId) external returns (address provider);

    /// @notice Ends a challenged job: `resultValid` pays it like `finalize`; otherwise the requester is refunded
    ///         in full and the collateral released (the DisputeModule slashes and jails).
    /// @dev Only DISPUTE_ROLE. Reverts with {UnknownJob} or {InvalidJobStatus}.
    function resolveChallenge(uint256 jobId, bool resultValid) external;

    /// @notice Sets the challenge window. Only DEFAULT_ADMIN_ROLE; bounds [1 minute, 7 days], and with the
    ///         dispute timeout never longer than the providers' unbonding period.
    function setChallengeWindow(uint256 window) external;

    /// @notice Sets the bounds of a job's deadline. Only DEFAULT_ADMIN_ROLE; 1 minute ≤ min ≤ max ≤ 30 days.
    function setJobDurationBounds(uint256 minDuration, uint256 maxDuration) external;

    /// @notice Sets the bond tokens locked per USD of job value (18 decimals). Only DEFAULT_ADMIN_ROLE;
    ///         bounds (0, 1e24].
    function setCollateralPerUsd(uint256 collateralPerUsd) external;

    /// @notice Sets the share of a late job's collateral that is burned. Only DEFAULT_ADMIN_ROLE; ≤ 10 000 bps.
    function setLateSlashBps(uint256 bps) external;

    /// @notice Sets the DisputeModule (granted DISPUTE_ROLE, the previous one revoked). Only DEFAULT_ADMIN_ROLE.
    /// @dev Reverts with {ZeroAddress}, {ParameterOutOfBounds} (challenge window + the module's timeout longer
    ///      than the providers' unbonding period) or {DisputesStillOpen} (the previous module has unresolved
    ///      disputes: only it can end them; let them resolve first).
    function setDisputeModule(address disputeModule) external;

    /// @notice A job's full state. Reverts with {UnknownJob}.
    function getJob(uint256 jobId) external view returns (JobView memory);

    /// @notice Number of jobs requested (ids run from 1).
    function jobCount() external view returns (uint256);

    /// @notice The EIP-712 digest a provider's signer signs for a result.
    function resultDigest(
        uint256 jobId,
        bytes32 modelId,
        bytes32 inputHash,
        bytes32 outputHash,
        uint256 unitsUsed
    ) external view returns (bytes32);

    /// @notice Seconds after submission during which a result can be challenged.
    function challengeWindow() external view returns (uint256);

    /// @notice Bounds of a job's deadline, in seconds from the request.
    function jobDurationBounds() external view returns (uint256 minDuration, uint256 maxDuration);

    /// @notice Bond tokens locked per USD of job value.
    function collateralPerUsd() external view returns (uint256);

    /// @notice Share of a late job's collateral burned, in bps.
    function lateSlashBps() external view returns (uint256);

    /// @notice The DisputeModule.
    function disputeModule() external view returns (address);
}

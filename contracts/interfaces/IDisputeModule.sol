// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {ICinderErrors} from "./ICinderErrors.sol";
import {IJobCoordinator} from "./IJobCoordinator.sol";
import {IProviderRegistry} from "./IProviderRegistry.sol";
import {IResultVerifier} from "./IResultVerifier.sol";

/// @title IDisputeModule
/// @notice Challenges of submitted results. During a job's challenge window anyone may challenge it by posting
///         `challengeBond` protocol tokens. A pluggable {IResultVerifier} decides:
///         - Fault: `faultSlashBps` of the provider's bond is slashed, `finderFeeBps` of it to the challenger and
///           the rest burned; the requester is refunded in full; the provider is jailed; the bond is returned.
///         - Valid: the challenger's bond goes to the provider, which is paid for the job.
///         - No verdict by `disputeTimeout`: the provider is paid and the challenger's bond returned.
interface IDisputeModule is ICinderErrors {
    /// @notice How a dispute ended.
    enum Outcome {
        None,
        Open,
        Upheld, // fault
        Rejected, // result valid
        TimedOut
    }

    /// @notice One dispute.
    struct Dispute {
        address challenger;
        uint64 openedAt;
        Outcome outcome;
        address provider;
        uint64 timeoutAt; // openedAt + the dispute timeout in force when the challenge was opened
        uint256 bond;
    }

    /// @notice Thrown by `resolve` while the verifier has no verdict and the timeout has not passed.
    error NotResolvable(uint256 jobId, uint256 timeoutAt);
    /// @notice Thrown when a job has no open dispute.
    error NoOpenDispute(uint256 jobId);
    /// @notice Thrown when a provider challenges its own result (it would shut out honest challengers and collect
    ///         the finder fee on its own slash).
    error SelfChallenge(uint256 jobId);

    /// @notice Emitted when a job is challenged.
    event Challenged(uint256 indexed jobId, address indexed challenger, address indexed provider, uint256 bond);
    /// @notice Emitted when a dispute is resolved; `slashed` is the provider's total loss, `finderFee` the part
    ///         paid to the challenger.
    event DisputeResolved(uint256 indexed jobId, Outcome outcome, uint256 slashed, uint256 finderFee);
    /// @notice Emitted when a numeric parameter changes.
    event ParameterUpdated(bytes32 indexed parameter, uint256 previous, uint256 current);
    /// @notice Emitted when the verifier changes.
    event VerifierUpdated(address previous, address current);

    /// @notice Challenges `jobId`'s result, pulling `challengeBond` tokens from the caller (allowance required).
    ///         Never paused.
    /// @dev Reverts with {SelfChallenge} (the job's provider), the coordinator's `InvalidJobStatus` /
    ///      `ChallengeWindowClosed` / `UnknownJob`, or the token's error.
    function challenge(uint256 jobId) external;

    /// @notice Resolves `jobId`'s dispute from the verifier's verdict, or by timeout. Anyone may call; never paused.
    /// @dev Reverts with {NoOpenDispute} or {NotResolvable}.
    function resolve(uint256 jobId) external returns (Outcome outcome);

    /// @notice Sets the challenger bond. Only DEFAULT_ADMIN_ROLE; bounds (0, 1e27].
    function setChallengeBond(uint256 bond) external;

    /// @notice Sets the dispute timeout for disputes opened from now on. Only DEFAULT_ADMIN_ROLE; bounds
    ///         [1 hour, 30 days], and with the challenge window never longer than the providers' unbonding period.
    function setDisputeTimeout(uint256 timeout) external;

    /// @notice Sets the slash for a fault and the challenger's share of it. Only DEFAULT_ADMIN_ROLE; ≤ 10 000 bps.
    function setSlashing(uint256 faultSlashBps, uint256 finderFeeBps) external;

    /// @notice Sets how long a faulty provider is jailed. Only DEFAULT_ADMIN_ROLE; bounds [1 day, 365 days].
    function setJailDuration(uint256 duration) external;

    /// @notice Replaces the verifier (open disputes are decided by the new one). Only DEFAULT_ADMIN_ROLE.
    function setVerifier(IResultVerifier verifier) external;

    /// @notice The dispute on `jobId` (zeroed when none).
    function getDispute(uint256 jobId) external view returns (Dispute memory);

    /// @notice Number of disputes opened and not yet resolved.
    function openDisputes() external view returns (uint256);

    /// @notice Whether `jobId` has an open dispute.
    function isOpen(uint256 jobId) external view returns (bool);

    /// @notice Challenger bond, in protocol tokens.
    function challengeBond() external view returns (uint256);

    /// @notice Seconds after a challenge at which an undecided dispute resolves for the provider.
    function disputeTimeout() external view returns (uint256);

    /// @notice Share of the provider's bond slashed for a fault, in bps.
    function faultSlashBps() external view returns (uint256);

    /// @notice Share of the slash paid to the challenger, in bps.
    function finderFeeBps() external view returns (uint256);

    /// @notice Jail time after a fault.
    function jailDuration() external view returns (uint256);

    /// @notice The verifier.
    function verifier() external view returns (IResultVerifier);

    /// @notice The JobCoordinator.
    function coordinator() external view returns (IJobCoordinator);

    /// @notice The ProviderRegistry.
    function providers() external view returns (IProviderRegistry);
}

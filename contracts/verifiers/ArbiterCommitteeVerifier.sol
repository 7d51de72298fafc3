// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {AccessControlEnumerable} from "@openzeppelin/contracts/access/extensions/AccessControlEnumerable.sol";
import {ICinderErrors} from "../interfaces/ICinderErrors.sol";
import {IJobCoordinator} from "../interfaces/IJobCoordinator.sol";
import {IResultVerifier} from "../interfaces/IResultVerifier.sol";

/// @title ArbiterCommitteeVerifier
/// @notice An M-of-N committee: arbiters (ARBITER_ROLE, appointed by the timelock) re-execute a challenged job
///         (greedy decoding is deterministic, so the output hash is reproducible) and vote. The first side to reach
///         `threshold` votes decides; until then the verdict is Pending and the dispute may time out.
/// @dev Votes are accepted only while the job is under challenge at the coordinator; one vote per arbiter per job
///      (a job can be challenged at most once). Removing an arbiter does not erase a vote it
///      already cast.
contract ArbiterCommitteeVerifier is IResultVerifier, AccessControlEnumerable, ICinderErrors {
    /// @notice Role of committee members.
    bytes32 public constant ARBITER_ROLE = keccak256("ARBITER_ROLE");

    /// @notice Thrown when an arbiter votes twice on a job.
    error AlreadyVoted(uint256 jobId, address arbiter);
    /// @notice Thrown when voting on a job without an open dispute.
    error DisputeNotOpen(uint256 jobId);
    /// @notice Thrown when voting on a job whose verdict is already reached: the first side to the threshold
    ///         decides, and later votes cannot overturn it before `resolve` runs.
    error VerdictReached(uint256 jobId, Verdict verdict);

    /// @notice Emitted for each vote.
    event Voted(
        uint256 indexed jobId,
        address indexed arbiter,
        bool fault,
        uint256 faultVotes,
        uint256 validVotes
    );
    /// @notice Emitted when the threshold changes.
    event ThresholdUpdated(uint256 previous, uint256 current);

    IJobCoordinator private immutable _COORDINATOR;
    uint256 private _threshold;

    struct Tally {
        uint128 faultVotes;
        uint128 validVotes;
    }

    mapping(uint256 jobId => Tally) private _tallies;
    mapping(uint256 jobId => mapping(address arbiter => bool)) private _voted;

    /// @param coordinator_ The JobCoordinator whose challenged jobs this committee decides.
    /// @param admin DEFAULT_ADMIN_ROLE holder (the timelock), who appoints arbiters.
    /// @param threshold_ Votes needed for a verdict (M), > 0.
    constructor(IJobCoordinator coordinator_, address admin, uint256 threshold_) {
        require(address(coordinator_) != address(0) && admin != address(0), ZeroAddress());
        _COORDINATOR = coordinator_;
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _setThreshold(threshold_);
    }

    /// @notice Votes on `jobId`'s challenged result: `fault` true when the re-execution disagrees with it.
    /// @dev Only ARBITER_ROLE. Reverts with {DisputeNotOpen}, {AlreadyVoted} or {VerdictReached}.
    function vote(uint256 jobId, bool fault) external onlyRole(ARBITER_ROLE) {
        require(_COORDINATOR.getJob(jobId).status == IJobCoordinator.JobStatus.Challenged, DisputeNotOpen(jobId));
        require(!_voted[jobId][msg.sender], AlreadyVoted(jobId, msg.sender));
        Verdict reached = verdict(jobId);
        require(reached == Verdict.Pending, VerdictReached(jobId, reached));
        _voted[jobId][msg.sender] = true;
        Tally storage t = _tallies[jobId];
        if (fault) t.faultVotes += 1;
        else t.validVotes += 1;
        emit Voted(jobId, msg.sender, fault, t.faultVotes, t.validVotes);
    }

    /// @notice Sets the votes needed (M). Only DEFAULT_ADMIN_ROLE; bounds [1, 255].
    function setThreshold(uint256 threshold_) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _setThreshold(threshold_);
    }

    /// @inheritdoc IResultVerifier
    function verdict(uint256 jobId) public view returns (Verdict) {
        Tally storage t = _tallies[jobId];
        // Votes stop at the first verdict, so both sides reach the threshold only when governance lowers it
        // mid-dispute; then the fault reading wins (the safer one for the requester).
        if (t.faultVotes >= _threshold) return Verdict.Fault;
        if (t.validVotes >= _threshold) return Verdict.Valid;
        return Verdict.Pending;
    }

    /// @notice Votes on `jobId` so far.
    function tally(uint256 jobId) external view returns (uint256 faultVotes, uint256 validVotes) {
        Tally storage t = _tallies[jobId];
        return (t.faultVotes, t.validVotes);
    }

    /// @notice Whether `arbiter` voted on `jobId`.
    function hasVoted(uint256 jobId, address arbiter) external view returns (bool) {
        return _voted[jobId][arbiter];
    }

    /// @notice Votes needed for a verdict.
    function threshold() external view returns (uint256) {
        return _threshold;
    }

    /// @notice The JobCoordinator.
    function coordinator() external view returns (IJobCoordinator) {
        return _COORDINATOR;
    }

    function _setThreshold(uint256 threshold_) private {
        require(threshold_ != 0 && threshold_ <= 255, ParameterOutOfBounds("threshold", threshold_, 1, 255));
        emit ThresholdUpdated(_threshold, threshold_);
        _threshold = threshold_;
    }
}

// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @title IResultVerifier
/// @notice Decides whether a challenged result is faulty. The DisputeModule asks it for a verdict; how the verdict
///         is reached is the verifier's business: an arbiter committee today (M-of-N votes after re-executing the
///         job, which greedy decoding makes deterministic), a TEE attestation or a zk proof of inference tomorrow.
interface IResultVerifier {
    /// @notice A verdict on one challenged job.
    enum Verdict {
        Pending,
        Valid, // the result stands: the challenge is rejected
        Fault // the result is wrong: the challenge is upheld
    }

    /// @notice The verdict on `jobId`'s challenged result so far.
    function verdict(uint256 jobId) external view returns (Verdict);
}

// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";
import {HandlerStats} from "../../utils/HandlerStats.sol";
import {console} from "../../utils/console.sol";
import {SystemGhost, Deployment} from "./SystemGhost.sol";
import {ProtocolToken} from "../../../../contracts/ProtocolToken.sol";
import {StakingVault} from "../../../../contracts/StakingVault.sol";
import {DailyCredit} from "../../../../contracts/DailyCredit.sol";
import {ComputeCredit} from "../../../../contracts/ComputeCredit.sol";
import {BurnMintEngine} from "../../../../contracts/BurnMintEngine.sol";
import {ProviderRegistry} from "../../../../contracts/ProviderRegistry.sol";
import {VoucherMarket} from "../../../../contracts/VoucherMarket.sol";
import {JobCoordinator} from "../../../../contracts/JobCoordinator.sol";
import {DisputeModule} from "../../../../contracts/DisputeModule.sol";
import {ArbiterCommitteeVerifier} from "../../../../contracts/verifiers/ArbiterCommitteeVerifier.sol";
import {MockStablecoin} from "../../../../contracts/mocks/MockStablecoin.sol";
import {IJobCoordinator} from "../../../../contracts/interfaces/IJobCoordinator.sol";

/// @dev Cheatcodes beyond test/foundry/utils/Vm.sol (same address).
interface VmLogs {
    struct Log {
        bytes32[] topics;
        bytes data;
        address emitter;
    }

    function recordLogs() external;

    function getRecordedLogs() external returns (Log[] memory);

    function toString(bytes calldata value) external pure returns (string memory);
}

/// @dev What one actor asks of another when it needs a job in a given state (not fuzz targets).
interface IRequesterAssist {
    function assistRequest(uint256 seed) external returns (uint256 jobId);
}

interface IProviderAssist {
    function assistAccept(uint256 seed) external returns (uint256 jobId);

    function assistSubmit(uint256 seed, bool faulty) external returns (uint256 jobId);
}

interface IChallengerAssist {
    function assistChallenge(uint256 seed) external returns (uint256 jobId);
}

/// @title ActorBase
/// @notice What every actor handler of the system suite shares: the deployment, the ghost (model and shared
///         clock), HandlerStats' call counters and single-call violations, outcome checking against a predicted
///         error, and settlement booking from the coordinator's terminal events.
/// @dev Every action starts at the ghost's clock (`_beforeAction`). An action predicts its outcome (an error
///      selector, zero for success) from the model, calls as the actor, and `_outcome` turns a success where a
///      revert was due, an unpredicted revert, or the wrong error into a violation. Only successful calls are
///      booked in the ghost.
abstract contract ActorBase is HandlerStats {
    VmLogs internal constant VMX = VmLogs(address(uint160(uint256(keccak256("hevm cheat code")))));
    uint256 internal constant BPS = 10_000;

    SystemGhost public immutable ghost;
    ProtocolToken internal immutable token;
    StakingVault internal immutable vault;
    DailyCredit internal immutable dailyCredit;
    ComputeCredit internal immutable computeCredit;
    BurnMintEngine internal immutable engine;
    ProviderRegistry internal immutable registry;
    VoucherMarket internal immutable market;
    JobCoordinator internal immutable coordinator;
    DisputeModule internal immutable disputes;
    ArbiterCommitteeVerifier internal immutable verifier;
    MockStablecoin internal immutable usdc;
    address internal immutable treasury;
    bytes32 internal immutable modelId;
    uint256 internal immutable class1;
    uint256 internal immutable class2;

    /// @notice Fuzzed calls of this handler in the current run.
    uint256 public totalCalls;

    constructor(SystemGhost ghost_, Deployment memory d) {
        ghost = ghost_;
        token = d.token;
        vault = d.vault;
        dailyCredit = d.dailyCredit;
        computeCredit = d.computeCredit;
        engine = d.engine;
        registry = d.registry;
        market = d.market;
        coordinator = d.coordinator;
        disputes = d.disputes;
        verifier = d.verifier;
        usdc = d.usdc;
        treasury = d.treasury;
        modelId = d.modelId;
        class1 = d.class1;
        class2 = d.class2;
    }

    function _beforeAction() internal override {
        ++totalCalls;
        ghost.sync();
    }

    /// @notice Prints, per action, how often it was called and how often it took effect (visible with -vv).
    function logCallSummary() external view {
        _logStats();
    }

    // ================================================================ outcomes

    /// @dev Calls `target` as `caller`.
    function _call(
        address caller,
        address target,
        bytes memory data
    ) internal returns (bool ok, bytes memory ret) {
        vm.prank(caller);
        (ok, ret) = target.call(data);
    }

    /// @dev Checks a call's outcome against the predicted error (0: success) and counts what happened under
    ///      `name` (or `name (refused)`). Returns whether the call succeeded.
    function _outcome(bool ok, bytes memory ret, bytes4 expected, string memory name) internal returns (bool) {
        if (ok) {
            if (expected != 0) _violation(string.concat(name, ": succeeded where it must revert"));
            _done(name);
            return true;
        }
        if (expected == 0) _violation(string.concat(name, ": unexpected revert ", VMX.toString(ret)));
        else _expectSelector(ret, expected, name);
        _done(string.concat(name, " (refused)"));
        return false;
    }

    /// @dev The pause error when the ghost has `module` paused, else `otherwise`.
    function _unlessPaused(address module, bytes4 otherwise) internal view returns (bytes4) {
        return ghost.paused(module) ? Pausable.EnforcedPause.selector : otherwise;
    }

    function _eq(uint256 actual, uint256 expected, string memory what) internal {
        if (actual != expected) {
            _violation(string.concat(what, ": ", vm.toString(actual), " != model ", vm.toString(expected)));
        }
    }

    /// @dev A choice among `n` from a fuzzed seed, hashed so the fuzzer's favourite edge values (0, max) do not
    ///      all pick the same branch.
    function _mode(uint256 seed, uint256 n) internal pure returns (uint256) {
        return uint256(keccak256(abi.encode(seed))) % n;
    }

    /// @dev The first of `list` from `seed` on (cyclically) that satisfies `ok`, or address(0).
    function _pick(
        address[] memory list,
        uint256 seed,
        function(address) internal view returns (bool) ok
    ) internal view returns (address) {
        uint256 n = list.length;
        for (uint256 i; i < n; ++i) {
            address a = list[_at(seed, i, n)];
            if (ok(a)) return a;
        }
        return address(0);
    }

    /// @dev Index `i` places after `seed` in a cycle of `n` (no overflow for any seed).
    function _at(uint256 seed, uint256 i, uint256 n) internal pure returns (uint256) {
        return ((seed % n) + i) % n;
    }

    function _time() internal view returns (uint256) {
        return ghost.time();
    }

    // ================================================================ settlement

    /// @dev Starts recording the coordinator's events for `_settled`.
    function _startLogs() internal {
        VMX.recordLogs();
        VMX.getRecordedLogs();
    }

    /// @dev Books the terminal reports of the call just made: they must be exactly `ids` ending in `statuses`, in
    ///      order, each paying, refunding (and, for an expiry, slashing) what the ghost's model says.
    function _settled(
        uint256[] memory ids,
        IJobCoordinator.JobStatus[] memory statuses,
        string memory name
    ) internal {
        _settledFrom(VMX.getRecordedLogs(), ids, statuses, name);
    }

    function _settledFrom(
        VmLogs.Log[] memory logs,
        uint256[] memory ids,
        IJobCoordinator.JobStatus[] memory statuses,
        string memory name
    ) internal {
        ghost.beginSettlement();
        uint256 n;
        for (uint256 i; i < logs.length; ++i) {
            VmLogs.Log memory l = logs[i];
            if (l.emitter != address(coordinator)) continue;
            (
                bool terminal,
                IJobCoordinator.JobStatus status,
                uint256 paid,
                uint256 refunded,
                uint256 slashed
            ) = _terminal(l);
            if (!terminal) continue;
            uint256 id = uint256(l.topics[1]);
            if (n >= ids.length || id != ids[n] || status != statuses[n]) {
                _violation(string.concat(name, ": settled another job or status than modelled"));
                return;
            }
            ++n;
            (uint256 mPaid, uint256 mRefunded, uint256 mSlashed) = ghost.bookSettle(id, status);
            string memory what = string.concat(name, ": job ", vm.toString(id));
            _eq(paid, mPaid, string.concat(what, " paid"));
            _eq(refunded, mRefunded, string.concat(what, " refunded"));
            _eq(slashed, mSlashed, string.concat(what, " late slash"));
        }
        if (n != ids.length) _violation(string.concat(name, ": fewer settlements than modelled"));
        ghost.endSettlement();
    }

    function _terminal(
        VmLogs.Log memory l
    )
        internal
        pure
        returns (bool terminal, IJobCoordinator.JobStatus status, uint256 paid, uint256 refunded, uint256 slashed)
    {
        bytes32 topic = l.topics[0];
        terminal = true;
        if (topic == IJobCoordinator.JobFinalized.selector) {
            status = IJobCoordinator.JobStatus.Finalized;
            (paid, refunded) = abi.decode(l.data, (uint256, uint256));
        } else if (topic == IJobCoordinator.JobCancelled.selector) {
            status = IJobCoordinator.JobStatus.Cancelled;
            refunded = abi.decode(l.data, (uint256));
        } else if (topic == IJobCoordinator.JobExpired.selector) {
            status = IJobCoordinator.JobStatus.Expired;
            (refunded, slashed) = abi.decode(l.data, (uint256, uint256));
        } else if (topic == IJobCoordinator.JobFaulted.selector) {
            status = IJobCoordinator.JobStatus.Faulted;
            refunded = abi.decode(l.data, (uint256));
        } else {
            terminal = false;
        }
    }

    function _one(uint256 id) internal pure returns (uint256[] memory ids) {
        ids = new uint256[](1);
        ids[0] = id;
    }

    function _oneStatus(IJobCoordinator.JobStatus s) internal pure returns (IJobCoordinator.JobStatus[] memory a) {
        a = new IJobCoordinator.JobStatus[](1);
        a[0] = s;
    }

    function _print(string memory what, uint256 value) internal view {
        console.log(what, value);
    }
}

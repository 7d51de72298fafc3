// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {TimelockController} from "@openzeppelin/contracts/governance/TimelockController.sol";
import {ActorBase, VmLogs, IProviderAssist, IRequesterAssist, IChallengerAssist} from "./ActorBase.sol";
import {SystemGhost, Deployment} from "./SystemGhost.sol";
import {CinderTimelock} from "../../../../contracts/governance/CinderTimelock.sol";
import {FixedPriceOracle} from "../../../../contracts/oracles/FixedPriceOracle.sol";
import {ArbiterCommitteeVerifier} from "../../../../contracts/verifiers/ArbiterCommitteeVerifier.sol";
import {IJobCoordinator} from "../../../../contracts/interfaces/IJobCoordinator.sol";
import {IDisputeModule} from "../../../../contracts/interfaces/IDisputeModule.sol";
import {IResultVerifier} from "../../../../contracts/interfaces/IResultVerifier.sol";
import {IBurnMintEngine} from "../../../../contracts/interfaces/IBurnMintEngine.sol";

/// @title KeeperActor
/// @notice Time and the protocol's caretakers: time passes (minutes, hours, days, up to a second before or after
///         UTC midnight, or a week and more); anyone finalizes one submitted job or a keeper's batch (unready,
///         challenged, duplicate and unknown ids included), expires late jobs, resolves disputes and distributes
///         finished epochs (again: AlreadyDistributed; the running one: EpochNotFinished); the arbiter votes
///         truthfully (a wrong result is a fault); the guardian pauses a module; governance moves the oracle price
///         or lifts a pause through the timelock (schedule, wait out the delay, execute; too early: refused; the
///         guardian may veto).
/// @dev Settlements are checked against the ghost's model through the coordinator's terminal events, dispute
///      resolutions through DisputeResolved and the bonds, emissions through the vault's reserve and the engine's
///      pool.
contract KeeperActor is ActorBase {
    struct Op {
        bool pending;
        bool isPrice;
        address target;
        bytes data;
        bytes32 salt;
        uint256 readyAt;
        uint256 value; // the new price, for a price change
    }

    address internal immutable _keeper;
    address internal immutable _arbiter;
    address internal immutable _guardian;
    address internal immutable _governor;
    CinderTimelock internal immutable _timelock;
    FixedPriceOracle internal immutable _oracle;
    address[] internal _pausable;

    Op internal _op;
    uint256 internal _salt;

    constructor(SystemGhost ghost_, Deployment memory d) ActorBase(ghost_, d) {
        _keeper = ghost_.actors().keeper;
        _arbiter = ghost_.actors().arbiter;
        _guardian = ghost_.actors().guardian;
        _governor = ghost_.actors().governor;
        _timelock = d.timelock;
        _oracle = d.oracle;
        _pausable.push(address(d.vault));
        _pausable.push(address(d.dailyCredit));
        _pausable.push(address(d.engine));
        _pausable.push(address(d.registry));
        _pausable.push(address(d.market));
        _pausable.push(address(d.coordinator));
    }

    // ================================================================ time

    /// @notice Time passes: minutes, hours, one to three days, to within a minute of the next UTC midnight
    ///         (either side), or (one in ten) three to nine days.
    function warp(uint256 modeSeed, uint256 amountSeed) external action("warp") {
        uint256 mode = _mode(modeSeed, 10);
        uint256 t = _time();
        if (mode < 3) t += bound(amountSeed, 1 minutes, 59 minutes);
        else if (mode < 6) t += bound(amountSeed, 1 hours, 23 hours);
        else if (mode < 8) t += bound(amountSeed, 1 days, 3 days);
        else if (mode == 8) t = (t / 1 days + 1) * 1 days - 60 + bound(amountSeed, 0, 120);
        else t += bound(amountSeed, 3 days, 9 days);
        ghost.advance(t);
        _done("warp");
    }

    // ================================================================ settlement

    /// @notice Anyone finalizes a submitted job (an honest one is made if none is); seven calls in eight first
    ///         wait out its challenge window, the eighth may come too early (ChallengeWindowOpen).
    function finalize(uint256 jobSeed, uint256 waitSeed) external action("finalize") {
        uint256 id = ghost.find(jobSeed, SystemGhost.Q.Submitted);
        if (id == 0) id = IProviderAssist(ghost.providerActor()).assistSubmit(jobSeed, false);
        if (id == 0) {
            _skip();
            return;
        }
        uint256 ends = ghost.job(id).challengeEnds;
        if (_time() < ends && _mode(waitSeed, 8) != 5) ghost.advance(ends + bound(waitSeed >> 8, 0, 1 hours));
        bytes4 expected = _time() < ends ? IJobCoordinator.ChallengeWindowOpen.selector : bytes4(0);
        _startLogs();
        (bool ok, bytes memory ret) = _call(
            _keeper,
            address(coordinator),
            abi.encodeCall(IJobCoordinator.finalize, (id))
        );
        if (!_outcome(ok, ret, expected, "finalize")) return;
        _settled(_one(id), _oneStatus(IJobCoordinator.JobStatus.Finalized), "finalize");
    }

    /// @notice A keeper's batch: every submitted job (up to eight; one is made if none is), a challenged or
    ///         requested one, the first again and an unknown id. Half the calls first wait until all the submitted
    ///         ones are ready, a quarter until some moment before (some ready, some not), a quarter not at all.
    ///         Exactly the ready ones settle, once each; the batch never reverts.
    function finalizeBatch(uint256 seed, uint256 waitSeed) external action("finalizeBatch") {
        if (ghost.count(SystemGhost.Q.Submitted) == 0)
            IProviderAssist(ghost.providerActor()).assistSubmit(seed, false);
        (uint256[] memory ids, uint256 latest) = _keeperBatch(seed);
        if (ids.length == 0) {
            _skip();
            return;
        }
        uint256 wait = _mode(waitSeed, 4);
        if (wait < 2) ghost.advance(latest);
        else if (wait == 2 && latest > _time()) ghost.advance(latest - bound(waitSeed >> 8, 1, latest - _time()));
        uint256[] memory settle = _ready(ids);
        IJobCoordinator.JobStatus[] memory statuses = new IJobCoordinator.JobStatus[](settle.length);
        for (uint256 i; i < settle.length; ++i) statuses[i] = IJobCoordinator.JobStatus.Finalized;
        _startLogs();
        (bool ok, bytes memory ret) = _call(
            _keeper,
            address(coordinator),
            abi.encodeCall(IJobCoordinator.finalizeBatch, (ids))
        );
        if (!_outcome(ok, ret, 0, settle.length == 0 ? "finalizeBatch (nothing ready)" : "finalizeBatch")) return;
        (uint256 settled, ) = abi.decode(ret, (uint256, uint256[]));
        _eq(settled, settle.length, "finalizeBatch: settled count");
        _settled(settle, statuses, "finalizeBatch");
    }

    /// @dev Every submitted job (up to eight), a challenged or requested one, the first again and an unknown id;
    ///      empty when nothing is submitted. Also the latest challenge end among them.
    function _keeperBatch(uint256 seed) internal view returns (uint256[] memory ids, uint256 latest) {
        ids = new uint256[](11);
        uint256 n;
        uint256 jobs = ghost.jobCount();
        for (uint256 id = 1; id <= jobs && n < 8; ++id) {
            if (!ghost.matches(id, SystemGhost.Q.Submitted)) continue;
            ids[n++] = id;
            latest = Math.max(latest, ghost.job(id).challengeEnds);
        }
        if (n != 0) {
            uint256 other = ghost.find(
                seed,
                _mode(seed, 2) == 0 ? SystemGhost.Q.Challenged : SystemGhost.Q.Requested
            );
            if (other != 0) ids[n++] = other;
            ids[n++] = ids[0];
            ids[n++] = jobs + 1;
        }
        assembly ("memory-safe") {
            mstore(ids, n)
        }
    }

    /// @dev The ids a batch settles now: submitted, window over, first occurrence only.
    function _ready(uint256[] memory ids) internal view returns (uint256[] memory settle) {
        settle = new uint256[](ids.length);
        uint256 s;
        for (uint256 i; i < ids.length; ++i) {
            uint256 id = ids[i];
            bool seen;
            for (uint256 j; j < s; ++j) seen = seen || settle[j] == id;
            if (!seen && ghost.matches(id, SystemGhost.Q.Submitted) && _time() >= ghost.job(id).challengeEnds) {
                settle[s++] = id;
            }
        }
        assembly ("memory-safe") {
            mstore(settle, s)
        }
    }

    /// @notice Anyone expires a requested or accepted job (an accepted one is made if none is); seven calls in
    ///         eight first wait for its deadline, the eighth may come early (DeadlineNotReached). An accepted job's
    ///         provider loses lateSlashBps of the job's collateral, burned.
    function expire(uint256 jobSeed, uint256 waitSeed) external action("expire") {
        uint256 id = ghost.find(jobSeed, SystemGhost.Q.Expirable);
        if (id == 0) {
            id =
                _mode(waitSeed, 2) == 0
                    ? IProviderAssist(ghost.providerActor()).assistAccept(jobSeed)
                    : IRequesterAssist(ghost.requesterActor()).assistRequest(jobSeed);
        }
        if (id == 0) {
            _skip();
            return;
        }
        uint256 deadline = ghost.job(id).deadline;
        if (_time() < deadline && _mode(waitSeed >> 8, 8) != 3)
            ghost.advance(deadline + bound(waitSeed >> 16, 0, 30 minutes));
        bytes4 expected = _time() < deadline ? IJobCoordinator.DeadlineNotReached.selector : bytes4(0);
        _startLogs();
        (bool ok, bytes memory ret) = _call(
            _keeper,
            address(coordinator),
            abi.encodeCall(IJobCoordinator.expire, (id))
        );
        if (!_outcome(ok, ret, expected, "expire")) return;
        _settled(_one(id), _oneStatus(IJobCoordinator.JobStatus.Expired), "expire");
    }

    // ================================================================ disputes

    /// @notice The arbiter votes truthfully on a challenged job (a wrong result is a fault). With none challenged
    ///         it votes on another job: DisputeNotOpen.
    function vote(uint256 jobSeed) external action("vote") {
        uint256 id = ghost.find(jobSeed, SystemGhost.Q.UnvotedChallenged);
        if (id != 0) {
            _vote(id, "vote");
            return;
        }
        id = ghost.find(jobSeed, SystemGhost.Q.Ended);
        if (id == 0) {
            _skip();
            return;
        }
        (bool ok, bytes memory ret) = _call(
            _arbiter,
            address(verifier),
            abi.encodeCall(ArbiterCommitteeVerifier.vote, (id, true))
        );
        _outcome(ok, ret, ArbiterCommitteeVerifier.DisputeNotOpen.selector, "vote");
    }

    /// @notice Anyone resolves a dispute (a challenge is opened if none is). While there is no verdict and the
    ///         timeout is ahead: the arbiter votes first (5 in 8), or time passes to the timeout (2 in 8), or the
    ///         call comes too early (NotResolvable).
    function resolve(uint256 jobSeed, uint256 modeSeed) external action("resolve") {
        uint256 id = ghost.find(jobSeed, SystemGhost.Q.Challenged);
        if (id == 0) id = IChallengerAssist(ghost.challengerActor()).assistChallenge(jobSeed);
        if (id == 0) {
            _skip();
            return;
        }
        SystemGhost.JobGhost memory g = ghost.job(id);
        if (!g.voted && _time() < g.disputeTimeout) {
            uint256 mode = _mode(modeSeed, 8);
            if (mode < 5) _vote(id, "vote (before resolve)");
            else if (mode < 7) ghost.advance(g.disputeTimeout + bound(modeSeed >> 8, 0, 2 hours));
        }
        _resolve(id);
    }

    function _resolve(uint256 id) internal {
        SystemGhost.JobGhost memory g = ghost.job(id);
        IDisputeModule.Outcome outcome;
        if (g.voted) outcome = g.faulty ? IDisputeModule.Outcome.Upheld : IDisputeModule.Outcome.Rejected;
        else if (_time() >= g.disputeTimeout) outcome = IDisputeModule.Outcome.TimedOut;
        uint256[2] memory before = [token.balanceOf(g.challenger), token.balanceOf(g.provider)];
        _startLogs();
        (bool ok, bytes memory ret) = _call(
            _keeper,
            address(disputes),
            abi.encodeCall(IDisputeModule.resolve, (id))
        );
        bytes4 expected =
            outcome == IDisputeModule.Outcome.None ? IDisputeModule.NotResolvable.selector : bytes4(0);
        if (!_outcome(ok, ret, expected, "resolve")) return;
        _eq(uint8(abi.decode(ret, (IDisputeModule.Outcome))), uint8(outcome), "resolve: outcome");
        VmLogs.Log[] memory logs = VMX.getRecordedLogs();
        _settledFrom(
            logs,
            _one(id),
            _oneStatus(
                outcome == IDisputeModule.Outcome.Upheld
                    ? IJobCoordinator.JobStatus.Faulted
                    : IJobCoordinator.JobStatus.Finalized
            ),
            "resolve"
        );
        (uint256 slashed, uint256 finderFee) = ghost.bookResolution(id, outcome);
        _checkResolution(logs, g, outcome, slashed, finderFee, before);
    }

    // ================================================================ emissions

    /// @notice Anyone distributes the oldest finished, undistributed epoch; one call in eight an epoch already
    ///         distributed (AlreadyDistributed), one in eight the running epoch (EpochNotFinished).
    function distribute(uint256 modeSeed) external action("distribute") {
        (uint256 e, bytes4 expected) = _epochToDistribute(modeSeed);
        if (e == type(uint256).max) {
            _skip();
            return;
        }
        (uint256 toStakers, uint256 toProviders, bool overCap) = _emission(e, ghost.today());
        if (expected == 0 && overCap) expected = IBurnMintEngine.EpochMintCapExceeded.selector;
        uint256 reserve = vault.rewardReserve();
        uint256 held = token.balanceOf(address(engine));
        (bool ok, bytes memory ret) = _call(
            _keeper,
            address(engine),
            abi.encodeCall(IBurnMintEngine.distribute, (e))
        );
        if (!_outcome(ok, ret, expected, "distribute")) return;
        ghost.bookDistribute(e, toStakers, toProviders);
        _eq(abi.decode(ret, (uint256)), toStakers + toProviders, "distribute: emitted");
        _eq(vault.rewardReserve(), reserve + toStakers, "distribute: stakers' share streamed");
        _eq(token.balanceOf(address(engine)), held + toProviders, "distribute: providers' pool held");
    }

    /// @dev The oldest finished, undistributed epoch (none: max); or one already distributed, or the running one,
    ///      with the error they must meet.
    function _epochToDistribute(uint256 modeSeed) internal view returns (uint256 e, bytes4 expected) {
        uint256 mode = _mode(modeSeed, 8);
        uint256 today = ghost.today();
        uint256[] memory done = ghost.distributedEpochs();
        if (mode == 0 && done.length != 0)
            return (done[modeSeed % done.length], IBurnMintEngine.AlreadyDistributed.selector);
        if (mode == 1) return (today, IBurnMintEngine.EpochNotFinished.selector);
        for (e = ghost.genesisEpoch(); e < today; ++e) if (!ghost.epochOf(e).distributed) return (e, 0);
        return (type(uint256).max, 0);
    }

    // ================================================================ governance

    /// @notice One call in three the guardian pauses one of the six pausable modules (already paused:
    ///         EnforcedPause); an incident is rare, and a pause lasts until governance lifts it (8 days or more).
    function pause(uint256 moduleSeed) external action("pause") {
        if (_mode(moduleSeed, 3) != 0) {
            _skip();
            return;
        }
        address module = _pausable[(moduleSeed >> 8) % _pausable.length];
        bytes4 expected = ghost.paused(module) ? bytes4(keccak256("EnforcedPause()")) : bytes4(0);
        (bool ok, bytes memory ret) = _call(_guardian, module, abi.encodeWithSignature("pause()"));
        if (!_outcome(ok, ret, expected, "pause")) return;
        ghost.setPaused(module, true);
    }

    /// @notice Governance through the timelock. With nothing queued, the governor schedules the lifting of a pause
    ///         (when a module is paused) or a price change (×/÷ up to 1.5, within the oracle's bounds). With an
    ///         operation queued: executed when ready; half the calls wait for it (time passes for everyone); one in
    ///         eight tries it early (refused); one in eight the guardian vetoes it.
    function govern(uint256 seed, uint256 priceSeed) external action("govern") {
        if (!_op.pending) {
            _schedule(priceSeed);
            return;
        }
        uint256 mode = _mode(seed, 8);
        bytes32 id = _timelock.hashOperation(_op.target, 0, _op.data, bytes32(0), _op.salt);
        if (mode == 0) {
            (bool cancelled, bytes memory why) = _call(
                _guardian,
                address(_timelock),
                abi.encodeCall(TimelockController.cancel, (id))
            );
            if (_outcome(cancelled, why, 0, "govern: guardian veto")) _op.pending = false;
            return;
        }
        // Waits for a price change one call in two, for the lifting of a pause three in four.
        if (_time() < _op.readyAt && mode != 1 && _mode(seed >> 8, 4) < (_op.isPrice ? 2 : 3))
            ghost.advance(_op.readyAt);
        bytes4 expected =
            _time() < _op.readyAt ? TimelockController.TimelockUnexpectedOperationState.selector : bytes4(0);
        (bool ok, bytes memory ret) = _call(
            _keeper,
            address(_timelock),
            abi.encodeCall(TimelockController.execute, (_op.target, 0, _op.data, bytes32(0), _op.salt))
        );
        if (!_outcome(ok, ret, expected, _op.isPrice ? "govern: price change" : "govern: unpause")) return;
        _op.pending = false;
        if (_op.isPrice) {
            ghost.setPrice(_op.value);
            _eq(_oracle.price(), _op.value, "govern: price set");
        } else {
            ghost.setPaused(_op.target, false);
        }
    }

    // ================================================================ internal

    function _schedule(uint256 priceSeed) internal {
        Op memory op;
        op.salt = bytes32(++_salt);
        for (uint256 i; i < _pausable.length && op.target == address(0); ++i) {
            if (ghost.paused(_pausable[i])) {
                op.target = _pausable[i];
                op.data = abi.encodeWithSignature("unpause()");
            }
        }
        if (op.target == address(0)) {
            uint256 p = ghost.price();
            uint256 factor = bound(priceSeed, 6_667, 15_000); // ×/÷ up to 1.5
            op.value = Math.min(Math.max((p * factor) / BPS, _oracle.MIN_PRICE()), _oracle.MAX_PRICE());
            op.isPrice = true;
            op.target = address(_oracle);
            op.data = abi.encodeCall(FixedPriceOracle.setPrice, (op.value));
        }
        uint256 delay = _timelock.getMinDelay();
        (bool ok, bytes memory ret) = _call(
            _governor,
            address(_timelock),
            abi.encodeCall(TimelockController.schedule, (op.target, 0, op.data, bytes32(0), op.salt, delay))
        );
        if (!_outcome(ok, ret, 0, "govern: schedule")) return;
        op.pending = true;
        op.readyAt = _time() + delay;
        _op = op;
    }

    function _vote(uint256 id, string memory name) internal {
        bool fault = ghost.job(id).faulty;
        (bool ok, bytes memory ret) = _call(
            _arbiter,
            address(verifier),
            abi.encodeCall(ArbiterCommitteeVerifier.vote, (id, fault))
        );
        if (!_outcome(ok, ret, 0, name)) return;
        ghost.bookVote(id);
        IResultVerifier.Verdict verdict = verifier.verdict(id);
        if (verdict != (fault ? IResultVerifier.Verdict.Fault : IResultVerifier.Verdict.Valid)) {
            _violation(string.concat(name, ": verdict != vote"));
        }
    }

    /// @dev The model of `distribute(e)`: the epoch's halved emission split by stakerShareBps, the providers' part
    ///      only when work was recorded, both within maxSupply (stakers first), and whether it breaks the mint cap
    ///      (the previous epoch's own distribution may use its reserve, a later one may not).
    function _emission(
        uint256 e,
        uint256 today
    ) internal view returns (uint256 toStakers, uint256 toProviders, bool overCap) {
        uint256 scheduled = ghost.emissionFor(e);
        toStakers = (scheduled * engine.config().stakerShareBps) / BPS;
        toProviders = ghost.epochOf(e).workUsd == 0 ? 0 : scheduled - toStakers;
        uint256 headroom = token.maxSupply() - ghost.tokenSupply();
        toStakers = Math.min(toStakers, headroom);
        toProviders = Math.min(toProviders, headroom - toStakers);
        overCap = toStakers + toProviders > ghost.capLeft(e + 1 != today);
    }

    function _checkResolution(
        VmLogs.Log[] memory logs,
        SystemGhost.JobGhost memory g,
        IDisputeModule.Outcome outcome,
        uint256 slashed,
        uint256 finderFee,
        uint256[2] memory before // challenger's and provider's tokens
    ) internal {
        uint256 challengerTokens = before[0];
        uint256 providerTokens = before[1];
        for (uint256 i; i < logs.length; ++i) {
            if (
                logs[i].emitter != address(disputes) ||
                logs[i].topics[0] != IDisputeModule.DisputeResolved.selector
            ) continue;
            (, uint256 s, uint256 f) = abi.decode(logs[i].data, (IDisputeModule.Outcome, uint256, uint256));
            _eq(s, slashed, "resolve: slashed");
            _eq(f, finderFee, "resolve: finder fee");
        }
        uint256 bond = g.challengeBond;
        if (outcome == IDisputeModule.Outcome.Rejected) {
            _eq(token.balanceOf(g.provider), providerTokens + bond, "resolve: provider gets the bond");
            _eq(token.balanceOf(g.challenger), challengerTokens, "resolve: challenger loses the bond");
        } else {
            _eq(token.balanceOf(g.challenger), challengerTokens + bond + finderFee, "resolve: challenger paid");
        }
        if (outcome == IDisputeModule.Outcome.Upheld) {
            _eq(
                registry.getProvider(g.provider).jailedUntil,
                ghost.provider(g.provider).jailedUntil,
                "resolve: jail"
            );
        }
    }
}

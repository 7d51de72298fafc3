// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {HandlerStats} from "../../utils/HandlerStats.sol";
import {console} from "../../utils/console.sol";
import {JobCoordinator} from "../../../../contracts/JobCoordinator.sol";
import {DisputeModule} from "../../../../contracts/DisputeModule.sol";
import {ArbiterCommitteeVerifier} from "../../../../contracts/verifiers/ArbiterCommitteeVerifier.sol";
import {ProviderRegistry} from "../../../../contracts/ProviderRegistry.sol";
import {VoucherMarket} from "../../../../contracts/VoucherMarket.sol";
import {BurnMintEngine} from "../../../../contracts/BurnMintEngine.sol";
import {DailyCredit} from "../../../../contracts/DailyCredit.sol";
import {ComputeCredit} from "../../../../contracts/ComputeCredit.sol";
import {ProtocolToken} from "../../../../contracts/ProtocolToken.sol";
import {MockStablecoin} from "../../../../contracts/mocks/MockStablecoin.sol";
import {IJobCoordinator} from "../../../../contracts/interfaces/IJobCoordinator.sol";
import {IDisputeModule} from "../../../../contracts/interfaces/IDisputeModule.sol";
import {IProviderRegistry} from "../../../../contracts/interfaces/IProviderRegistry.sol";
import {IResultVerifier} from "../../../../contracts/interfaces/IResultVerifier.sol";
import {IDailyCredit} from "../../../../contracts/interfaces/IDailyCredit.sol";
import {IBurnMintEngine} from "../../../../contracts/interfaces/IBurnMintEngine.sol";
import {ICinderErrors} from "../../../../contracts/interfaces/ICinderErrors.sol";

/// @dev The cheatcodes this handler needs beyond test/foundry/utils/Vm.sol (same address).
interface VmJobs {
    struct Log {
        bytes32[] topics;
        bytes data;
        address emitter;
    }

    function recordLogs() external;

    function getRecordedLogs() external returns (Log[] memory);

    function toString(bytes calldata value) external pure returns (string memory);
}

/// @title JobsHandler
/// @notice Drives the whole job lifecycle for the invariant test: requesters ask for jobs paid with vouchers,
///         DailyCredit allowance or ComputeCredit (open or direct, with caps above and below the providers'
///         prices), providers accept them (or fail to: price above cap, not named, not enough free bond, late),
///         submit attested results (sometimes badly signed or by the wrong caller), anyone finalizes one job or a
///         batch of random ids (unready, unknown and duplicate ones included), expires late jobs, requesters
///         cancel, a challenger challenges, the arbiter votes, anyone resolves disputes, ended jobs are poked
///         again (every attempt must fail), providers' voucher earnings are withdrawn, and time moves by
///         minutes, hours or days (windows, deadlines, dispute timeouts and UTC days pass).
/// @dev Ghosts: per job, the escrow taken at request and what the coordinator reports paid and refunded
///      (from its JobFinalized / JobCancelled / JobExpired / JobFaulted events) and how many such reports;
///      per provider the bond deposited and slashed; per epoch the work, subsidised work and voucher revenue
///      settled. Every call's effects are checked against a model and against real balances (the events must
///      match what moved) and a mismatch, an unexpected revert or a wrong error is recorded as a violation,
///      which the invariant test asserts to be zero. Actions whose job is missing make one (request → accept →
///      submit → challenge) so that every action does its thing in most calls.
contract JobsHandler is HandlerStats {
    VmJobs private constant _VMX = VmJobs(address(uint160(uint256(keccak256("hevm cheat code")))));
    uint256 private constant _BPS = 10_000;
    bytes32 private constant _DOMAIN_TYPEHASH = keccak256(
        "EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"
    );
    bytes32 private constant _RESULT_TYPEHASH = keccak256(
        "Result(uint256 jobId,bytes32 modelId,bytes32 inputHash,bytes32 outputHash,uint256 unitsUsed)"
    );

    struct Deployment {
        ProtocolToken token;
        DailyCredit dailyCredit;
        ComputeCredit computeCredit;
        BurnMintEngine engine;
        ProviderRegistry registry;
        VoucherMarket market;
        MockStablecoin usdc;
        JobCoordinator coordinator;
        DisputeModule disputes;
        ArbiterCommitteeVerifier verifier;
        bytes32 modelId;
        uint256 classId;
        address treasury;
    }

    struct Actors {
        address[] requesters;
        address[] providers;
        uint256[] signerKeys; // providers[i] attests with signerKeys[i]
        address challenger;
        address arbiter;
        address keeper; // anyone: finalizes, expires, resolves, withdraws for others
    }

    /// @notice The model of one job, and its ghosts (`paid`, `refunded`, `payouts`).
    struct JobGhost {
        IJobCoordinator.JobStatus status;
        IJobCoordinator.PaymentKind kind;
        address requester;
        address provider; // named at request, then the acceptor
        bytes32 inputHash;
        uint256 maxUnits;
        uint256 deadline;
        uint256 challengeEnds;
        uint256 escrow; // vouchers or USD, taken at request
        uint256 price; // credit jobs: the cap, then the provider's price
        uint256 collateral;
        uint256 unitsUsed;
        uint256 fundedDay;
        uint256 paid; // as reported by the coordinator's events (checked against balances)
        uint256 refunded;
        uint256 payouts; // terminal reports seen
        bool voted;
    }

    /// @dev A terminal report parsed from the coordinator's events.
    struct Settled {
        uint256 jobId;
        IJobCoordinator.JobStatus status;
        uint256 paid;
        uint256 refunded;
        uint256 slashed;
    }

    /// @dev Balances a job action may move.
    struct Snap {
        uint256[] reqVouchers;
        uint256[] reqCredit;
        uint256[] reqAllowance;
        uint256[] provCredit;
        uint256[] provOwed;
        uint256[] provBond;
        uint256[] provLocked;
        uint256[] provOpenJobs;
        uint256 treasuryOwed;
        uint256 coordVouchers;
        uint256 coordCredit;
        uint256 creditSupply;
        uint256 voucherSupply;
        uint256 tokenSupply;
        uint256 registryTokens;
    }

    struct Request {
        address requester;
        IJobCoordinator.PaymentKind kind;
        uint256 maxUnits;
        uint256 cap;
        uint256 deadline;
        address provider;
        bool overAllowance; // keep a DailyCredit request that does not fit (must revert)
    }

    /// @dev Voucher principal redeemed per provider in one call, and a fault's finder fee.
    struct Tally {
        uint256[] principal;
        uint256[] redemptions;
        uint256 finderFee;
    }

    /// @dev What a batch must settle and skip (with the reasons), in order.
    struct BatchModel {
        uint256[] settle;
        uint256[] skip;
        uint8[] reasons;
    }

    struct ResolveContext {
        IDisputeModule.Outcome expected; // None: must revert NotResolvable
        address provider;
        uint256 bond;
        uint256 providerTokens;
        uint256 held;
        uint256 jailedUntil;
    }

    ProtocolToken public immutable token;
    DailyCredit public immutable dailyCredit;
    ComputeCredit public immutable computeCredit;
    BurnMintEngine public immutable engine;
    ProviderRegistry public immutable registry;
    VoucherMarket public immutable market;
    MockStablecoin public immutable usdc;
    JobCoordinator public immutable coordinator;
    DisputeModule public immutable disputes;
    ArbiterCommitteeVerifier public immutable verifier;
    bytes32 public immutable modelId;
    uint256 public immutable classId;
    address public immutable treasury;
    address public immutable challenger;
    address public immutable arbiter;
    address public immutable keeper;

    uint256 private immutable _UNITS_PER_VOUCHER;
    uint256 private immutable _VOUCHER_PRICE;
    uint256 private immutable _USD_SCALE;
    uint256 private immutable _COLLATERAL_PER_USD;
    uint256 private immutable _LATE_SLASH_BPS;
    uint256 private immutable _CHALLENGE_WINDOW;
    uint256 private immutable _MIN_JOB;
    uint256 private immutable _MAX_JOB;
    uint256 private immutable _DISPUTE_TIMEOUT;
    uint256 private immutable _FAULT_SLASH_BPS;
    uint256 private immutable _FINDER_FEE_BPS;
    uint256 private immutable _JAIL;
    uint256 private immutable _START;

    address[] internal _requesters;
    address[] internal _providers;
    uint256[] internal _signerKeys;

    /// @notice The handler's clock: every action starts by warping to it.
    uint256 public time;
    /// @notice Handler calls in this run.
    uint256 public totalCalls;
    /// @notice Jobs requested so far (ids 1..jobCount).
    uint256 public jobCount;
    mapping(uint256 jobId => JobGhost) internal _jobs;

    mapping(address provider => uint256) public ghostDeposited;
    mapping(address provider => uint256) public ghostSlashed;
    uint256 public ghostChallengerTokens;
    uint256[] internal _epochs;
    mapping(uint256 epoch => bool) internal _epochSeen;
    mapping(uint256 epoch => uint256) public ghostWorkUsd;
    mapping(uint256 epoch => uint256) public ghostSubsidisedWorkUsd;
    mapping(uint256 epoch => uint256) public ghostVoucherRevenueUsd;

    uint256 public largestBatchSettled;
    uint256 public faults;
    uint256 public challengesRejected;
    uint256 public challengesTimedOut;
    uint256 public lateSlashes;
    uint256 public crossDaySubsidyReturns;

    constructor(Deployment memory d, Actors memory a) {
        token = d.token;
        dailyCredit = d.dailyCredit;
        computeCredit = d.computeCredit;
        engine = d.engine;
        registry = d.registry;
        market = d.market;
        usdc = d.usdc;
        coordinator = d.coordinator;
        disputes = d.disputes;
        verifier = d.verifier;
        modelId = d.modelId;
        classId = d.classId;
        treasury = d.treasury;
        challenger = a.challenger;
        arbiter = a.arbiter;
        keeper = a.keeper;
        _requesters = a.requesters;
        _providers = a.providers;
        _signerKeys = a.signerKeys;

        _UNITS_PER_VOUCHER = d.market.getClass(d.classId).unitsPerVoucher;
        _VOUCHER_PRICE = d.market.getClass(d.classId).unitPrice;
        _USD_SCALE = 10 ** (18 - d.usdc.decimals());
        _COLLATERAL_PER_USD = d.coordinator.collateralPerUsd();
        _LATE_SLASH_BPS = d.coordinator.lateSlashBps();
        _CHALLENGE_WINDOW = d.coordinator.challengeWindow();
        (_MIN_JOB, _MAX_JOB) = d.coordinator.jobDurationBounds();
        _DISPUTE_TIMEOUT = d.disputes.disputeTimeout();
        _FAULT_SLASH_BPS = d.disputes.faultSlashBps();
        _FINDER_FEE_BPS = d.disputes.finderFeeBps();
        _JAIL = d.disputes.jailDuration();
        _START = block.timestamp;

        time = block.timestamp;
        _touchEpoch();
        for (uint256 i; i < a.providers.length; ++i) {
            ghostDeposited[a.providers[i]] = d.registry.getProvider(a.providers[i]).bond;
        }
        ghostChallengerTokens = d.token.balanceOf(a.challenger);
    }

    function _beforeAction() internal override {
        ++totalCalls;
        vm.warp(time);
        _touchEpoch();
    }

    // ================================================================ requester

    /// @notice A requester asks for a job: payment kind, size (1 unit to 6 vouchers' worth), price cap (a
    ///         provider's price, below every price, or random), deadline (minutes to the 1-day maximum), open or
    ///         direct to a provider (eligible or not).
    function requestJob(
        uint256 actorSeed,
        uint256 kindSeed,
        uint256 unitsSeed,
        uint256 capSeed,
        uint256 deadlineSeed,
        uint256 providerSeed
    ) external action("requestJob") {
        Request memory r;
        r.requester = _requesters[actorSeed % _requesters.length];
        r.kind = IJobCoordinator.PaymentKind(kindSeed % 3);
        r.maxUnits = _boundUnits(unitsSeed);
        r.cap = _boundCap(capSeed);
        r.deadline = time + _boundDuration(deadlineSeed);
        if (_mode(providerSeed, 3) == 0) r.provider = _providers[providerSeed % _providers.length];
        r.overAllowance = _mode(kindSeed, 3) == 2;
        _request(r, "requestJob");
    }

    /// @notice The requester (or, one call in five, another requester: NotJobParty) cancels a requested job.
    function cancel(uint256 jobSeed, uint256 callerSeed) external action("cancel") {
        uint256 id = _find(jobSeed, _isRequested);
        if (id == 0) id = _ensureRequested();
        if (id == 0) {
            _skip();
            return;
        }
        JobGhost storage g = _jobs[id];
        address caller = g.requester;
        if (_mode(callerSeed, 5) == 3)
            caller = _requesters[(_indexOf(_requesters, caller) + 1) % _requesters.length];

        Snap memory before = _snap();
        _startLogs();
        vm.prank(caller);
        try coordinator.cancel(id) {
            if (caller != g.requester) _violation("cancel: a stranger cancelled");
            _settleCheck(before, _one(id), _oneStatus(IJobCoordinator.JobStatus.Cancelled), "cancel");
            _done("cancel");
        } catch (bytes memory reason) {
            if (caller == g.requester) _unexpected("cancel", reason);
            else _expectSelector(reason, IJobCoordinator.NotJobParty.selector, "cancel by a stranger");
            _done("cancel (refused: not the requester)");
        }
    }

    // ================================================================ provider

    /// @notice A provider accepts a requested job (three calls in four one some provider can take, the fourth
    ///         any, late ones included). Half the calls it is the named provider or one that can take the job;
    ///         a quarter any provider (not named, jailed, short of free bond...); a quarter the most expensive
    ///         provider (above a credit job's cap: PriceAboveCap).
    function acceptJob(uint256 jobSeed, uint256 providerSeed) external action("acceptJob") {
        uint256 id = _mode(jobSeed, 4) != 0 ? _find(jobSeed, _isAcceptable) : 0;
        if (id == 0) id = _find(jobSeed, _isRequested);
        if (id == 0) id = _ensureRequested();
        if (id == 0) {
            _skip();
            return;
        }
        uint256 mode = _mode(providerSeed, 4);
        address provider = _jobs[id].provider;
        if (mode == 2) provider = _providers[providerSeed % _providers.length];
        else if (mode == 3) provider = _mostExpensiveProvider();
        else if (provider == address(0)) provider = _ableProvider(id);
        if (provider == address(0)) provider = _providers[providerSeed % _providers.length];
        _accept(id, provider, "acceptJob");
    }

    /// @notice The provider submits a result for an accepted job (three calls in four one before its deadline)
    ///         with 0 to maxUnits units (edges weighted); one call in ten is signed by another provider's key
    ///         (InvalidAttestation), one in ten sent by the requester (NotJobParty).
    function submitResult(uint256 jobSeed, uint256 unitsSeed, uint256 modeSeed) external action("submitResult") {
        uint256 id = _mode(jobSeed, 4) != 0 ? _find(jobSeed, _isLiveAccepted) : 0;
        if (id == 0) id = _find(jobSeed, _isAccepted);
        if (id == 0) id = _ensureAccepted();
        if (id == 0) {
            _skip();
            return;
        }
        uint256 mode = _mode(modeSeed, 10);
        mode =
            mode == 7
                ? 1
                : mode == 8
                    ? 2
                    : 0;
        _submit(id, _boundUsed(unitsSeed, _jobs[id].maxUnits), mode, "submitResult");
    }

    /// @notice A provider (or the treasury) has its credited voucher earnings sent; anyone may trigger it.
    function withdrawOwed(uint256 accountSeed) external action("withdrawOwed") {
        uint256 n = _providers.length + 1;
        address account = _owedAccount(accountSeed % n);
        if (market.owed(account, usdc) == 0 && _mode(accountSeed, 4) != 3) {
            for (uint256 i; i < n; ++i) {
                address other = _owedAccount(((accountSeed % n) + i) % n);
                if (market.owed(other, usdc) != 0) {
                    account = other;
                    break;
                }
            }
        }
        uint256 owed = market.owed(account, usdc);
        uint256 balance = usdc.balanceOf(account);
        vm.prank(keeper);
        try market.withdraw(account, usdc) returns (uint256 amount) {
            if (owed == 0) _violation("withdraw: paid with nothing owed");
            if (amount != owed) _violation("withdraw: amount != owed");
            if (usdc.balanceOf(account) != balance + owed)
                _violation("withdraw: account not paid what it was owed");
            if (market.owed(account, usdc) != 0) _violation("withdraw: owed not cleared");
            _done("withdrawOwed");
        } catch (bytes memory reason) {
            if (owed != 0) _unexpected("withdrawOwed", reason);
            else _expectSelector(reason, ICinderErrors.ZeroAmount.selector, "withdraw of nothing");
            _done("withdrawOwed (nothing owed)");
        }
    }

    // ================================================================ settlement

    /// @notice Anyone finalizes a submitted job; seven calls in eight first wait out its challenge window,
    ///         the eighth may come too early (ChallengeWindowOpen).
    function finalize(uint256 jobSeed, uint256 waitSeed) external action("finalize") {
        uint256 id = _find(jobSeed, _isSubmitted);
        if (id == 0) id = _ensureSubmitted(false);
        if (id == 0) {
            _skip();
            return;
        }
        JobGhost storage g = _jobs[id];
        if (time < g.challengeEnds && _mode(waitSeed, 8) != 5)
            _warpTo(g.challengeEnds + bound(waitSeed >> 8, 0, 1 hours));
        bool early = time < g.challengeEnds;

        Snap memory before = _snap();
        _startLogs();
        vm.prank(keeper);
        try coordinator.finalize(id) {
            if (early) _violation("finalize: settled inside the challenge window");
            _settleCheck(before, _one(id), _oneStatus(IJobCoordinator.JobStatus.Finalized), "finalize");
            _done("finalize");
        } catch (bytes memory reason) {
            if (!early) _unexpected("finalize", reason);
            else _expectSelector(reason, IJobCoordinator.ChallengeWindowOpen.selector, "finalize too early");
            _done("finalize (refused: window open)");
        }
    }

    /// @notice Anyone finalizes a batch of 1 to 8 ids: submitted jobs (ready or not), any other job, the
    ///         unknown ids 0 and jobCount + 1, and duplicates; or (half the calls) every submitted job, the first
    ///         again and an unknown id, as a keeper would. One to three submitted jobs are made first if fewer are
    ///         at hand; three calls in four first wait until the batch's submitted jobs are all ready. The settled
    ///         count, the skipped ids and their reasons must match the model; a batch never reverts for a job that
    ///         is not ready.
    function finalizeBatch(uint256 seed, uint256 sizeSeed, uint256 waitSeed) external action("finalizeBatch") {
        uint256 want = 1 + _mode(sizeSeed >> 8, 3);
        for (uint256 have = _count(_isSubmitted); have < want; ++have) {
            if (_newSubmitted() == 0) break;
        }
        uint256[] memory ids = _mode(seed, 2) == 0 ? _keeperBatch() : _batchIds(seed, 1 + _mode(sizeSeed, 8));
        if (_mode(waitSeed, 4) != 3) {
            uint256 latest;
            for (uint256 i; i < ids.length; ++i) {
                if (_isSubmitted(ids[i])) latest = Math.max(latest, _jobs[ids[i]].challengeEnds);
            }
            _warpTo(latest);
        }
        _finalizeBatch(ids);
    }

    function _finalizeBatch(uint256[] memory ids) internal {
        BatchModel memory m = _predictBatch(ids);
        Snap memory before = _snap();
        _startLogs();
        (bool ok, bytes memory ret) = _call(
            keeper,
            address(coordinator),
            abi.encodeCall(IJobCoordinator.finalizeBatch, (ids))
        );
        if (!ok) {
            _unexpected("finalizeBatch", ret);
            return;
        }
        (uint256 settled, uint256[] memory skipped) = abi.decode(ret, (uint256, uint256[]));
        VmJobs.Log[] memory logs = _VMX.getRecordedLogs();
        if (settled != m.settle.length) _violation("finalizeBatch: settled count != model");
        if (keccak256(abi.encode(skipped)) != keccak256(abi.encode(m.skip)))
            _violation("finalizeBatch: skipped ids != model");
        _checkSkipReasons(logs, m.skip, m.reasons);
        IJobCoordinator.JobStatus[] memory statuses = new IJobCoordinator.JobStatus[](m.settle.length);
        for (uint256 i; i < statuses.length; ++i) statuses[i] = IJobCoordinator.JobStatus.Finalized;
        _settleFrom(before, _settlementsFrom(logs), m.settle, statuses, "finalizeBatch");
        if (settled != 0) {
            largestBatchSettled = Math.max(largestBatchSettled, settled);
            _done("finalizeBatch");
        } else {
            _done("finalizeBatch (nothing ready)");
        }
    }

    /// @notice Anyone expires a requested or accepted job; seven calls in eight first wait for its deadline,
    ///         the eighth may come early (DeadlineNotReached). An accepted job's provider loses lateSlashBps of
    ///         the job's collateral, burned.
    function expire(uint256 jobSeed, uint256 waitSeed) external action("expire") {
        uint256 id = _find(jobSeed, _isExpirable);
        if (id == 0) id = _mode(waitSeed, 2) == 0 ? _ensureAccepted() : _ensureRequested();
        if (id == 0) {
            _skip();
            return;
        }
        JobGhost storage g = _jobs[id];
        if (time < g.deadline && _mode(waitSeed, 8) != 3)
            _warpTo(g.deadline + bound(waitSeed >> 8, 0, 30 minutes));
        bool early = time < g.deadline;

        Snap memory before = _snap();
        _startLogs();
        vm.prank(keeper);
        try coordinator.expire(id) {
            if (early) _violation("expire: expired before the deadline");
            _settleCheck(before, _one(id), _oneStatus(IJobCoordinator.JobStatus.Expired), "expire");
            _done("expire");
        } catch (bytes memory reason) {
            if (!early) _unexpected("expire", reason);
            else _expectSelector(reason, IJobCoordinator.DeadlineNotReached.selector, "expire too early");
            _done("expire (refused: deadline ahead)");
        }
    }

    // ================================================================ disputes

    /// @notice The challenger challenges a submitted job inside its window (making one if none is), or, one
    ///         call in eight, one whose window has closed (ChallengeWindowClosed).
    function challenge(uint256 jobSeed) external action("challenge") {
        if (_mode(jobSeed, 8) == 5) {
            uint256 late = _find(jobSeed, _isSubmittedLate);
            if (late != 0) {
                _challenge(late, "challenge (window closed)");
                return;
            }
        }
        uint256 id = _find(jobSeed, _isChallengeable);
        if (id == 0) id = _ensureSubmitted(true);
        if (id == 0) {
            _skip();
            return;
        }
        _challenge(id, "challenge");
    }

    /// @notice The arbiter votes on a challenged job: fault or valid. With no challenged job it votes on another
    ///         job, which must revert with DisputeNotOpen.
    function vote(uint256 jobSeed, bool fault) external action("vote") {
        uint256 id = _find(jobSeed, _isUnvotedChallenge);
        if (id != 0) {
            _vote(id, fault, "vote");
            return;
        }
        id = _find(jobSeed, _isNotChallenged);
        if (id == 0) {
            _skip();
            return;
        }
        vm.prank(arbiter);
        try verifier.vote(id, fault) {
            _violation("vote: accepted on a job without an open dispute");
        } catch (bytes memory reason) {
            _expectSelector(reason, ArbiterCommitteeVerifier.DisputeNotOpen.selector, "vote without dispute");
            _done("vote (refused: no dispute)");
        }
    }

    /// @notice Anyone resolves a dispute (challenging a job first if none is open). While the verifier has no
    ///         verdict and the timeout is ahead: the arbiter votes fault (2 in 8) or valid (3 in 8), or time
    ///         passes to the timeout (2 in 8), or the call comes too early (NotResolvable, 1 in 8).
    function resolve(uint256 jobSeed, uint256 modeSeed) external action("resolve") {
        uint256 id = _find(jobSeed, _isChallenged);
        if (id == 0) id = _ensureChallenged();
        if (id == 0) {
            _skip();
            return;
        }
        uint256 timeoutAt = uint256(disputes.getDispute(id).openedAt) + _DISPUTE_TIMEOUT;
        if (verifier.verdict(id) == IResultVerifier.Verdict.Pending && time < timeoutAt) {
            uint256 mode = _mode(modeSeed, 8);
            if (mode < 5 && !_jobs[id].voted) _vote(id, mode < 2, "vote (before resolve)");
            else if (mode < 7) _warpTo(timeoutAt + bound(modeSeed >> 8, 0, 2 hours));
        }
        _resolve(id, timeoutAt);
    }

    /// @notice Someone tries to move an ended job again: its requester cancels, anyone expires or finalizes
    ///         it, a provider accepts or submits a result for it, the challenger challenges it. Every attempt
    ///         must revert with InvalidJobStatus: a terminal status never changes.
    function replayEnded(uint256 jobSeed, uint256 actionSeed) external action("replayEnded") {
        uint256 id = _find(jobSeed, _isEnded);
        if (id == 0) {
            _skip();
            return;
        }
        JobGhost storage g = _jobs[id];
        address provider = g.provider == address(0) ? _providers[0] : g.provider;
        uint256 mode = _mode(actionSeed, 6);
        address caller = keeper;
        address target = address(coordinator);
        bytes memory data;
        if (mode == 0) {
            caller = g.requester;
            data = abi.encodeCall(IJobCoordinator.cancel, (id));
        } else if (mode == 1) {
            data = abi.encodeCall(IJobCoordinator.expire, (id));
        } else if (mode == 2) {
            data = abi.encodeCall(IJobCoordinator.finalize, (id));
        } else if (mode == 3) {
            caller = provider;
            data = abi.encodeCall(IJobCoordinator.acceptJob, (id));
        } else if (mode == 4) {
            caller = provider;
            data = abi.encodeCall(IJobCoordinator.submitResult, (id, bytes32(id), 0, new bytes(65)));
        } else {
            caller = challenger;
            target = address(disputes);
            data = abi.encodeCall(IDisputeModule.challenge, (id));
        }
        (bool ok, bytes memory ret) = _call(caller, target, data);
        if (ok) _violation("replayEnded: an ended job moved again");
        else _expectSelector(ret, IJobCoordinator.InvalidJobStatus.selector, "replayEnded");
        _done("replayEnded");
    }

    // ================================================================ time

    /// @notice Time passes: minutes, hours or one to two days.
    function warp(uint256 modeSeed, uint256 amountSeed) external action("warp") {
        uint256 mode = _mode(modeSeed, 3);
        uint256 dt =
            mode == 0
                ? bound(amountSeed, 1 minutes, 59 minutes)
                : mode == 1
                    ? bound(amountSeed, 1 hours, 23 hours)
                    : bound(amountSeed, 1 days, 2 days);
        _warpTo(time + dt);
        _done("warp");
    }

    // ================================================================ views for the invariants

    function ghost(uint256 jobId) external view returns (JobGhost memory) {
        return _jobs[jobId];
    }

    function providers() external view returns (address[] memory) {
        return _providers;
    }

    function epochs() external view returns (uint256[] memory) {
        return _epochs;
    }

    /// @notice Prints, per action, how often it was called and how often it took effect.
    function logCallSummary() external view {
        _logStats();
        console.log("hours elapsed", (time - _START) / 1 hours);
        console.log("jobs", jobCount);
        console.log("largest batch settled", largestBatchSettled);
        console.log("late slashes", lateSlashes);
        console.log("challenges upheld (faults)", faults);
        console.log("challenges rejected", challengesRejected);
        console.log("challenges timed out", challengesTimedOut);
        console.log("subsidy returned to an earlier day", crossDaySubsidyReturns);
    }

    // ================================================================ actions (internal)

    function _request(Request memory r, string memory name) internal returns (uint256 id) {
        uint256 escrow = _fitPayment(r);
        bytes4 expected = _requestError(r, escrow);
        uint256 subsidyBefore = engine.epochLedger(time / 1 days).subsidyMintedUsd;
        Snap memory before = _snap();
        (bool ok, bytes memory ret) = _call(r.requester, address(coordinator), _requestCall(r));
        if (!ok) {
            if (expected == 0) _unexpected(name, ret);
            else _expectSelector(ret, expected, name);
            _done(string.concat(name, " (refused: ", _errorName(expected), ")"));
            return 0;
        }
        if (expected != 0) _violation(string.concat(name, ": succeeded where it must revert"));
        id = abi.decode(ret, (uint256));
        if (id != jobCount + 1) _violation(string.concat(name, ": job id not the next one"));
        _recordRequest(id, r, escrow);
        _checkRequestEffects(before, _jobs[id], subsidyBefore, name);
        _checkView(id, name);
        _done(name);
    }

    function _requestError(Request memory r, uint256 escrow) internal view returns (bytes4) {
        if (r.provider != address(0) && registry.eligiblePrice(r.provider, modelId) == 0)
            return IJobCoordinator.ProviderNotEligible.selector;
        if (r.kind == IJobCoordinator.PaymentKind.DailyCredit) {
            if (dailyCredit.dailyAllowance(r.requester) < escrow)
                return IDailyCredit.InsufficientDailyAllowance.selector;
            if (engine.subsidyRemaining() < escrow) return IBurnMintEngine.SubsidyBudgetExceeded.selector;
        }
        return 0;
    }

    function _requestCall(Request memory r) internal view returns (bytes memory) {
        IJobCoordinator.Payment memory payment =
            r.kind == IJobCoordinator.PaymentKind.Voucher
                ? IJobCoordinator.Payment(r.kind, classId, 0)
                : IJobCoordinator.Payment(r.kind, 0, r.cap);
        return
            abi.encodeCall(
                IJobCoordinator.requestJob,
                (
                    modelId,
                    _inputHash(jobCount + 1, r.requester),
                    "ipfs://input",
                    r.maxUnits,
                    payment,
                    r.deadline,
                    r.provider
                )
            );
    }

    function _recordRequest(uint256 id, Request memory r, uint256 escrow) internal {
        jobCount = id;
        JobGhost storage g = _jobs[id];
        g.status = IJobCoordinator.JobStatus.Requested;
        g.kind = r.kind;
        g.requester = r.requester;
        g.provider = r.provider;
        g.inputHash = _inputHash(id, r.requester);
        g.maxUnits = r.maxUnits;
        g.deadline = r.deadline;
        g.escrow = escrow;
        if (r.kind != IJobCoordinator.PaymentKind.Voucher) g.price = r.cap;
        if (r.kind == IJobCoordinator.PaymentKind.DailyCredit) g.fundedDay = time / 1 days;
    }

    function _inputHash(uint256 id, address requester) internal pure returns (bytes32) {
        return keccak256(abi.encode("input", id, requester));
    }

    function _accept(uint256 id, address provider, string memory name) internal returns (bool ok) {
        JobGhost storage g = _jobs[id];
        uint256 price = registry.eligiblePrice(provider, modelId);
        uint256 collateral = _collateralFor(g, price);
        IProviderRegistry.ProviderRecord memory p = registry.getProvider(provider);
        bytes4 expected;
        if (time >= g.deadline) expected = IJobCoordinator.DeadlinePassed.selector;
        else if (g.provider != address(0) && g.provider != provider) {
            expected = IJobCoordinator.ProviderNotEligible.selector;
        } else if (price == 0) expected = IJobCoordinator.ProviderNotEligible.selector;
        else if (g.kind != IJobCoordinator.PaymentKind.Voucher && price > g.price) {
            expected = IJobCoordinator.PriceAboveCap.selector;
        } else if (p.bond - p.locked < collateral) expected = IProviderRegistry.InsufficientFreeBond.selector;

        bytes memory ret;
        (ok, ret) = _call(provider, address(coordinator), abi.encodeCall(IJobCoordinator.acceptJob, (id)));
        if (!ok) {
            if (expected == 0) _unexpected(name, ret);
            else _expectSelector(ret, expected, name);
            _done(string.concat(name, " (refused: ", _errorName(expected), ")"));
            return false;
        }
        if (expected != 0) _violation(string.concat(name, ": succeeded where it must revert"));
        g.status = IJobCoordinator.JobStatus.Accepted;
        g.provider = provider;
        g.collateral = collateral;
        if (g.kind != IJobCoordinator.PaymentKind.Voucher) g.price = price;
        IProviderRegistry.ProviderRecord memory q = registry.getProvider(provider);
        if (q.locked != p.locked + collateral || q.bond != p.bond || q.openJobs != p.openJobs + 1)
            _violation(string.concat(name, ": collateral not locked as modelled"));
        _checkView(id, name);
        _done(name);
    }

    /// @param mode 0: correct; 1: signed by another provider's key; 2: sent by the requester.
    function _submit(uint256 id, uint256 units, uint256 mode, string memory name) internal returns (bool ok) {
        JobGhost storage g = _jobs[id];
        bytes32 outputHash = keccak256(abi.encode("output", id, units));
        bytes4 expected =
            mode == 2
                ? IJobCoordinator.NotJobParty.selector
                : time >= g.deadline
                    ? IJobCoordinator.DeadlinePassed.selector
                    : mode == 1
                        ? IJobCoordinator.InvalidAttestation.selector
                        : bytes4(0);
        bytes memory call = abi.encodeCall(
            IJobCoordinator.submitResult,
            (id, outputHash, units, _sign(id, outputHash, units, mode == 1))
        );
        bytes memory ret;
        (ok, ret) = _call(mode == 2 ? g.requester : g.provider, address(coordinator), call);
        if (!ok) {
            if (expected == 0) _unexpected(name, ret);
            else _expectSelector(ret, expected, name);
            _done(string.concat(name, " (refused: ", _errorName(expected), ")"));
            return false;
        }
        if (expected != 0) _violation(string.concat(name, ": succeeded where it must revert"));
        g.status = IJobCoordinator.JobStatus.Submitted;
        g.unitsUsed = units;
        g.challengeEnds = time + _CHALLENGE_WINDOW;
        _checkView(id, name);
        if (coordinator.getJob(id).outputHash != outputHash) _violation(string.concat(name, ": output hash"));
        _done(name);
    }

    function _challenge(uint256 id, string memory name) internal returns (bool ok) {
        JobGhost storage g = _jobs[id];
        bool late = time >= g.challengeEnds;
        uint256 bond = disputes.challengeBond();
        uint256 held = token.balanceOf(address(disputes));
        bytes memory ret;
        (ok, ret) = _call(challenger, address(disputes), abi.encodeCall(IDisputeModule.challenge, (id)));
        if (!ok) {
            if (!late) _unexpected(name, ret);
            else _expectSelector(ret, IJobCoordinator.ChallengeWindowClosed.selector, "challenge too late");
            _done(string.concat(name, " (refused)"));
            return false;
        }
        if (late) _violation("challenge: accepted after the window");
        g.status = IJobCoordinator.JobStatus.Challenged;
        ghostChallengerTokens -= bond;
        if (token.balanceOf(challenger) != ghostChallengerTokens) _violation("challenge: bond not taken");
        if (token.balanceOf(address(disputes)) != held + bond) _violation("challenge: bond not held");
        IDisputeModule.Dispute memory d = disputes.getDispute(id);
        if (
            d.challenger != challenger ||
            d.provider != g.provider ||
            d.openedAt != time ||
            d.outcome != IDisputeModule.Outcome.Open ||
            d.bond != bond
        ) _violation("challenge: dispute record");
        _checkView(id, name);
        _done(name);
    }

    function _vote(uint256 id, bool fault, string memory name) internal {
        (uint256 faultVotes, uint256 validVotes) = verifier.tally(id);
        vm.prank(arbiter);
        try verifier.vote(id, fault) {
            _jobs[id].voted = true;
            (uint256 f, uint256 v) = verifier.tally(id);
            if (f != faultVotes + (fault ? 1 : 0) || v != validVotes + (fault ? 0 : 1)) {
                _violation("vote: tally");
            }
            _done(name);
        } catch (bytes memory reason) {
            _unexpected(name, reason);
        }
    }

    function _resolve(uint256 id, uint256 timeoutAt) internal {
        ResolveContext memory c = _resolveContext(id, timeoutAt);
        Snap memory before = _snap();
        _startLogs();
        (bool ok, bytes memory ret) = _call(
            keeper,
            address(disputes),
            abi.encodeCall(IDisputeModule.resolve, (id))
        );
        if (!ok) {
            if (c.expected != IDisputeModule.Outcome.None) _unexpected("resolve", ret);
            else _expectSelector(ret, IDisputeModule.NotResolvable.selector, "resolve too early");
            _done("resolve (refused: no verdict yet)");
            return;
        }
        IDisputeModule.Outcome outcome = abi.decode(ret, (IDisputeModule.Outcome));
        if (outcome != c.expected) _violation("resolve: outcome != verdict / timeout");
        bool upheld = outcome == IDisputeModule.Outcome.Upheld;
        uint256 finderFee = _settleCheck(
            before,
            _one(id),
            _oneStatus(upheld ? IJobCoordinator.JobStatus.Faulted : IJobCoordinator.JobStatus.Finalized),
            "resolve"
        );
        _checkResolution(id, c, outcome, finderFee);
        _done("resolve");
    }

    /// @dev What a resolution must do, from the verdict and the clock, and the balances it moves.
    function _resolveContext(uint256 id, uint256 timeoutAt) internal view returns (ResolveContext memory c) {
        IResultVerifier.Verdict verdict = verifier.verdict(id);
        if (verdict == IResultVerifier.Verdict.Fault) c.expected = IDisputeModule.Outcome.Upheld;
        else if (verdict == IResultVerifier.Verdict.Valid) c.expected = IDisputeModule.Outcome.Rejected;
        else if (time >= timeoutAt) c.expected = IDisputeModule.Outcome.TimedOut;
        c.provider = _jobs[id].provider;
        c.bond = disputes.getDispute(id).bond;
        c.providerTokens = token.balanceOf(c.provider);
        c.held = token.balanceOf(address(disputes));
        c.jailedUntil = registry.getProvider(c.provider).jailedUntil;
    }

    /// @dev The challenger's bond: back with the finder fee (fault), to the provider (valid) or back (timeout);
    ///      a faulty provider jailed; the outcome recorded.
    function _checkResolution(
        uint256 id,
        ResolveContext memory c,
        IDisputeModule.Outcome outcome,
        uint256 finderFee
    ) internal {
        if (token.balanceOf(address(disputes)) != c.held - c.bond) _violation("resolve: bond still held");
        if (outcome == IDisputeModule.Outcome.Rejected) {
            if (token.balanceOf(c.provider) != c.providerTokens + c.bond)
                _violation("resolve: provider not paid bond");
        } else {
            ghostChallengerTokens += c.bond + finderFee;
        }
        if (token.balanceOf(challenger) != ghostChallengerTokens) _violation("resolve: challenger tokens");
        if (outcome == IDisputeModule.Outcome.Rejected) ++challengesRejected;
        if (outcome == IDisputeModule.Outcome.TimedOut) ++challengesTimedOut;
        if (outcome == IDisputeModule.Outcome.Upheld) {
            uint256 jail = Math.max(c.jailedUntil, time + _JAIL);
            if (registry.getProvider(c.provider).jailedUntil != jail) _violation("resolve: provider not jailed");
            ++faults;
        }
        if (disputes.getDispute(id).outcome != outcome) _violation("resolve: outcome not recorded");
    }

    // ================================================================ making a job when none is at hand

    function _ensureRequested() internal returns (uint256 id) {
        id = _find(jobCount, _isAcceptable);
        if (id != 0 || !_anyProviderAble()) return id;
        Request memory r;
        r.requester = _requesters[jobCount % _requesters.length];
        r.kind = IJobCoordinator.PaymentKind(jobCount % 3);
        r.maxUnits = 1 + ((jobCount * 2_347) % (6 * _UNITS_PER_VOUCHER));
        r.cap = _maxPrice();
        r.deadline = time + 2 hours;
        id = _request(r, "requestJob (to have one)");
    }

    function _ensureAccepted() internal returns (uint256 id) {
        id = _find(jobCount, _isLiveAccepted);
        if (id != 0) return id;
        id = _ensureRequested();
        if (id == 0) return 0;
        address provider = _ableProvider(id);
        if (provider == address(0) || !_accept(id, provider, "acceptJob (to have one)")) return 0;
    }

    function _ensureSubmitted(bool inWindow) internal returns (uint256 id) {
        id = _find(jobCount, inWindow ? _isChallengeable : _isSubmitted);
        if (id == 0) id = _newSubmitted();
    }

    function _newSubmitted() internal returns (uint256 id) {
        id = _ensureAccepted();
        if (id == 0) return 0;
        uint256 units = (_jobs[id].maxUnits * 2) / 3;
        if (!_submit(id, units, 0, "submitResult (to have one)")) return 0;
    }

    function _ensureChallenged() internal returns (uint256 id) {
        id = _ensureSubmitted(true);
        if (id == 0 || !_challenge(id, "challenge (to have one)")) return 0;
    }

    /// @dev Whether some provider is eligible with free bond (jailed or under-bonded providers are not).
    function _anyProviderAble() internal view returns (bool) {
        for (uint256 i; i < _providers.length; ++i) {
            address p = _providers[i];
            if (registry.eligiblePrice(p, modelId) != 0 && registry.freeBond(p) != 0) return true;
        }
        return false;
    }

    /// @dev A provider that can accept `id` now, or zero.
    function _ableProvider(uint256 id) internal view returns (address) {
        JobGhost storage g = _jobs[id];
        uint256 n = _providers.length;
        for (uint256 i; i < n; ++i) {
            address p = _providers[(id + time + i) % n];
            if (g.provider != address(0) && g.provider != p) continue;
            uint256 price = registry.eligiblePrice(p, modelId);
            if (price == 0) continue;
            if (g.kind != IJobCoordinator.PaymentKind.Voucher && price > g.price) continue;
            uint256 collateral = _collateralFor(g, price);
            if (registry.freeBond(p) >= collateral) return p;
        }
        return address(0);
    }

    // ================================================================ checks

    /// @dev Reads the terminal reports of the call just made and checks them (see `_settleFrom`).
    function _settleCheck(
        Snap memory before,
        uint256[] memory ids,
        IJobCoordinator.JobStatus[] memory statuses,
        string memory name
    ) internal returns (uint256 finderFee) {
        return _settleFrom(before, _settlementsFrom(_VMX.getRecordedLogs()), ids, statuses, name);
    }

    /// @dev Checks that the call reported exactly `ids` ending in `statuses`, paying what the model says (whole
    ///      vouchers for the units used, or units × the provider's price), books the reports into the ghosts,
    ///      and checks every balance the reports imply moved by exactly that: refunds to requesters (vouchers,
    ///      ComputeCredit, or burned subsidy with the day's allowance restored), pay to providers (credit, or
    ///      voucher principal credited in the market less the fee), the coordinator's custody, credit and
    ///      voucher supply, collateral released, late and fault slashes (burned or to the challenger).
    ///      Returns the finder fee of a fault.
    function _settleFrom(
        Snap memory before,
        Settled[] memory reports,
        uint256[] memory ids,
        IJobCoordinator.JobStatus[] memory statuses,
        string memory name
    ) internal returns (uint256 finderFee) {
        if (reports.length != ids.length) {
            _violation(string.concat(name, ": settlement reports != jobs settled"));
            return 0;
        }
        Snap memory exp = _copy(before);
        Tally memory t = Tally(new uint256[](_providers.length), new uint256[](_providers.length), 0);
        for (uint256 i; i < reports.length; ++i) {
            if (reports[i].jobId != ids[i] || reports[i].status != statuses[i]) {
                _violation(string.concat(name, ": settled another job or status than modelled"));
                return 0;
            }
            _book(exp, t, reports[i], name);
        }
        _compare(exp, t.principal, t.redemptions, name);
        return t.finderFee;
    }

    /// @dev Books one terminal report: model check of the pay, ghosts, and the balance changes it implies.
    function _book(Snap memory exp, Tally memory t, Settled memory s, string memory name) internal {
        JobGhost storage g = _jobs[s.jobId];
        uint256 expectedPaid = s.status == IJobCoordinator.JobStatus.Finalized ? _expectedPaid(g) : 0;
        if (s.paid != expectedPaid) _violation(string.concat(name, ": paid != model"));
        bool accepted = g.status >= IJobCoordinator.JobStatus.Accepted;
        g.paid += s.paid;
        g.refunded += s.refunded;
        ++g.payouts;
        g.status = s.status;

        uint256 r = _indexOf(_requesters, g.requester);
        uint256 p = accepted ? _indexOf(_providers, g.provider) : 0;
        if (g.kind == IJobCoordinator.PaymentKind.Voucher) _bookVoucher(exp, t, s, r, p);
        else _bookCredit(exp, g, s, r, p);
        if (accepted) t.finderFee += _bookProviderEffects(exp, p, g, s);
        _checkView(s.jobId, name);
    }

    /// @dev Refund back to the requester, used vouchers burned and their principal credited (work, revenue).
    function _bookVoucher(Snap memory exp, Tally memory t, Settled memory s, uint256 r, uint256 p) internal {
        exp.reqVouchers[r] += s.refunded;
        exp.coordVouchers = _sub(exp.coordVouchers, s.paid + s.refunded, "coordinator vouchers");
        exp.voucherSupply = _sub(exp.voucherSupply, s.paid, "voucher supply");
        if (s.paid == 0) return;
        uint256 principal = s.paid * _VOUCHER_PRICE;
        t.principal[p] += principal;
        ++t.redemptions[p];
        uint256 day = time / 1 days;
        ghostWorkUsd[day] += principal * _USD_SCALE;
        ghostVoucherRevenueUsd[day] += principal * _USD_SCALE;
    }

    /// @dev Pay to the provider in credit; refund to the requester (ComputeCredit) or burned with the
    ///      allowance restored when still the funding day (DailyCredit).
    function _bookCredit(Snap memory exp, JobGhost storage g, Settled memory s, uint256 r, uint256 p) internal {
        uint256 day = time / 1 days;
        exp.coordCredit = _sub(exp.coordCredit, s.paid + s.refunded, "coordinator credit");
        exp.provCredit[p] += s.paid;
        ghostWorkUsd[day] += s.paid;
        if (g.kind == IJobCoordinator.PaymentKind.ComputeCredit) {
            exp.reqCredit[r] += s.refunded;
            return;
        }
        ghostSubsidisedWorkUsd[day] += s.paid;
        exp.creditSupply = _sub(exp.creditSupply, s.refunded, "credit supply");
        if (g.fundedDay == day) exp.reqAllowance[r] += s.refunded;
        else if (s.refunded != 0) ++crossDaySubsidyReturns;
    }

    /// @dev Collateral release and slashes of one terminal job, in the order the contracts apply them.
    function _bookProviderEffects(
        Snap memory exp,
        uint256 p,
        JobGhost storage g,
        Settled memory s
    ) internal returns (uint256 finderFee) {
        if (s.status == IJobCoordinator.JobStatus.Expired) {
            // Late: ⌈collateral × lateSlashBps⌉ (at most the bond) burned, then the collateral released.
            uint256 slashed = Math.min(
                Math.mulDiv(g.collateral, _LATE_SLASH_BPS, _BPS, Math.Rounding.Ceil),
                exp.provBond[p]
            );
            if (s.slashed != slashed) _violation("expire: late slash != model");
            _slash(exp, p, slashed, true);
            if (slashed != 0) ++lateSlashes;
            _release(exp, p, g.collateral);
        } else if (s.status == IJobCoordinator.JobStatus.Faulted) {
            // Fault: the collateral released, then faultSlashBps of the whole bond, finderFeeBps of it to the
            // challenger and the rest burned.
            _release(exp, p, g.collateral);
            uint256 total = Math.mulDiv(exp.provBond[p], _FAULT_SLASH_BPS, _BPS);
            finderFee = Math.mulDiv(total, _FINDER_FEE_BPS, _BPS);
            _slash(exp, p, finderFee, false);
            _slash(exp, p, total - finderFee, true);
        } else {
            _release(exp, p, g.collateral);
        }
    }

    function _release(Snap memory exp, uint256 p, uint256 collateral) internal {
        exp.provOpenJobs[p] = _sub(exp.provOpenJobs[p], 1, "openJobs");
        exp.provLocked[p] -= Math.min(collateral, exp.provLocked[p]);
    }

    function _slash(Snap memory exp, uint256 p, uint256 amount, bool burn) internal {
        exp.provBond[p] = _sub(exp.provBond[p], amount, "bond");
        exp.provLocked[p] = Math.min(exp.provLocked[p], exp.provBond[p]);
        exp.registryTokens = _sub(exp.registryTokens, amount, "registry tokens");
        if (burn) exp.tokenSupply = _sub(exp.tokenSupply, amount, "token supply");
        ghostSlashed[_providers[p]] += amount;
    }

    /// @dev a − b, or a violation (and 0) when the model would go negative: a handler revert would hide it.
    function _sub(uint256 a, uint256 b, string memory what) internal returns (uint256) {
        if (b <= a) return a - b;
        _violation(string.concat("model underflow: ", what));
        return 0;
    }

    function _checkRequestEffects(
        Snap memory before,
        JobGhost storage g,
        uint256 subsidyBefore,
        string memory name
    ) internal {
        Snap memory exp = _copy(before);
        uint256 r = _indexOf(_requesters, g.requester);
        if (g.kind == IJobCoordinator.PaymentKind.Voucher) {
            exp.reqVouchers[r] -= g.escrow;
            exp.coordVouchers += g.escrow;
        } else if (g.kind == IJobCoordinator.PaymentKind.ComputeCredit) {
            exp.reqCredit[r] -= g.escrow;
            exp.coordCredit += g.escrow;
        } else {
            exp.reqAllowance[r] -= g.escrow;
            exp.coordCredit += g.escrow;
            exp.creditSupply += g.escrow;
            if (engine.epochLedger(time / 1 days).subsidyMintedUsd != subsidyBefore + g.escrow)
                _violation(string.concat(name, ": subsidy not reserved"));
        }
        _compare(exp, new uint256[](_providers.length), new uint256[](_providers.length), name);
    }

    /// @dev Compares the balances now with `exp`. Voucher pay is credited in the market: per provider, its
    ///      principal less a fee of at most protocolFeeBps (rounded up per redemption), the fees to the
    ///      treasury, together exactly the principal.
    function _compare(
        Snap memory exp,
        uint256[] memory principal,
        uint256[] memory redemptions,
        string memory name
    ) internal {
        Snap memory act = _snap();
        _eqs(act.reqVouchers, exp.reqVouchers, name, "requester vouchers");
        _eqs(act.reqCredit, exp.reqCredit, name, "requester ComputeCredit");
        _eqs(act.reqAllowance, exp.reqAllowance, name, "requester DailyCredit allowance");
        _eqs(act.provCredit, exp.provCredit, name, "provider ComputeCredit");
        _eqs(act.provBond, exp.provBond, name, "provider bond");
        _eqs(act.provLocked, exp.provLocked, name, "provider locked");
        _eqs(act.provOpenJobs, exp.provOpenJobs, name, "provider openJobs");
        _eq(act.coordVouchers, exp.coordVouchers, name, "coordinator vouchers");
        _eq(act.coordCredit, exp.coordCredit, name, "coordinator ComputeCredit");
        _eq(act.creditSupply, exp.creditSupply, name, "ComputeCredit supply");
        _eq(act.voucherSupply, exp.voucherSupply, name, "voucher supply");
        _eq(act.tokenSupply, exp.tokenSupply, name, "token supply");
        _eq(act.registryTokens, exp.registryTokens, name, "registry tokens");
        uint256 credited = act.treasuryOwed - exp.treasuryOwed;
        uint256 total;
        uint256 feeBps = market.protocolFeeBps();
        for (uint256 p; p < principal.length; ++p) {
            uint256 got = act.provOwed[p] - exp.provOwed[p];
            credited += got;
            total += principal[p];
            if (got > principal[p] || got + redemptions[p] < (principal[p] * (_BPS - feeBps)) / _BPS)
                _violation(string.concat(name, ": provider voucher pay outside principal less fee"));
        }
        if (credited != total) _violation(string.concat(name, ": voucher principal credited != redeemed"));
    }

    /// @dev The job's view agrees with the model.
    function _checkView(uint256 id, string memory name) internal {
        JobGhost storage g = _jobs[id];
        IJobCoordinator.JobView memory v = coordinator.getJob(id);
        bool credit = g.kind != IJobCoordinator.PaymentKind.Voucher;
        string memory what = string.concat(name, ": job ", vm.toString(id), " view");
        _eq(uint8(v.status), uint8(g.status), what, "status");
        _eq(uint8(v.kind), uint8(g.kind), what, "kind");
        _eq(uint160(v.requester), uint160(g.requester), what, "requester");
        _eq(uint160(v.provider), uint160(g.provider), what, "provider");
        _eq(uint256(v.modelId), uint256(modelId), what, "modelId");
        _eq(uint256(v.inputHash), uint256(g.inputHash), what, "inputHash");
        _eq(v.classId, credit ? 0 : classId, what, "classId");
        _eq(v.maxUnits, g.maxUnits, what, "maxUnits");
        _eq(v.deadline, g.deadline, what, "deadline");
        _eq(v.escrow, g.escrow, what, "escrow");
        _eq(v.unitsUsed, g.unitsUsed, what, "unitsUsed");
        _eq(v.challengeEnds, g.challengeEnds, what, "challengeEnds");
        _eq(v.collateral, g.collateral, what, "collateral");
        _eq(v.pricePerUnit, credit ? g.price : 0, what, "pricePerUnit");
        _eq(v.fundedDay, g.fundedDay, what, "fundedDay");
    }

    function _checkSkipReasons(VmJobs.Log[] memory logs, uint256[] memory ids, uint8[] memory reasons) internal {
        uint256 n;
        for (uint256 i; i < logs.length; ++i) {
            VmJobs.Log memory l = logs[i];
            if (l.emitter != address(coordinator) || l.topics[0] != IJobCoordinator.JobSkipped.selector) continue;
            if (
                n >= ids.length ||
                uint256(l.topics[1]) != ids[n] ||
                abi.decode(l.data, (IJobCoordinator.SkipReason)) != IJobCoordinator.SkipReason(reasons[n])
            ) _violation("finalizeBatch: skip report != model");
            ++n;
        }
        if (n != ids.length) _violation("finalizeBatch: skip reports != skipped ids");
    }

    // ================================================================ batch model

    /// @dev What a keeper sends: every submitted job (up to 6), the first one again and an unknown id.
    function _keeperBatch() internal view returns (uint256[] memory ids) {
        ids = new uint256[](8);
        uint256 n;
        for (uint256 id = 1; id <= jobCount && n < 6; ++id) if (_isSubmitted(id)) ids[n++] = id;
        ids[n++] = ids[0];
        ids[n++] = jobCount + 1;
        assembly ("memory-safe") {
            mstore(ids, n)
        }
    }

    function _batchIds(uint256 seed, uint256 n) internal view returns (uint256[] memory ids) {
        ids = new uint256[](n);
        for (uint256 i; i < n; ++i) {
            uint256 r = uint256(keccak256(abi.encode(seed, i)));
            uint256 mode = r % 8;
            if (mode == 0) ids[i] = 0;
            else if (mode == 1) ids[i] = jobCount + 1;
            else if (mode == 2 && i != 0) ids[i] = ids[i - 1];
            else if (mode <= 6) ids[i] = _find(r >> 8, _isSubmitted);
            if (ids[i] == 0 && mode > 1 && jobCount != 0) ids[i] = ((r >> 16) % jobCount) + 1;
        }
    }

    function _predictBatch(uint256[] memory ids) internal view returns (BatchModel memory m) {
        m.settle = new uint256[](ids.length);
        m.skip = new uint256[](ids.length);
        m.reasons = new uint8[](ids.length);
        uint256 settled;
        uint256 skipped;
        for (uint256 i; i < ids.length; ++i) {
            uint256 id = ids[i];
            bool already;
            for (uint256 j; j < settled; ++j) already = already || m.settle[j] == id;
            IJobCoordinator.JobStatus s = already ? IJobCoordinator.JobStatus.Finalized : _jobs[id].status;
            if (s == IJobCoordinator.JobStatus.Submitted && time >= _jobs[id].challengeEnds) {
                m.settle[settled++] = id;
                continue;
            }
            m.skip[skipped] = id;
            m.reasons[skipped++] = uint8(
                s == IJobCoordinator.JobStatus.Submitted
                    ? IJobCoordinator.SkipReason.WindowOpen
                    : s == IJobCoordinator.JobStatus.Challenged
                        ? IJobCoordinator.SkipReason.Challenged
                        : IJobCoordinator.SkipReason.NotSubmitted
            );
        }
        uint256[] memory settle = m.settle;
        uint256[] memory skip = m.skip;
        uint8[] memory reasons = m.reasons;
        assembly ("memory-safe") {
            mstore(settle, settled)
            mstore(skip, skipped)
            mstore(reasons, skipped)
        }
    }

    // ================================================================ helpers

    /// @dev Fits a DailyCredit job in the requester's allowance and the day's subsidy budget (or, for
    ///      `overAllowance`, makes it one unit too large for them); buys vouchers when the requester is short.
    function _fitPayment(Request memory r) internal returns (uint256 escrow) {
        if (r.kind == IJobCoordinator.PaymentKind.DailyCredit) {
            uint256 room = Math.min(dailyCredit.dailyAllowance(r.requester), engine.subsidyRemaining());
            if (r.overAllowance) {
                r.maxUnits = room / r.cap + 1;
            } else if (r.maxUnits * r.cap > room) {
                r.maxUnits = room / r.cap;
                if (r.maxUnits == 0) {
                    r.kind = IJobCoordinator.PaymentKind.ComputeCredit;
                    r.maxUnits = 1;
                }
            }
        }
        if (r.kind == IJobCoordinator.PaymentKind.Voucher) {
            escrow = Math.ceilDiv(r.maxUnits, _UNITS_PER_VOUCHER);
            if (market.balanceOf(r.requester, classId) < escrow) {
                usdc.mint(r.requester, 200 * _VOUCHER_PRICE);
                vm.prank(r.requester);
                market.buy(classId, 150, type(uint256).max, r.requester);
            }
        } else {
            escrow = r.maxUnits * r.cap;
        }
    }

    /// @dev The provider's attestation of a result, or (`wrongKey`) one by another provider's signer.
    function _sign(
        uint256 id,
        bytes32 outputHash,
        uint256 units,
        bool wrongKey
    ) internal view returns (bytes memory) {
        bytes32 digest = _resultDigest(id, _jobs[id].inputHash, outputHash, units);
        uint256 index = _indexOf(_providers, _jobs[id].provider);
        if (wrongKey) index = (index + 1) % _signerKeys.length;
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(_signerKeys[index], digest);
        return abi.encodePacked(r, s, v);
    }

    function _resultDigest(
        uint256 id,
        bytes32 inputHash,
        bytes32 outputHash,
        uint256 units
    ) internal view returns (bytes32) {
        bytes32 domain = keccak256(
            abi.encode(
                _DOMAIN_TYPEHASH,
                keccak256("Cinder JobCoordinator"),
                keccak256("1"),
                block.chainid,
                address(coordinator)
            )
        );
        bytes32 structHash = keccak256(abi.encode(_RESULT_TYPEHASH, id, modelId, inputHash, outputHash, units));
        return keccak256(abi.encodePacked("\x19\x01", domain, structHash));
    }

    /// @dev Bond locked at acceptance: collateralPerUsd per USD at stake, rounded up; at stake is the escrowed
    ///      vouchers' value (voucher jobs) or maxUnits at the provider's price (credit jobs).
    function _collateralFor(JobGhost storage g, uint256 price) internal view returns (uint256) {
        uint256 value =
            g.kind == IJobCoordinator.PaymentKind.Voucher
                ? g.escrow * _VOUCHER_PRICE * _USD_SCALE
                : g.maxUnits * price;
        return Math.mulDiv(value, _COLLATERAL_PER_USD, 1e18, Math.Rounding.Ceil);
    }

    function _expectedPaid(JobGhost storage g) internal view returns (uint256) {
        if (g.kind == IJobCoordinator.PaymentKind.Voucher) return Math.ceilDiv(g.unitsUsed, _UNITS_PER_VOUCHER);
        return g.unitsUsed * g.price;
    }

    function _snap() internal view returns (Snap memory s) {
        uint256 nr = _requesters.length;
        uint256 np = _providers.length;
        s.reqVouchers = new uint256[](nr);
        s.reqCredit = new uint256[](nr);
        s.reqAllowance = new uint256[](nr);
        for (uint256 i; i < nr; ++i) {
            address a = _requesters[i];
            s.reqVouchers[i] = market.balanceOf(a, classId);
            s.reqCredit[i] = computeCredit.balanceOf(a);
            s.reqAllowance[i] = dailyCredit.dailyAllowance(a);
        }
        s.provCredit = new uint256[](np);
        s.provOwed = new uint256[](np);
        s.provBond = new uint256[](np);
        s.provLocked = new uint256[](np);
        s.provOpenJobs = new uint256[](np);
        for (uint256 i; i < np; ++i) {
            address a = _providers[i];
            IProviderRegistry.ProviderRecord memory p = registry.getProvider(a);
            s.provCredit[i] = computeCredit.balanceOf(a);
            s.provOwed[i] = market.owed(a, usdc);
            s.provBond[i] = p.bond;
            s.provLocked[i] = p.locked;
            s.provOpenJobs[i] = p.openJobs;
        }
        s.treasuryOwed = market.owed(treasury, usdc);
        s.coordVouchers = market.balanceOf(address(coordinator), classId);
        s.coordCredit = computeCredit.balanceOf(address(coordinator));
        s.creditSupply = computeCredit.totalSupply();
        s.voucherSupply = market.totalSupply(classId);
        s.tokenSupply = token.totalSupply();
        s.registryTokens = token.balanceOf(address(registry));
    }

    function _copy(Snap memory s) internal pure returns (Snap memory c) {
        c = Snap({
            reqVouchers: _dup(s.reqVouchers),
            reqCredit: _dup(s.reqCredit),
            reqAllowance: _dup(s.reqAllowance),
            provCredit: _dup(s.provCredit),
            provOwed: _dup(s.provOwed),
            provBond: _dup(s.provBond),
            provLocked: _dup(s.provLocked),
            provOpenJobs: _dup(s.provOpenJobs),
            treasuryOwed: s.treasuryOwed,
            coordVouchers: s.coordVouchers,
            coordCredit: s.coordCredit,
            creditSupply: s.creditSupply,
            voucherSupply: s.voucherSupply,
            tokenSupply: s.tokenSupply,
            registryTokens: s.registryTokens
        });
    }

    function _dup(uint256[] memory a) internal pure returns (uint256[] memory b) {
        b = new uint256[](a.length);
        for (uint256 i; i < a.length; ++i) b[i] = a[i];
    }

    function _eq(uint256 actual, uint256 expected, string memory name, string memory what) internal {
        if (actual != expected) {
            string memory message = string.concat(
                name,
                ": ",
                what,
                " ",
                vm.toString(actual),
                " != model ",
                vm.toString(expected)
            );
            console.log(message);
            _violation(message);
        }
    }

    function _eqs(
        uint256[] memory actual,
        uint256[] memory expected,
        string memory name,
        string memory what
    ) internal {
        for (uint256 i; i < actual.length; ++i) _eq(actual[i], expected[i], name, what);
    }

    /// @dev Calls `target` as `caller`: whether it succeeded, and its return or revert data.
    function _call(
        address caller,
        address target,
        bytes memory data
    ) internal returns (bool ok, bytes memory ret) {
        vm.prank(caller);
        (ok, ret) = target.call(data);
    }

    function _startLogs() internal {
        _VMX.recordLogs();
        _VMX.getRecordedLogs(); // drop anything recorded before this call
    }

    function _settlementsFrom(VmJobs.Log[] memory logs) internal view returns (Settled[] memory out) {
        out = new Settled[](logs.length);
        uint256 n;
        for (uint256 i; i < logs.length; ++i) {
            VmJobs.Log memory l = logs[i];
            if (l.emitter != address(coordinator)) continue;
            bytes32 topic = l.topics[0];
            Settled memory s;
            if (topic == IJobCoordinator.JobFinalized.selector) {
                s.status = IJobCoordinator.JobStatus.Finalized;
                (s.paid, s.refunded) = abi.decode(l.data, (uint256, uint256));
            } else if (topic == IJobCoordinator.JobCancelled.selector) {
                s.status = IJobCoordinator.JobStatus.Cancelled;
                s.refunded = abi.decode(l.data, (uint256));
            } else if (topic == IJobCoordinator.JobExpired.selector) {
                s.status = IJobCoordinator.JobStatus.Expired;
                (s.refunded, s.slashed) = abi.decode(l.data, (uint256, uint256));
            } else if (topic == IJobCoordinator.JobFaulted.selector) {
                s.status = IJobCoordinator.JobStatus.Faulted;
                s.refunded = abi.decode(l.data, (uint256));
            } else {
                continue;
            }
            s.jobId = uint256(l.topics[1]);
            out[n++] = s;
        }
        assembly ("memory-safe") {
            mstore(out, n)
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

    /// @dev The name of an error the handler predicts, for the call summary.
    function _errorName(bytes4 selector) internal pure returns (string memory) {
        if (selector == IJobCoordinator.ProviderNotEligible.selector) return "ProviderNotEligible";
        if (selector == IJobCoordinator.DeadlinePassed.selector) return "DeadlinePassed";
        if (selector == IJobCoordinator.PriceAboveCap.selector) return "PriceAboveCap";
        if (selector == IJobCoordinator.NotJobParty.selector) return "NotJobParty";
        if (selector == IJobCoordinator.InvalidAttestation.selector) return "InvalidAttestation";
        if (selector == IProviderRegistry.InsufficientFreeBond.selector) return "InsufficientFreeBond";
        if (selector == IDailyCredit.InsufficientDailyAllowance.selector) return "InsufficientDailyAllowance";
        if (selector == IBurnMintEngine.SubsidyBudgetExceeded.selector) return "SubsidyBudgetExceeded";
        return "unpredicted";
    }

    function _unexpected(string memory name, bytes memory reason) internal {
        _violation(string.concat(name, ": unexpected revert ", _VMX.toString(reason)));
    }

    function _warpTo(uint256 t) internal {
        if (t <= time) return;
        time = t;
        vm.warp(t);
        _touchEpoch();
    }

    function _touchEpoch() internal {
        uint256 epoch = time / 1 days;
        if (!_epochSeen[epoch]) {
            _epochSeen[epoch] = true;
            _epochs.push(epoch);
        }
    }

    function _find(
        uint256 seed,
        function(uint256) internal view returns (bool) ok
    ) internal view returns (uint256) {
        uint256 n = jobCount;
        for (uint256 i; i < n; ++i) {
            uint256 id = (((seed % n) + i) % n) + 1;
            if (ok(id)) return id;
        }
        return 0;
    }

    /// @dev A choice among `n` from a fuzzed seed, hashed so the fuzzer's favourite edge values (0, max) do
    ///         not all pick the same branch.
    function _mode(uint256 seed, uint256 n) internal pure returns (uint256) {
        return uint256(keccak256(abi.encode(seed))) % n;
    }

    function _count(function(uint256) internal view returns (bool) ok) internal view returns (uint256 count) {
        for (uint256 id = 1; id <= jobCount; ++id) if (ok(id)) ++count;
    }

    function _isEnded(uint256 id) internal view returns (bool) {
        return _jobs[id].status >= IJobCoordinator.JobStatus.Finalized;
    }

    function _isRequested(uint256 id) internal view returns (bool) {
        return _jobs[id].status == IJobCoordinator.JobStatus.Requested;
    }

    function _isAcceptable(uint256 id) internal view returns (bool) {
        return _isRequested(id) && time < _jobs[id].deadline && _ableProvider(id) != address(0);
    }

    function _isAccepted(uint256 id) internal view returns (bool) {
        return _jobs[id].status == IJobCoordinator.JobStatus.Accepted;
    }

    function _isLiveAccepted(uint256 id) internal view returns (bool) {
        return _isAccepted(id) && time < _jobs[id].deadline;
    }

    function _isExpirable(uint256 id) internal view returns (bool) {
        return _isRequested(id) || _isAccepted(id);
    }

    function _isSubmitted(uint256 id) internal view returns (bool) {
        return _jobs[id].status == IJobCoordinator.JobStatus.Submitted;
    }

    function _isChallengeable(uint256 id) internal view returns (bool) {
        return _isSubmitted(id) && time < _jobs[id].challengeEnds;
    }

    function _isSubmittedLate(uint256 id) internal view returns (bool) {
        return _isSubmitted(id) && time >= _jobs[id].challengeEnds;
    }

    function _isChallenged(uint256 id) internal view returns (bool) {
        return _jobs[id].status == IJobCoordinator.JobStatus.Challenged;
    }

    function _isUnvotedChallenge(uint256 id) internal view returns (bool) {
        return _isChallenged(id) && !_jobs[id].voted;
    }

    function _isNotChallenged(uint256 id) internal view returns (bool) {
        return !_isChallenged(id);
    }

    function _indexOf(address[] storage list, address a) internal view returns (uint256) {
        for (uint256 i; i < list.length; ++i) if (list[i] == a) return i;
        revert("JobsHandler: unknown actor");
    }

    function _owedAccount(uint256 i) internal view returns (address) {
        return i < _providers.length ? _providers[i] : treasury;
    }

    function _mostExpensiveProvider() internal view returns (address provider) {
        uint256 price;
        for (uint256 i; i < _providers.length; ++i) {
            uint256 p = registry.priceOf(_providers[i], modelId);
            if (p > price) (price, provider) = (p, _providers[i]);
        }
    }

    function _maxPrice() internal view returns (uint256 price) {
        for (uint256 i; i < _providers.length; ++i)
            price = Math.max(price, registry.priceOf(_providers[i], modelId));
    }

    function _minPrice() internal view returns (uint256 price) {
        price = type(uint256).max;
        for (uint256 i; i < _providers.length; ++i)
            price = Math.min(price, registry.priceOf(_providers[i], modelId));
    }

    /// @dev 1 unit, one voucher's worth, six vouchers' worth, or anything between.
    function _boundUnits(uint256 seed) internal view returns (uint256) {
        uint256 mode = _mode(seed, 8);
        if (mode == 0) return 1;
        if (mode == 1) return _UNITS_PER_VOUCHER;
        if (mode == 2) return 6 * _UNITS_PER_VOUCHER;
        return bound(seed >> 8, 1, 6 * _UNITS_PER_VOUCHER);
    }

    /// @dev 0, all, exactly one voucher's worth, one unit past a whole voucher, or anything up to `max`.
    function _boundUsed(uint256 seed, uint256 max) internal view returns (uint256) {
        uint256 mode = _mode(seed, 6);
        if (mode == 0) return 0;
        if (mode == 1) return max;
        if (mode == 2) return Math.min(max, _UNITS_PER_VOUCHER);
        if (mode == 3) return Math.min(max, max - (max % _UNITS_PER_VOUCHER) + 1);
        return bound(seed >> 8, 0, max);
    }

    /// @dev A provider's price, half the lowest price (no provider can take the job), or a random cap.
    function _boundCap(uint256 seed) internal view returns (uint256) {
        uint256 mode = _mode(seed, _providers.length + 2);
        if (mode < _providers.length) return registry.priceOf(_providers[mode], modelId);
        if (mode == _providers.length) return _minPrice() / 2;
        return bound(seed >> 8, _minPrice() / 2, (_maxPrice() * 4) / 3);
    }

    /// @dev Minutes, hours, or up to the longest job.
    function _boundDuration(uint256 seed) internal view returns (uint256) {
        uint256 mode = _mode(seed, 4);
        if (mode == 0) return bound(seed >> 8, _MIN_JOB, 59 minutes);
        if (mode == 3) return bound(seed >> 8, 6 hours, _MAX_JOB);
        return bound(seed >> 8, 1 hours, 6 hours);
    }
}

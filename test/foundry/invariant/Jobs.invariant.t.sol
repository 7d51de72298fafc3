// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Test} from "../utils/Test.sol";
import {JobsHandler} from "./handlers/JobsHandler.sol";
import {ProtocolToken} from "../../../contracts/ProtocolToken.sol";
import {StakingVault} from "../../../contracts/StakingVault.sol";
import {DailyCredit} from "../../../contracts/DailyCredit.sol";
import {ComputeCredit} from "../../../contracts/ComputeCredit.sol";
import {FixedPriceOracle} from "../../../contracts/oracles/FixedPriceOracle.sol";
import {BurnMintEngine} from "../../../contracts/BurnMintEngine.sol";
import {ModelRegistry} from "../../../contracts/ModelRegistry.sol";
import {ProviderRegistry} from "../../../contracts/ProviderRegistry.sol";
import {VoucherMarket} from "../../../contracts/VoucherMarket.sol";
import {JobCoordinator} from "../../../contracts/JobCoordinator.sol";
import {DisputeModule} from "../../../contracts/DisputeModule.sol";
import {ArbiterCommitteeVerifier} from "../../../contracts/verifiers/ArbiterCommitteeVerifier.sol";
import {MockStablecoin} from "../../../contracts/mocks/MockStablecoin.sol";
import {MintRateCurve} from "../../../contracts/libraries/MintRateCurve.sol";
import {IBurnMintEngine} from "../../../contracts/interfaces/IBurnMintEngine.sol";
import {IStakingVault} from "../../../contracts/interfaces/IStakingVault.sol";
import {IPriceOracle} from "../../../contracts/interfaces/IPriceOracle.sol";
import {IProtocolToken} from "../../../contracts/interfaces/IProtocolToken.sol";
import {IModelRegistry} from "../../../contracts/interfaces/IModelRegistry.sol";
import {IProviderRegistry} from "../../../contracts/interfaces/IProviderRegistry.sol";
import {IJobCoordinator} from "../../../contracts/interfaces/IJobCoordinator.sol";
import {IDisputeModule} from "../../../contracts/interfaces/IDisputeModule.sol";

/// @notice The job stack deployed as deploy/modules/CinderJobs.ts (on CinderMarket, CinderEconomy, CinderCore) does
///         it, same constructor arguments and role wiring, with the test contract as admin and a separate treasury
///         holding the initial token supply. Parameters are the module defaults except where a default would leave
///         a path unvisited within an invariant run:
///         - 100 tokens of collateral per USD at stake (default 1): a six-voucher job locks 600 tokens, a credit
///           job up to 1 800, so the 2 000-token provider runs out of free bond (InsufficientFreeBond) and a fault
///           slash cuts `locked`;
///         - a 1-day jail (default 30 days, the minimum is 1 day): a faulted provider comes back within a run;
///         - a $60 daily subsidy budget (default $1 000), below the first requester's $100 daily allowance and
///           above the others' $40 and $10 (100, 40 and 10 DailyCredit), so both the budget
///           (SubsidyBudgetExceeded) and an allowance (InsufficientDailyAllowance) run out.
abstract contract JobsFixture is Test {
    uint256 internal constant START = 1_767_225_600 + 13 hours; // 2026-01-01 13:00 UTC
    uint256 internal constant WAD = 1e18;
    uint256 internal constant USDC = 1e6;
    bytes32 internal constant MODEL = keccak256("stories260K");
    uint256 internal constant UNITS_PER_VOUCHER = 1_000;
    uint256 internal constant MIN_BOND = 1_000e18;
    uint256 internal constant SUBSIDY_BUDGET = 60e18;

    ProtocolToken internal token;
    StakingVault internal vault;
    DailyCredit internal dailyCredit;
    ComputeCredit internal computeCredit;
    FixedPriceOracle internal oracle;
    BurnMintEngine internal engine;
    ModelRegistry internal models;
    ProviderRegistry internal registry;
    VoucherMarket internal market;
    JobCoordinator internal coordinator;
    ArbiterCommitteeVerifier internal verifier;
    DisputeModule internal disputes;
    MockStablecoin internal usdc;

    address internal treasury;
    uint256 internal classId;

    address[3] internal providers;
    uint256[3] internal signerKeys; // providers[i] attests with signerKeys[i]
    address[3] internal requesters;
    address internal challenger;
    address internal arbiter;
    address internal keeper;

    /// @dev The whole stack (CinderJobs on CinderMarket, CinderEconomy, CinderCore), a model and a voucher class,
    ///      three providers, three funded requesters, a funded challenger and an arbiter.
    function _deployFixture() internal {
        vm.warp(START);
        treasury = makeAddr("treasury");
        _deployCore();
        _deployEconomy();
        _deployMarket();
        _deployJobs();

        usdc = new MockStablecoin("USD Coin", "USDC", 6);
        models.registerModel(MODEL, keccak256("stories260K.gguf"), "stories260K", "", "1 token");
        // 1 000 units of MODEL for 1 USDC, 3 % premium, perpetual, uncapped.
        classId = market.createClass(MODEL, usdc, UNITS_PER_VOUCHER, USDC, 300, 0, 0);

        uint256[3] memory bonds = [uint256(20_000e18), 10_000e18, 2_000e18];
        uint256[3] memory prices = [uint256(WAD / 1_000), (2 * WAD) / 1_000, (3 * WAD) / 1_000];
        for (uint256 i; i < 3; ++i) {
            providers[i] = makeAddr(string.concat("provider", vm.toString(i)));
            signerKeys[i] = uint256(keccak256(abi.encode("signer", i)));
            _registerProvider(providers[i], vm.addr(signerKeys[i]), bonds[i], prices[i]);
        }
        uint256[3] memory dailyCredits = [uint256(100e18), 40e18, 10e18];
        for (uint256 i; i < 3; ++i) {
            requesters[i] = makeAddr(string.concat("requester", vm.toString(i)));
            _fundRequester(requesters[i], dailyCredits[i]);
        }
        challenger = makeAddr("challenger");
        arbiter = makeAddr("arbiter");
        keeper = makeAddr("keeper");
        _give(challenger, 100_000e18);
        vm.prank(challenger);
        token.approve(address(disputes), type(uint256).max);
        verifier.grantRole(verifier.ARBITER_ROLE(), arbiter);
    }

    // ================================================================ fixture

    /// @dev CinderCore: token (initial supply to the treasury), vault, DailyCredit with the vault's LOCKER_ROLE.
    function _deployCore() internal {
        token = new ProtocolToken("Cinder", "CNDR", 100_000_000e18, 1_000_000_000e18, treasury, address(this));
        vault = new StakingVault(token, address(this), 7 days, 1 days);
        dailyCredit = new DailyCredit(
            "Cinder Daily Credit",
            "DCR",
            IStakingVault(address(vault)),
            address(this),
            1e18,
            MintRateCurve.Params(90e18, 2e18, 38_000e18)
        );
        vault.grantRole(vault.LOCKER_ROLE(), address(dailyCredit));
    }

    /// @dev CinderEconomy: ComputeCredit, a $2 FixedPriceOracle, the engine with MINTER, REWARDER and ENGINE roles.
    function _deployEconomy() internal {
        computeCredit = new ComputeCredit("Cinder Compute Credit", "CCR", address(this));
        oracle = new FixedPriceOracle(address(this), 2 * WAD, WAD / 1_000, 1_000 * WAD);
        engine = new BurnMintEngine(
            IProtocolToken(address(token)),
            computeCredit,
            IStakingVault(address(vault)),
            IPriceOracle(address(oracle)),
            treasury,
            address(this),
            IBurnMintEngine.Config({
                mintSpreadBps: 25,
                epochMintCap: 1_000_000e18,
                emissionPerEpoch: 50_000e18,
                halvingEpochs: 365,
                stakerShareBps: 5_000,
                subsidyBudgetUsd: SUBSIDY_BUDGET
            })
        );
        token.grantRole(token.MINTER_ROLE(), address(engine));
        vault.grantRole(vault.REWARDER_ROLE(), address(engine));
        computeCredit.grantRole(computeCredit.ENGINE_ROLE(), address(engine));
    }

    /// @dev CinderMarket: ModelRegistry, ProviderRegistry (1 000-token minimum bond, 7-day unbonding),
    ///      VoucherMarket (1 % fee) with the engine's REPORTER_ROLE.
    function _deployMarket() internal {
        models = new ModelRegistry(address(this));
        registry = new ProviderRegistry(
            IProtocolToken(address(token)),
            IModelRegistry(address(models)),
            address(this),
            MIN_BOND,
            7 days
        );
        market = new VoucherMarket(
            "https://cinder.example/vouchers/{id}.json",
            engine,
            treasury,
            address(this),
            100
        );
        engine.grantRole(engine.REPORTER_ROLE(), address(market));
    }

    /// @dev CinderJobs: coordinator, verifier (threshold 1), dispute module, and every role they need.
    function _deployJobs() internal {
        coordinator = new JobCoordinator(
            registry,
            market,
            dailyCredit,
            computeCredit,
            engine,
            address(this),
            JobCoordinator.Config({
                challengeWindow: 1 hours,
                minJobDuration: 60,
                maxJobDuration: 1 days,
                collateralPerUsd: 100 * WAD,
                lateSlashBps: 1_000
            })
        );
        verifier = new ArbiterCommitteeVerifier(coordinator, address(this), 1);
        disputes = new DisputeModule(
            coordinator,
            registry,
            verifier,
            address(this),
            DisputeModule.Config({
                challengeBond: 100e18,
                disputeTimeout: 1 days,
                faultSlashBps: 1_000,
                finderFeeBps: 5_000,
                jailDuration: 1 days
            })
        );
        registry.grantRole(registry.COORDINATOR_ROLE(), address(coordinator));
        registry.grantRole(registry.SLASHER_ROLE(), address(coordinator));
        registry.grantRole(registry.SLASHER_ROLE(), address(disputes));
        market.grantRole(market.REDEEMER_ROLE(), address(coordinator));
        dailyCredit.grantRole(dailyCredit.SPENDER_ROLE(), address(coordinator));
        computeCredit.grantRole(computeCredit.PROTOCOL_ROLE(), address(coordinator));
        engine.grantRole(engine.COORDINATOR_ROLE(), address(coordinator));
        coordinator.setDisputeModule(address(disputes));
        registry.setSlashingWindowSource(address(coordinator));
    }

    function _registerProvider(address provider, address signer, uint256 bond, uint256 price) internal {
        _give(provider, 100_000e18);
        bytes32[] memory ids = new bytes32[](1);
        ids[0] = MODEL;
        uint256[] memory prices = new uint256[](1);
        prices[0] = price;
        vm.startPrank(provider);
        token.approve(address(registry), type(uint256).max);
        registry.register(bond, "https://provider.example", signer, ids, prices);
        vm.stopPrank();
    }

    /// @dev 100 vouchers, `dailyCredits` DailyCredit (that many USD a day) and about $19 950 of ComputeCredit,
    ///      all approved.
    function _fundRequester(address requester, uint256 dailyCredits) internal {
        _give(requester, 1_000_000e18);
        usdc.mint(requester, 1_000 * USDC);
        vm.startPrank(requester);
        usdc.approve(address(market), type(uint256).max);
        market.buy(classId, 100, type(uint256).max, requester);
        market.setApprovalForAll(address(coordinator), true);
        token.approve(address(vault), type(uint256).max);
        vault.stake(500_000e18);
        dailyCredit.mint(dailyCredits, type(uint256).max);
        token.approve(address(engine), type(uint256).max);
        engine.mintCredits(10_000e18, 0, requester);
        computeCredit.approve(address(coordinator), type(uint256).max);
        vm.stopPrank();
    }

    /// @dev Protocol tokens from the treasury (which holds the initial supply).
    function _give(address to, uint256 amount) internal {
        vm.prank(treasury);
        vm.assertTrue(token.transfer(to, amount), "treasury transfer");
    }

    function _open(IJobCoordinator.JobStatus s) internal pure returns (bool) {
        return s >= IJobCoordinator.JobStatus.Requested && s <= IJobCoordinator.JobStatus.Challenged;
    }

    function _ended(IJobCoordinator.JobStatus s) internal pure returns (bool) {
        return s >= IJobCoordinator.JobStatus.Finalized;
    }

    function _msg(uint256 id, string memory what) internal pure returns (string memory) {
        return string.concat("job ", _str(id), ": ", what);
    }

    function _str(uint256 v) internal pure returns (string memory) {
        return vm.toString(v);
    }
}

/// @notice Invariants of the job lifecycle (DESIGN.md: escrow = payout + refund, one payout per job, bonds back
///         every slash, custody equals open escrow) under random sequences of every job action on JobsFixture's
///         stack: requests of each payment kind (open and direct), acceptances, attested submissions, finalize
///         and finalizeBatch, expiry, cancellation, challenges, arbiter votes, dispute resolution, replays on
///         ended jobs, voucher-earning withdrawals and time passing by minutes to days.
/// @dev The handler checks every call against a model (violations), the invariants below check the state. Each
///      run is long enough (see the inline config) that every main action takes effect in it, which
///      `afterInvariant` asserts.
/// forge-config: default.invariant.runs = 16
/// forge-config: default.invariant.depth = 80
/// forge-config: default.invariant.show-metrics = true
/// forge-config: deep.invariant.runs = 500
/// forge-config: deep.invariant.depth = 150
contract JobsInvariantTest is JobsFixture {
    /// @dev Runs at least this long must see every main action take effect (the default depth is 80).
    uint256 internal constant MIN_CALLS = 60;

    JobsHandler internal handler;

    function setUp() public {
        _deployFixture();
        JobsHandler.Actors memory a;
        a.providers = new address[](3);
        a.signerKeys = new uint256[](3);
        a.requesters = new address[](3);
        for (uint256 i; i < 3; ++i) {
            a.providers[i] = providers[i];
            a.signerKeys[i] = signerKeys[i];
            a.requesters[i] = requesters[i];
        }
        a.challenger = challenger;
        a.arbiter = arbiter;
        a.keeper = keeper;
        handler = new JobsHandler(
            JobsHandler.Deployment({
                token: token,
                dailyCredit: dailyCredit,
                computeCredit: computeCredit,
                engine: engine,
                registry: registry,
                market: market,
                usdc: usdc,
                coordinator: coordinator,
                disputes: disputes,
                verifier: verifier,
                modelId: MODEL,
                classId: classId,
                treasury: treasury
            }),
            a
        );

        // Weights: four for each action every run must see take effect (see afterInvariant), which make the job
        // they need when none is at hand; two for the three that feed them and for time; one for the rest.
        bytes4[13] memory actions = [
            JobsHandler.finalize.selector,
            JobsHandler.finalizeBatch.selector,
            JobsHandler.expire.selector,
            JobsHandler.challenge.selector,
            JobsHandler.resolve.selector,
            JobsHandler.requestJob.selector,
            JobsHandler.acceptJob.selector,
            JobsHandler.submitResult.selector,
            JobsHandler.warp.selector,
            JobsHandler.cancel.selector,
            JobsHandler.vote.selector,
            JobsHandler.withdrawOwed.selector,
            JobsHandler.replayEnded.selector
        ];
        uint8[13] memory weights = [4, 4, 4, 4, 4, 2, 2, 2, 2, 1, 1, 1, 1];
        bytes4[] memory selectors = new bytes4[](32);
        uint256 k;
        for (uint256 i; i < actions.length; ++i) {
            for (uint256 w; w < weights[i]; ++w) selectors[k++] = actions[i];
        }
        targetSelector(FuzzSelector(address(handler), selectors));
        targetContract(address(handler));
    }

    // ================================================================ invariants

    /// @notice Every job's escrow equals what was paid out plus what was refunded once it has ended, and nothing
    ///         has left it while it is open; the coordinator's view of the escrow is what was taken at request
    ///         (vouchers for voucher jobs, USD for credit jobs).
    function invariant_escrowIsPayoutPlusRefund() public view {
        uint256 n = handler.jobCount();
        for (uint256 id = 1; id <= n; ++id) {
            JobsHandler.JobGhost memory g = handler.ghost(id);
            vm.assertEq(coordinator.getJob(id).escrow, g.escrow, _msg(id, "escrow view != escrow taken"));
            if (_ended(g.status)) {
                vm.assertEq(g.paid + g.refunded, g.escrow, _msg(id, "paid + refunded != escrow"));
            } else {
                vm.assertEq(g.paid + g.refunded, 0, _msg(id, "value left an open job"));
            }
        }
    }

    /// @notice A job pays out at most once: one terminal report per ended job, none for an open one, and the
    ///         coordinator's status is the model's (so a terminal status never changes again).
    function invariant_jobPaysOutAtMostOnce() public view {
        uint256 n = handler.jobCount();
        vm.assertEq(coordinator.jobCount(), n, "jobCount != jobs requested");
        for (uint256 id = 1; id <= n; ++id) {
            JobsHandler.JobGhost memory g = handler.ghost(id);
            vm.assertLe(g.payouts, 1, _msg(id, "paid out more than once"));
            vm.assertEq(g.payouts, _ended(g.status) ? 1 : 0, _msg(id, "payouts != ended"));
            vm.assertEq(uint8(coordinator.getJob(id).status), uint8(g.status), _msg(id, "status != model"));
        }
    }

    /// @notice Bonds back everything: the registry holds exactly Σ bonds; each bond is what was deposited less
    ///         what was slashed (so slashes never exceed it); locked ≤ bond; openJobs counts exactly the
    ///         provider's jobs in Accepted, Submitted or Challenged.
    function invariant_providerBondsBackLocksAndJobs() public view {
        address[] memory providers = handler.providers();
        uint256[] memory open = new uint256[](providers.length);
        uint256 n = handler.jobCount();
        for (uint256 id = 1; id <= n; ++id) {
            IJobCoordinator.JobView memory v = coordinator.getJob(id);
            if (v.status < IJobCoordinator.JobStatus.Accepted || v.status > IJobCoordinator.JobStatus.Challenged)
                continue;
            for (uint256 p; p < providers.length; ++p) if (v.provider == providers[p]) ++open[p];
        }
        uint256 bonds;
        for (uint256 p; p < providers.length; ++p) {
            IProviderRegistry.ProviderRecord memory r = registry.getProvider(providers[p]);
            bonds += r.bond;
            string memory who = string.concat("provider", vm.toString(p));
            vm.assertEq(
                r.bond + handler.ghostSlashed(providers[p]),
                handler.ghostDeposited(providers[p]),
                string.concat(who, ": bond + slashed != deposited")
            );
            vm.assertLe(r.locked, r.bond, string.concat(who, ": locked > bond"));
            vm.assertEq(r.openJobs, open[p], string.concat(who, ": openJobs != jobs accepted and not ended"));
        }
        vm.assertEq(token.balanceOf(address(registry)), bonds, "registry tokens != sum of bonds");
    }

    /// @notice The coordinator holds exactly the ComputeCredit escrowed by open credit jobs (DailyCredit and
    ///         ComputeCredit kinds, Requested to Challenged).
    function invariant_coordinatorCreditIsOpenCreditEscrow() public view {
        uint256 sum;
        uint256 n = handler.jobCount();
        for (uint256 id = 1; id <= n; ++id) {
            IJobCoordinator.JobView memory v = coordinator.getJob(id);
            if (v.kind != IJobCoordinator.PaymentKind.Voucher && _open(v.status)) sum += v.escrow;
        }
        vm.assertEq(
            computeCredit.balanceOf(address(coordinator)),
            sum,
            "coordinator credit != open credit escrow"
        );
    }

    /// @notice The coordinator holds exactly the vouchers escrowed by open voucher jobs.
    function invariant_coordinatorVouchersAreOpenVoucherEscrow() public view {
        uint256 sum;
        uint256 n = handler.jobCount();
        for (uint256 id = 1; id <= n; ++id) {
            IJobCoordinator.JobView memory v = coordinator.getJob(id);
            if (v.kind == IJobCoordinator.PaymentKind.Voucher && _open(v.status)) sum += v.escrow;
        }
        vm.assertEq(market.balanceOf(address(coordinator), classId), sum, "coordinator vouchers != open escrow");
    }

    /// @notice The VoucherMarket holds exactly the escrowed principal plus what it owes providers and the
    ///         treasury, and the escrow is unitPrice × vouchers outstanding.
    function invariant_voucherMarketHoldsEscrowPlusOwed() public view {
        address[] memory providers = handler.providers();
        uint256 owed = market.owed(treasury, usdc);
        for (uint256 p; p < providers.length; ++p) owed += market.owed(providers[p], usdc);
        vm.assertEq(
            usdc.balanceOf(address(market)),
            market.escrowed(classId) + owed,
            "market stablecoin != escrowed + owed"
        );
        vm.assertEq(
            market.escrowed(classId),
            market.getClass(classId).unitPrice * market.totalSupply(classId),
            "escrowed != unitPrice x vouchers"
        );
    }

    /// @notice The DisputeModule holds exactly the bonds of open disputes, and a dispute is open exactly while
    ///         its job is challenged.
    function invariant_disputeModuleHoldsOpenBonds() public view {
        uint256 sum;
        uint256 n = handler.jobCount();
        for (uint256 id = 1; id <= n; ++id) {
            IDisputeModule.Dispute memory d = disputes.getDispute(id);
            bool open = d.outcome == IDisputeModule.Outcome.Open;
            if (open) sum += d.bond;
            vm.assertEq(
                open,
                coordinator.getJob(id).status == IJobCoordinator.JobStatus.Challenged,
                _msg(id, "dispute open != job challenged")
            );
        }
        vm.assertEq(token.balanceOf(address(disputes)), sum, "dispute module tokens != open bonds");
    }

    /// @notice The engine's ledger agrees with the jobs, per UTC day: subsidised credit minted = Σ of the day's
    ///         DailyCredit jobs' escrow while open, their pay once ended (unused subsidy goes back), within the
    ///         budget; work, subsidised work and voucher revenue = what settled that day.
    function invariant_engineLedgerMatchesJobs() public view {
        uint256[] memory days_ = handler.epochs();
        uint256[] memory subsidy = new uint256[](days_.length);
        uint256 n = handler.jobCount();
        for (uint256 id = 1; id <= n; ++id) {
            JobsHandler.JobGhost memory g = handler.ghost(id);
            if (g.kind != IJobCoordinator.PaymentKind.DailyCredit) continue;
            uint256 d;
            while (days_[d] != g.fundedDay) ++d;
            subsidy[d] += _open(g.status) ? g.escrow : g.paid;
        }
        uint256 budget = engine.config().subsidyBudgetUsd;
        for (uint256 i; i < days_.length; ++i) {
            uint256 day = days_[i];
            IBurnMintEngine.EpochLedger memory l = engine.epochLedger(day);
            string memory label = string.concat("day ", vm.toString(day), ": ");
            vm.assertEq(
                l.subsidyMintedUsd,
                subsidy[i],
                string.concat(label, "subsidy minted != open escrow + paid")
            );
            vm.assertLe(l.subsidyMintedUsd, budget, string.concat(label, "subsidy minted > budget"));
            vm.assertEq(l.workUsd, handler.ghostWorkUsd(day), string.concat(label, "work != settled"));
            vm.assertEq(
                l.subsidisedWorkUsd,
                handler.ghostSubsidisedWorkUsd(day),
                string.concat(label, "subsidised work != settled")
            );
            vm.assertEq(
                l.voucherRevenueUsd,
                handler.ghostVoucherRevenueUsd(day),
                string.concat(label, "voucher revenue != settled")
            );
        }
    }

    /// @notice Every single call did what the model predicts: exact balance changes on success, the documented
    ///         error on failure (fail_on_revert is off, so this turns a wrong revert into a failure).
    function invariant_handlerChecksHold() public view {
        vm.assertEq(handler.violations(), 0, handler.lastViolation());
    }

    /// @notice The run exercised the lifecycle: every main action took effect at least once, so the suite cannot
    ///         pass on runs that never settled, expired, challenged or resolved a job. Sequences shorter than
    ///         MIN_CALLS (forge replaying a shrunk failure, or a depth set lower) are not held to it, so a
    ///         shrunk counterexample stays the real one.
    function afterInvariant() public view {
        handler.logCallSummary();
        if (handler.totalCalls() < MIN_CALLS) return;
        string[5] memory main = ["finalize", "finalizeBatch", "expire", "challenge", "resolve"];
        for (uint256 i; i < main.length; ++i) {
            vm.assertGt(handler.done(main[i]), 0, string.concat(main[i], " never took effect in this run"));
        }
    }
}

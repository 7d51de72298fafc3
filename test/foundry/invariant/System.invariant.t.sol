// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {SystemFixture, IRoles} from "../utils/SystemFixture.sol";
import {SystemGhost, Deployment, Actors} from "./actors/SystemGhost.sol";
import {ActorBase} from "./actors/ActorBase.sol";
import {StakerActor} from "./actors/StakerActor.sol";
import {CreditHolderActor} from "./actors/CreditHolderActor.sol";
import {VoucherBuyerActor} from "./actors/VoucherBuyerActor.sol";
import {RequesterActor} from "./actors/RequesterActor.sol";
import {ProviderActor} from "./actors/ProviderActor.sol";
import {ChallengerActor} from "./actors/ChallengerActor.sol";
import {KeeperActor} from "./actors/KeeperActor.sol";
import {IJobCoordinator} from "../../../contracts/interfaces/IJobCoordinator.sol";
import {IDisputeModule} from "../../../contracts/interfaces/IDisputeModule.sol";
import {IProviderRegistry} from "../../../contracts/interfaces/IProviderRegistry.sol";
import {IBurnMintEngine} from "../../../contracts/interfaces/IBurnMintEngine.sol";
import {IDailyCredit} from "../../../contracts/interfaces/IDailyCredit.sol";
import {GuardianPausable} from "../../../contracts/governance/GuardianPausable.sol";

/// @notice The system-wide invariant suite: the whole protocol deployed and wired as `npm run deploy:local` does
///         it (SystemFixture: every module, every role, the local genesis, governance handed to the timelock),
///         seven actors acting on it at once through one handler each — stakers, DailyCredit holders, voucher
///         buyers, requesters, providers, challengers and the keeper (time, settlement, disputes, emissions,
///         guardian, timelock) — and every invariant of DESIGN.md asserted after every call, plus the value rule:
///         no actor ends with more of any asset than it put in plus what the rules grant it.
/// @dev Actors share one clock (the ghost's) which only moves forward, across UTC days and engine epochs. Each
///      action predicts its outcome from the ghost's model and records a violation when the contract disagrees
///      (fail_on_revert is off); the ghost books every successful call. Genesis (setUp): providers 0–2 bonded with
///      three prices, provider 3 unregistered; stakers, credit holders and requesters staked, holders and requesters
///      holding DailyCredit, requesters holding ComputeCredit and vouchers of both classes (bought by the buyers).
/// forge-config: default.invariant.show-metrics = true
contract SystemInvariantTest is SystemFixture {
    SystemGhost internal ghost;
    StakerActor internal stakers;
    CreditHolderActor internal holders;
    VoucherBuyerActor internal buyers;
    RequesterActor internal requesters;
    ProviderActor internal providers;
    ChallengerActor internal challengers;
    KeeperActor internal keeper;
    Actors internal people;
    bool internal _logRuns;

    function setUp() public {
        people = _people();
        _deploySystem(people.arbiter);
        _genesis();

        Deployment memory d = Deployment({
            token: token,
            vault: vault,
            dailyCredit: credit,
            computeCredit: computeCredit,
            oracle: oracle,
            engine: engine,
            registry: registry,
            market: market,
            coordinator: coordinator,
            verifier: verifier,
            disputes: disputes,
            timelock: timelock,
            usdc: usdc,
            treasury: address(this),
            modelId: MODEL,
            class1: class1,
            class2: class2
        });
        _handOver(people.guardian, people.governor);
        d.timelock = timelock;
        ghost = new SystemGhost(d, people);
        stakers = new StakerActor(ghost, d);
        holders = new CreditHolderActor(ghost, d);
        buyers = new VoucherBuyerActor(ghost, d);
        requesters = new RequesterActor(ghost, d);
        providers = new ProviderActor(ghost, d);
        challengers = new ChallengerActor(ghost, d);
        keeper = new KeeperActor(ghost, d);
        ghost.setHandlers(address(requesters), address(providers), address(challengers));
        ghost.snapshot(INITIAL_SUPPLY);
        _targets();
        _logRuns = vm.envOr("SYSTEM_INVARIANT_LOG", uint256(0)) != 0;
    }

    // ================================================================ DESIGN.md invariants

    /// @notice DESIGN.md:80 (1): token supply = initial + Σ minted (redemptions, emissions) − Σ burned (credit
    ///         purchases, own burns, burned slashes) ≤ maxSupply; the engine's ledger (Σ netSupplyChange) accounts
    ///         for all of it but the burns outside the engine.
    function invariant_tokenSupplyIsInitialPlusMintedMinusBurned() public {
        _sync();
        uint256 supply = token.totalSupply();
        vm.assertEq(supply, ghost.tokenSupply(), "supply != initial + minted - burned");
        vm.assertLe(supply, token.maxSupply(), "supply > maxSupply");
        int256 net;
        for (uint256 e = ghost.genesisEpoch(); e <= ghost.today(); ++e) net += engine.netSupplyChange(e);
        vm.assertEq(
            net,
            int256(supply) - int256(ghost.initialSupply()) + int256(ghost.tokenBurnedOutsideEngine()),
            "sum of netSupplyChange != supply change less burns outside the engine"
        );
    }

    /// @notice DESIGN.md:81 (2): Σ stakes (earning and cooling) = vault token balance − undistributed rewards (the
    ///         reserve, which is notified − claimed and covers every reward earned); locked ≤ staked per account.
    function invariant_vaultStakesAreBalanceLessUndistributedRewards() public {
        _sync();
        address[] memory list = ghost.stakeholders();
        uint256 staked;
        uint256 cooling;
        uint256 earned;
        uint256 claimed;
        for (uint256 i; i < list.length; ++i) {
            address a = list[i];
            uint256 s = vault.stakeOf(a);
            (uint256 c, ) = vault.coolingOf(a);
            staked += s;
            cooling += c;
            earned += vault.earned(a);
            claimed += ghost.rewardsClaimed(a);
            vm.assertLe(vault.lockedOf(a), s, "locked > staked");
            vm.assertEq(s, ghost.rStake(a), "stake != model");
        }
        uint256 reserve = vault.rewardReserve();
        vm.assertEq(staked, vault.totalStaked(), "sum stakeOf != totalStaked");
        vm.assertEq(cooling, vault.totalCooling(), "sum cooling != totalCooling");
        vm.assertEq(staked + cooling, token.balanceOf(address(vault)) - reserve, "stakes != balance - reserve");
        vm.assertEq(reserve, ghost.notified() - claimed, "reserve != notified - claimed");
        vm.assertLe(earned, reserve, "sum earned > reserve");
    }

    /// @notice DESIGN.md:82 (3): every UTC day, Σ spent ≤ creditPerDay × (supply at day start + minted that day);
    ///         per account, spent ≤ creditPerDay × (its balance at day start + minted), today's spend and allowance
    ///         are the model's (DESIGN.md:34: received credits count from the next day).
    function invariant_dailySpendWithinDayStartSupplyPlusMinted() public {
        _sync();
        uint256 perDay = credit.creditPerDay();
        uint256[] memory days_ = ghost.days_();
        for (uint256 i; i < days_.length; ++i) {
            SystemGhost.DayBook memory b = ghost.book(days_[i]);
            vm.assertLe(
                b.spent,
                Math.mulDiv(b.supplyAtStart + b.minted, perDay, 1e18),
                string.concat("day ", vm.toString(days_[i]), ": spent > creditPerDay x (supply at start + minted)")
            );
        }
        // Past days are closed (no spend or same-day refund reaches them), so each account is checked today.
        uint256 today = ghost.today();
        address[] memory list = ghost.dcrActors();
        for (uint256 k; k < list.length; ++k) {
            address a = list[k];
            uint256 spent = credit.spentToday(a);
            vm.assertEq(spent, ghost.spentOn(today, a), "spentToday != model");
            vm.assertLe(
                spent,
                Math.mulDiv(ghost.dayStart(today, a) + ghost.mintedOn(today, a), perDay, 1e18),
                "an account spent more than creditPerDay x (its day-start balance + minted today)"
            );
            vm.assertEq(credit.dailyAllowance(a), ghost.allowanceModel(a), "dailyAllowance != model");
        }
    }

    /// @notice DESIGN.md:83 (4): ComputeCredit supply = Σ minted (purchases net + spread, subsidy) − Σ burned
    ///         (redemptions, returned subsidy), and escrowed credit = Σ open jobs' credit escrow: the coordinator holds
    ///         exactly the credit of open credit jobs (and, likewise, exactly the vouchers of open voucher jobs, per
    ///         class).
    function invariant_computeCreditSupplyIsMintedMinusBurnedAndEscrowIsOpenJobs() public view {
        vm.assertEq(computeCredit.totalSupply(), ghost.ccMinted() - ghost.ccBurned(), "supply != minted - burned");
        (uint256 usd, uint256 v1, uint256 v2) = ghost.openEscrow();
        vm.assertEq(computeCredit.balanceOf(address(coordinator)), usd, "coordinator credit != open escrow");
        vm.assertEq(
            market.balanceOf(address(coordinator), class1),
            v1,
            "coordinator class-1 vouchers != open escrow"
        );
        vm.assertEq(
            market.balanceOf(address(coordinator), class2),
            v2,
            "coordinator class-2 vouchers != open escrow"
        );
    }

    /// @notice DESIGN.md:84 (5): each class escrows unit price × its outstanding vouchers (bought − redeemed −
    ///         reclaimed, those in job custody included; expired ones until reclaimed), and the market's stablecoin
    ///         is exactly that escrow plus what it owes providers and the treasury.
    function invariant_voucherEscrowIsUnitPriceTimesOutstanding() public view {
        uint256 escrowed;
        uint256[2] memory ids = [class1, class2];
        for (uint256 i; i < 2; ++i) {
            uint256 c = ids[i];
            uint256 out = ghost.outstanding(c);
            vm.assertEq(market.totalSupply(c), out, "voucher supply != bought - redeemed - reclaimed");
            vm.assertEq(
                market.escrowed(c),
                market.getClass(c).unitPrice * out,
                "escrowed != unit price x outstanding"
            );
            escrowed += market.escrowed(c);
        }
        address[] memory owedTo = ghost.owedAccounts();
        uint256 owed;
        for (uint256 i; i < owedTo.length; ++i) {
            uint256 o = market.owed(owedTo[i], usdc);
            vm.assertEq(o, ghost.owed(owedTo[i]), "owed != model");
            owed += o;
        }
        vm.assertEq(usdc.balanceOf(address(market)), escrowed + owed, "market stablecoin != escrow + owed");
    }

    /// @notice DESIGN.md:85 (6): a job pays out at most once (one terminal report, a status that never changes
    ///         again) and escrow = payout + refund for every ended job; nothing leaves an open one.
    function invariant_jobPaysOutOnceAndEscrowIsPayoutPlusRefund() public view {
        uint256 n = ghost.jobCount();
        vm.assertEq(coordinator.jobCount(), n, "jobCount != jobs requested");
        for (uint256 id = 1; id <= n; ++id) {
            (
                IJobCoordinator.JobStatus status,
                uint256 escrow,
                uint256 paid,
                uint256 refunded,
                uint256 payouts
            ) = ghost.jobState(id);
            IJobCoordinator.JobView memory v = coordinator.getJob(id);
            vm.assertEq(uint8(v.status), uint8(status), "job status != model");
            vm.assertEq(v.escrow, escrow, "job escrow != deposit");
            vm.assertLe(payouts, 1, "job paid out more than once");
            bool ended = status >= IJobCoordinator.JobStatus.Finalized;
            vm.assertEq(payouts, ended ? 1 : 0, "job payouts != ended");
            vm.assertEq(paid + refunded, ended ? escrow : 0, "job payout + refund != deposit");
        }
    }

    /// @notice DESIGN.md:86 (7) and 61-62: slashing never exceeds the bond — each bond is deposited − slashed −
    ///         withdrawn (never negative), locked ≤ bond, open jobs and locks as modelled, the registry holds exactly
    ///         Σ bonds — and unbonding can never outrun a pending challenge — the slashable window fits in the
    ///         unbonding period, a provider with an open job is still bonded, and an exiting provider's unbonding
    ///         ends no earlier than the last moment any of its open jobs can still be slashed (a challenged job's
    ///         dispute timeout; a submitted job's window end + dispute timeout; an accepted job's deadline + window +
    ///         dispute timeout).
    function invariant_slashingNeverExceedsBondAndUnbondingNeverOutrunsAChallenge() public view {
        address[] memory list = people.providers;
        uint256 bonds;
        for (uint256 i; i < list.length; ++i) {
            IProviderRegistry.ProviderRecord memory r = registry.getProvider(list[i]);
            SystemGhost.ProviderGhost memory g = ghost.provider(list[i]);
            _eqAt(r.bond, g.bond, i, "bond != model");
            _eqAt(g.bond + g.slashed + g.withdrawn, g.deposited, i, "bond + slashed + withdrawn != deposited");
            vm.assertLe(r.locked, r.bond, "locked > bond");
            _eqAt(r.locked, g.locked, i, "locked != model");
            _eqAt(r.openJobs, g.openJobs, i, "open jobs != model");
            _eqAt(uint8(r.status), g.status, i, "status != model");
            bonds += r.bond;
        }
        vm.assertEq(token.balanceOf(address(registry)), bonds, "registry tokens != sum of bonds");

        vm.assertLe(coordinator.slashableWindow(), registry.unbondingPeriod(), "slashable window > unbonding");
        (address[] memory provider, uint256[] memory lastSlash) = ghost.slashDeadlines();
        for (uint256 i; i < provider.length; ++i) {
            IProviderRegistry.ProviderRecord memory r = registry.getProvider(provider[i]);
            vm.assertTrue(r.status != IProviderRegistry.Status.None, "provider left with a job open");
            if (r.status == IProviderRegistry.Status.Exiting) {
                vm.assertGe(r.unbondingEnds, lastSlash[i], "unbonding ends before an open job can be slashed");
            }
        }
    }

    // ================================================================ value and grants

    /// @notice No actor ends with more than it put in plus what the rules grant it: for every actor and asset
    ///         (CNDR, USDC, DailyCredit, ComputeCredit, vouchers of each class), what it holds — wallet plus its
    ///         stake, cooling stake, bond, open challenge bonds, USDC owed to it, credit and vouchers in its open
    ///         jobs — plus what it spent ≤ endowment + what it received (modelled conversions, transfers) + the
    ///         grants of the rules (provider pay, voucher earnings, finder fees, rejected challengers' bonds) and, in
    ///         CNDR, its staking rewards and emissions as the reward and emission models accrue them.
    function invariant_noActorEndsWithMoreThanPutInPlusGranted() public {
        _sync();
        (uint256[] memory used, uint256[] memory allowed) = ghost.valueReport();
        for (uint256 i; i < used.length; ++i) {
            if (used[i] <= allowed[i]) continue;
            vm.assertLe(
                used[i],
                allowed[i],
                string.concat(
                    "actor ",
                    vm.toString(i / 6),
                    " holds more of asset ",
                    vm.toString(i % 6),
                    " than put in + granted"
                )
            );
        }
    }

    /// @notice DESIGN.md:24 (rewards per staked token from the streamed emissions): no staker's rewards (claimed +
    ///         earned) exceed what the independent reward-stream model accrues to its stake.
    function invariant_stakingRewardsWithinEntitlement() public {
        _sync();
        address[] memory list = ghost.stakeholders();
        for (uint256 i; i < list.length; ++i) {
            address a = list[i];
            vm.assertLe(
                vault.earned(a) + ghost.rewardsClaimed(a),
                ghost.rewardEntitlement(a),
                string.concat("stakeholder ", vm.toString(i), ": rewards > entitlement")
            );
        }
    }

    /// @notice DESIGN.md:42-43 (the providers' share pro rata to USD of work settled that epoch): every epoch's
    ///         pool is the model's, the engine holds exactly the unclaimed pools, each provider can claim exactly
    ///         its pro-rata share of each epoch it has not claimed, and none has claimed more than its share.
    function invariant_emissionsWithinProviderPools() public view {
        uint256[] memory done = ghost.distributedEpochs();
        for (uint256 i; i < done.length; ++i) {
            IBurnMintEngine.EpochLedger memory l = engine.epochLedger(done[i]);
            vm.assertTrue(l.distributed, "distributed epoch not flagged");
            vm.assertEq(l.providerPool, ghost.epochOf(done[i]).pool, "provider pool != model");
            vm.assertEq(l.tokensEmitted, ghost.epochOf(done[i]).tokensEmitted, "emitted != model");
        }
        vm.assertEq(
            token.balanceOf(address(engine)),
            ghost.poolsTotal() - ghost.poolsClaimed(),
            "engine tokens != unclaimed provider pools"
        );
        address[] memory list = people.providers;
        for (uint256 i; i < list.length; ++i) {
            address p = list[i];
            vm.assertLe(ghost.emissionsClaimed(p), ghost.emissionEntitlement(p), "claimed > share");
            for (uint256 j; j < done.length; ++j) {
                uint256 share = ghost.emissionClaimed(done[j], p) ? 0 : ghost.emissionShare(done[j], p);
                _eqAt(
                    engine.claimableEmission(done[j], p),
                    share,
                    done[j],
                    "claimable emission != pro-rata share"
                );
            }
        }
    }

    /// @notice DESIGN.md:70-75: the dispute module holds exactly the bonds of open disputes, a dispute is open
    ///         exactly while its job is challenged, and it will pay the challenger, the provider or both back.
    function invariant_disputeModuleHoldsExactlyOpenBonds() public view {
        uint256 sum;
        uint256 n = ghost.jobCount();
        for (uint256 id = 1; id <= n; ++id) {
            IDisputeModule.Dispute memory d = disputes.getDispute(id);
            bool open = d.outcome == IDisputeModule.Outcome.Open;
            if (open) sum += d.bond;
            (IJobCoordinator.JobStatus status, , , , ) = ghost.jobState(id);
            vm.assertEq(open, status == IJobCoordinator.JobStatus.Challenged, "dispute open != job challenged");
            vm.assertEq(open, ghost.disputeOpen(id), "dispute open != model");
        }
        vm.assertEq(token.balanceOf(address(disputes)), sum, "dispute module tokens != open bonds");
        vm.assertEq(
            disputes.openDisputes(),
            ghost.count(SystemGhost.Q.Challenged),
            "openDisputes != challenged jobs"
        );
    }

    /// @notice DESIGN.md:44-47: per epoch, the engine's ledger is the model's — organic USD and tokens burned for
    ///         credit, tokens redeemed, work and subsidised work settled, voucher revenue, subsidy minted (within
    ///         the budget) — and subsidyRatio = subsidised / all work.
    function invariant_engineLedgerMatchesTheEconomy() public view {
        uint256[] memory days_ = ghost.days_();
        uint256 budget = engine.config().subsidyBudgetUsd;
        for (uint256 i; i < days_.length; ++i) {
            uint256 e = days_[i];
            IBurnMintEngine.EpochLedger memory l = engine.epochLedger(e);
            SystemGhost.EpochGhost memory g = ghost.epochOf(e);
            _eqAt(l.organicCreditUsd, g.organicCreditUsd, e, "organic credit USD");
            _eqAt(l.tokensBurned, g.tokensBurned, e, "tokens burned");
            _eqAt(l.tokensRedeemed, g.tokensRedeemed, e, "tokens redeemed");
            _eqAt(l.workUsd, g.workUsd, e, "work");
            _eqAt(l.subsidisedWorkUsd, g.subsidisedWorkUsd, e, "subsidised work");
            _eqAt(l.voucherRevenueUsd, g.voucherRevenueUsd, e, "voucher revenue");
            _eqAt(l.subsidyMintedUsd, g.subsidyMintedUsd, e, "subsidy minted");
            _eqAt(engine.mintedIn(e), g.mintedIn, e, "minted in epoch");
            _eqAt(
                engine.subsidyRatio(e),
                g.workUsd == 0 ? 0 : (g.subsidisedWorkUsd * 10_000) / g.workUsd,
                e,
                "ratio"
            );
            vm.assertLe(l.subsidyMintedUsd, budget, "subsidy minted > budget");
        }
    }

    /// @notice DESIGN.md:27-31: every DailyCredit is backed by its minter's locked stake — Σ positions = supply (a
    ///         transfer moves credits, never positions), the vault's lock by DailyCredit is each position's stake, and
    ///         a position locks at least baseRate tokens per credit (the curve never goes below its base).
    function invariant_dailyCreditBackedByLockedStake() public view {
        address[] memory list = ghost.dcrActors();
        (uint256 base, , ) = credit.curve();
        uint256 positions;
        uint256 balances;
        for (uint256 i; i < list.length; ++i) {
            address a = list[i];
            IDailyCredit.Position memory p = credit.positionOf(a);
            positions += p.credits;
            balances += credit.balanceOf(a);
            vm.assertEq(vault.lockedBy(a, address(credit)), p.stakeLocked, "vault lock != position stake");
            vm.assertEq(vault.lockedOf(a), p.stakeLocked, "DailyCredit is the only locker");
            vm.assertGe(
                p.stakeLocked,
                Math.mulDiv(p.credits, base, 1e18),
                "position locks less than baseRate per credit"
            );
        }
        vm.assertEq(positions, credit.totalSupply(), "sum of positions != supply");
        vm.assertEq(balances, credit.totalSupply(), "sum of balances != supply");
    }

    /// @notice DESIGN.md:76-77: governance is the timelock's alone — it holds every module's admin role and the
    ///         deployer none; pauses are the guardian's and only the timelock lifts them; the oracle price is what
    ///         governance last executed.
    function invariant_governanceOnlyThroughTheTimelock() public view {
        address[] memory all = _modules();
        for (uint256 i; i < all.length; ++i) {
            vm.assertTrue(IRoles(all[i]).hasRole(DEFAULT_ADMIN, address(timelock)), "timelock lost an admin role");
            vm.assertFalse(IRoles(all[i]).hasRole(DEFAULT_ADMIN, address(this)), "deployer kept an admin role");
            if (i < 6)
                vm.assertEq(GuardianPausable(all[i]).paused(), ghost.paused(all[i]), "pause state != model");
        }
        vm.assertEq(oracle.price(), ghost.price(), "oracle price != governance's");
    }

    /// @notice Every single call did what the model predicts (exact amounts on success, the predicted error on
    ///         failure): with fail_on_revert off, this is what turns a wrong revert into a failure.
    function invariant_handlerChecksHold() public view {
        ActorBase[7] memory hs = _handlers();
        for (uint256 i; i < hs.length; ++i) vm.assertEq(hs[i].violations(), 0, hs[i].lastViolation());
        vm.assertEq(ghost.violations(), 0, ghost.lastViolation());
    }

    /// @notice With SYSTEM_INVARIANT_LOG=1 in the environment, prints each actor's call summary and the run's totals
    ///         after every run (visible with -vv); off by default, as it costs time on every run.
    function afterInvariant() public view {
        if (!_logRuns) return;
        ActorBase[7] memory hs = _handlers();
        for (uint256 i; i < hs.length; ++i) hs[i].logCallSummary();
        _log("jobs", ghost.jobCount());
        _log("days", ghost.days_().length);
        _log("epochs distributed", ghost.distributedEpochs().length);
        _log("faults upheld", ghost.faults());
        _log("challenges rejected", ghost.rejected());
        _log("challenges timed out", ghost.timedOut());
        _log("late slashes", ghost.lateSlashes());
    }

    // ================================================================ setup

    function _people() internal returns (Actors memory p) {
        p.stakers = _names("staker", 3);
        p.holders = _names("holder", 2);
        p.buyers = _names("buyer", 2);
        p.requesters = _names("requester", 3);
        p.providers = _names("provider", 4);
        p.signerKeys = new uint256[](4);
        for (uint256 i; i < 4; ++i) p.signerKeys[i] = uint256(keccak256(abi.encode("signer", i)));
        p.challengers = _names("challenger", 2);
        p.keeper = makeAddr("keeper");
        p.arbiter = makeAddr("arbiter");
        p.guardian = makeAddr("guardian");
        p.governor = makeAddr("governor");
    }

    /// @dev The economy before the first fuzzed call (this contract is the treasury holding the initial supply).
    function _genesis() internal {
        uint256[3] memory stakerGrants = [uint256(1_000_000e18), 100_000e18, 5_000e18];
        for (uint256 i; i < 3; ++i) {
            address a = people.stakers[i];
            _grant(a, stakerGrants[i]);
            _stake(a, stakerGrants[i] / 2);
        }
        uint256[2] memory holderGrants = [uint256(2_000_000e18), 200_000e18];
        uint256[2] memory holderCredits = [uint256(200e18), 20e18];
        for (uint256 i; i < 2; ++i) {
            address a = people.holders[i];
            _grant(a, holderGrants[i]);
            _stake(a, (holderGrants[i] * 6) / 10);
            vm.prank(a);
            credit.mint(holderCredits[i], type(uint256).max);
        }
        for (uint256 i; i < 3; ++i) {
            address a = people.requesters[i];
            _grant(a, 100_000e18);
            _stake(a, 20_000e18);
            vm.startPrank(a);
            credit.mint(50e18, type(uint256).max);
            engine.mintCredits(1_000e18, 0, a);
            computeCredit.approve(address(coordinator), type(uint256).max);
            market.setApprovalForAll(address(coordinator), true);
            usdc.approve(address(market), type(uint256).max);
            vm.stopPrank();
        }
        for (uint256 i; i < 2; ++i) {
            address b = people.buyers[i];
            usdc.mint(b, 10_000 * USDC);
            vm.startPrank(b);
            usdc.approve(address(market), type(uint256).max);
            market.buy(class1, 40, type(uint256).max, b);
            market.buy(class2, 800, type(uint256).max, b);
            for (uint256 r; r < 3; ++r) {
                market.safeTransferFrom(b, people.requesters[r], class1, 5, "");
                market.safeTransferFrom(b, people.requesters[r], class2, 100, "");
            }
            vm.stopPrank();
        }
        // The one parameter moved off its default, by the deployer before the hand-over (as a governance change
        // would): 100 tokens of collateral per USD at stake instead of 1, so job collateral is material next to
        // the bonds — providers run short of free bond (InsufficientFreeBond) and a fault slash can cut `locked`.
        coordinator.setCollateralPerUsd(100 * WAD);
        uint256[3] memory bonds = [uint256(20_000e18), 5_000e18, 1_500e18];
        uint256[3] memory prices = [uint256(1e13), 2e13, 3e13];
        for (uint256 i; i < 4; ++i) {
            address p = people.providers[i];
            _grant(p, 50_000e18);
            vm.prank(p);
            token.approve(address(registry), type(uint256).max);
            if (i == 3) continue;
            bytes32[] memory ids = new bytes32[](1);
            ids[0] = MODEL;
            uint256[] memory ps = new uint256[](1);
            ps[0] = prices[i];
            vm.prank(p);
            registry.register(bonds[i], "https://provider.example", vm.addr(people.signerKeys[i]), ids, ps);
        }
        for (uint256 i; i < 2; ++i) {
            address c = people.challengers[i];
            _grant(c, 5_000e18);
            vm.prank(c);
            token.approve(address(disputes), type(uint256).max);
        }
    }

    /// @dev Protocol tokens from the treasury, with the vault and the engine approved.
    function _grant(address a, uint256 amount) internal {
        token.transfer(a, amount);
        vm.startPrank(a);
        token.approve(address(vault), type(uint256).max);
        token.approve(address(engine), type(uint256).max);
        vm.stopPrank();
    }

    /// @dev Every actor's actions, weighted: those that feed the job lifecycle and time a little more.
    function _targets() internal {
        _target(
            address(stakers),
            _sel6(
                StakerActor.stake.selector,
                StakerActor.requestUnstake.selector,
                StakerActor.cancelUnstake.selector,
                StakerActor.withdraw.selector,
                StakerActor.claim.selector,
                StakerActor.burnTokens.selector
            )
        );
        bytes4[] memory h = new bytes4[](4);
        h[0] = CreditHolderActor.mint.selector;
        h[1] = CreditHolderActor.burn.selector;
        h[2] = CreditHolderActor.transfer.selector;
        h[3] = CreditHolderActor.transfer.selector;
        _target(address(holders), h);
        bytes4[] memory b = new bytes4[](4);
        b[0] = VoucherBuyerActor.buy.selector;
        b[1] = VoucherBuyerActor.buy.selector;
        b[2] = VoucherBuyerActor.transfer.selector;
        b[3] = VoucherBuyerActor.reclaim.selector;
        _target(address(buyers), b);
        bytes4[] memory r = new bytes4[](6);
        r[0] = RequesterActor.requestJob.selector;
        r[1] = RequesterActor.requestJob.selector;
        r[2] = RequesterActor.requestJob.selector;
        r[3] = RequesterActor.buyComputeCredit.selector;
        r[4] = RequesterActor.cancel.selector;
        r[5] = RequesterActor.transferComputeCredit.selector;
        _target(address(requesters), r);
        bytes4[] memory p = new bytes4[](12);
        p[0] = ProviderActor.acceptJob.selector;
        p[1] = ProviderActor.acceptJob.selector;
        p[2] = ProviderActor.submitResult.selector;
        p[3] = ProviderActor.submitResult.selector;
        p[4] = ProviderActor.register.selector;
        p[5] = ProviderActor.increaseBond.selector;
        p[6] = ProviderActor.updateOffer.selector;
        p[7] = ProviderActor.requestExit.selector;
        p[8] = ProviderActor.withdrawBond.selector;
        p[9] = ProviderActor.redeem.selector;
        p[10] = ProviderActor.claimEmissions.selector;
        p[11] = ProviderActor.withdrawEarnings.selector;
        _target(address(providers), p);
        bytes4[] memory c = new bytes4[](3);
        c[0] = ChallengerActor.challenge.selector;
        c[1] = ChallengerActor.challenge.selector;
        c[2] = ChallengerActor.tryPrivileged.selector;
        _target(address(challengers), c);
        bytes4[] memory k = new bytes4[](12);
        k[0] = KeeperActor.warp.selector;
        k[1] = KeeperActor.warp.selector;
        k[2] = KeeperActor.finalize.selector;
        k[3] = KeeperActor.finalizeBatch.selector;
        k[4] = KeeperActor.expire.selector;
        k[5] = KeeperActor.resolve.selector;
        k[6] = KeeperActor.resolve.selector;
        k[7] = KeeperActor.vote.selector;
        k[8] = KeeperActor.distribute.selector;
        k[9] = KeeperActor.distribute.selector;
        k[10] = KeeperActor.govern.selector;
        k[11] = KeeperActor.pause.selector;
        _target(address(keeper), k);
    }

    function _target(address handler, bytes4[] memory selectors) internal {
        targetContract(handler);
        targetSelector(FuzzSelector(handler, selectors));
    }

    function _sel6(
        bytes4 a,
        bytes4 b,
        bytes4 c,
        bytes4 d,
        bytes4 e,
        bytes4 f
    ) internal pure returns (bytes4[] memory s) {
        s = new bytes4[](6);
        (s[0], s[1], s[2], s[3], s[4], s[5]) = (a, b, c, d, e, f);
    }

    function _handlers() internal view returns (ActorBase[7] memory) {
        return
            [
                ActorBase(stakers),
                ActorBase(holders),
                ActorBase(buyers),
                ActorBase(requesters),
                ActorBase(providers),
                ActorBase(challengers),
                ActorBase(keeper)
            ];
    }

    function _names(string memory prefix, uint256 n) internal returns (address[] memory list) {
        list = new address[](n);
        for (uint256 i; i < n; ++i) list[i] = makeAddr(string.concat(prefix, vm.toString(i)));
    }

    /// @dev assertEq with a message naming `at` (an epoch, a provider), built only when the values differ.
    function _eqAt(uint256 actual, uint256 expected, uint256 at, string memory what) internal pure {
        if (actual != expected) vm.assertEq(actual, expected, string.concat(vm.toString(at), ": ", what));
    }

    /// @dev The invariants read time-dependent views: put the chain at the actors' clock first.
    function _sync() internal {
        vm.warp(ghost.time());
    }

    function _log(string memory what, uint256 value) internal view {
        address console = 0x000000000000000000636F6e736F6c652e6c6f67;
        (bool ok, ) = console.staticcall(abi.encodeWithSignature("log(string,uint256)", what, value));
        ok;
    }
}

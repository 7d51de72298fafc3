// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {Test} from "../utils/Test.sol";
import {VoucherMarketHandler, ProviderBondHandler} from "./handlers/MarketHandler.sol";
import {VoucherMarket} from "../../../contracts/VoucherMarket.sol";
import {BurnMintEngine} from "../../../contracts/BurnMintEngine.sol";
import {ProtocolToken} from "../../../contracts/ProtocolToken.sol";
import {ModelRegistry} from "../../../contracts/ModelRegistry.sol";
import {ProviderRegistry} from "../../../contracts/ProviderRegistry.sol";
import {MockStablecoin} from "../../../contracts/mocks/MockStablecoin.sol";
import {ReentrantCallback} from "../../../contracts/mocks/ReentrantCallback.sol";
import {IBurnMintEngine} from "../../../contracts/interfaces/IBurnMintEngine.sol";
import {IComputeCredit} from "../../../contracts/interfaces/IComputeCredit.sol";
import {IStakingVault} from "../../../contracts/interfaces/IStakingVault.sol";
import {IPriceOracle} from "../../../contracts/interfaces/IPriceOracle.sol";
import {IProtocolToken} from "../../../contracts/interfaces/IProtocolToken.sol";
import {IModelRegistry} from "../../../contracts/interfaces/IModelRegistry.sol";
import {IVoucherMarket} from "../../../contracts/interfaces/IVoucherMarket.sol";
import {IProviderRegistry} from "../../../contracts/interfaces/IProviderRegistry.sol";

/// @dev 2026-01-01 13:00 UTC, as the other suites.
uint256 constant MARKET_START = 1_767_225_600 + 13 hours;
bytes32 constant MODEL_ID = keccak256("llama-3.2-1b-instruct-q4");

/// @notice Voucher escrow invariants (DESIGN.md invariant 5) under random buys, transfers, redemptions,
///         voucher jobs (escrow into the coordinator's custody, partial redemption, return), withdrawals of what
///         providers and the treasury are owed, reclaims, fee changes, class (de)activation and time. forge calls
///         only the handler's actions.
///         Engine: a real BurnMintEngine (its token real, its credit/vault/oracle unarmed stand-ins: only
///         `recordVoucherRevenue` is exercised), so the revenue the market reports is checked too.
/// forge-config: default.invariant.show-metrics = true
contract VoucherMarketInvariantTest is Test {
    VoucherMarketHandler internal handler;
    VoucherMarket internal market;
    BurnMintEngine internal engine;
    MockStablecoin internal usdc;
    MockStablecoin internal dai;
    address internal treasury;

    function setUp() public {
        vm.warp(MARKET_START);
        treasury = makeAddr("treasury");
        ProtocolToken token = new ProtocolToken(
            "Cinder",
            "CNDR",
            100_000_000e18,
            1_000_000_000e18,
            treasury,
            address(this)
        );
        engine = new BurnMintEngine(
            IProtocolToken(address(token)),
            IComputeCredit(address(new ReentrantCallback())),
            IStakingVault(address(new ReentrantCallback())),
            IPriceOracle(address(new ReentrantCallback())),
            treasury,
            address(this),
            IBurnMintEngine.Config({
                mintSpreadBps: 25,
                epochMintCap: 1_000_000e18,
                emissionPerEpoch: 100_000e18,
                halvingEpochs: 365,
                stakerShareBps: 5_000,
                subsidyBudgetUsd: 10_000e18
            })
        );
        market = new VoucherMarket("ipfs://vouchers/{id}.json", engine, treasury, address(this), 100);
        engine.grantRole(engine.REPORTER_ROLE(), address(market));
        usdc = new MockStablecoin("USD Coin", "USDC", 6);
        dai = new MockStablecoin("Dai", "DAI", 18);

        uint256[] memory classes = new uint256[](4);
        // Perpetual, uncapped, USDC 2.50, 3 % premium.
        classes[0] = market.createClass(MODEL_ID, usdc, 1_000, 2_500_000, 300, 0, 0);
        // DAI 0.75 + 1 wei (odd, so fee rounding shows), 5 %, expires in 12 days, cap 20 000.
        classes[1] = market.createClass(
            MODEL_ID,
            dai,
            1_000,
            0.75e18 + 1,
            500,
            uint64(MARKET_START + 12 days),
            20_000
        );
        // USDC at 7 micro-dollars (fees round up hard), 2 %, expires in 5 days, cap 50 000.
        classes[2] = market.createClass(MODEL_ID, usdc, 100, 7, 200, uint64(MARKET_START + 5 days), 50_000);
        // Perpetual DAI 3.00, 10 % premium (the maximum), cap 1 000: filled within a few buys.
        classes[3] = market.createClass(keccak256("qwen2.5-7b"), dai, 10_000, 3e18, 1_000, 0, 1_000);

        address[] memory actors = new address[](3);
        for (uint256 i; i < actors.length; ++i) actors[i] = makeAddr(string.concat("buyer", vm.toString(i)));
        address[] memory providers = new address[](2);
        providers[0] = makeAddr("providerA");
        providers[1] = makeAddr("providerB");

        handler = new VoucherMarketHandler(market, engine, classes, actors, makeAddr("stranger"), providers);
        market.grantRole(market.REDEEMER_ROLE(), address(handler));
        market.grantRole(market.DEFAULT_ADMIN_ROLE(), address(handler));

        // A live start, through the handler so its ghosts see it: every class bought, some vouchers with
        // the stranger, one redemption.
        handler.buy(0, 0, 4_000, 0);
        handler.buy(1, 1, 3_000, 1);
        handler.buy(2, 2, 9_000, 3); // recipient: the stranger
        handler.buy(0, 3, 100, 2);
        handler.redeem(0, 0, 1_001, 0);
        handler.openJob(1, 1, 2_500);
        handler.openJob(0, 0, 1_001);
        handler.settleJob(0, 3, 1);

        bytes4[] memory selectors = new bytes4[](14);
        selectors[0] = VoucherMarketHandler.buy.selector;
        selectors[1] = VoucherMarketHandler.transfer.selector;
        selectors[2] = VoucherMarketHandler.redeem.selector;
        selectors[3] = VoucherMarketHandler.reclaim.selector;
        selectors[4] = VoucherMarketHandler.setProtocolFee.selector;
        selectors[5] = VoucherMarketHandler.setClassActive.selector;
        selectors[6] = VoucherMarketHandler.warp.selector;
        selectors[7] = VoucherMarketHandler.warpPastExpiry.selector;
        selectors[8] = VoucherMarketHandler.buy.selector; // weight: buying feeds every other action
        selectors[9] = VoucherMarketHandler.redeem.selector; // weight: the main way out of escrow
        selectors[10] = VoucherMarketHandler.openJob.selector;
        selectors[11] = VoucherMarketHandler.settleJob.selector;
        selectors[12] = VoucherMarketHandler.withdraw.selector;
        selectors[13] = VoucherMarketHandler.settleJob.selector; // weight: jobs settle as often as they open
        targetSelector(FuzzSelector(address(handler), selectors));
        targetContract(address(handler));
    }

    /// @notice (a) Every class escrows exactly unitPrice × outstanding vouchers, those in a job's custody
    ///         included (IVoucherMarket's escrow invariant; DESIGN.md 5).
    function invariant_escrowIsUnitPriceTimesSupply() public view {
        uint256[] memory classes = handler.classIds();
        for (uint256 i; i < classes.length; ++i) {
            uint256 id = classes[i];
            vm.assertEq(
                market.escrowed(id),
                market.getClass(id).unitPrice * market.totalSupply(id),
                string.concat("class ", vm.toString(id), ": escrowed != unitPrice x totalSupply")
            );
        }
    }

    /// @notice (b) The market holds, in each stablecoin, exactly the escrow of that coin's classes plus what it
    ///         owes (providers' pay and the treasury's fees not yet withdrawn): balance == Σ escrowed + Σ owed.
    function invariant_marketBalanceIsEscrowPlusOwedPerCoin() public view {
        address[] memory coins = handler.coins();
        uint256[] memory classes = handler.classIds();
        address[] memory providers = handler.providers();
        for (uint256 k; k < coins.length; ++k) {
            uint256 sum;
            for (uint256 i; i < classes.length; ++i) {
                if (address(market.getClass(classes[i]).stablecoin) == coins[k])
                    sum += market.escrowed(classes[i]);
            }
            sum += market.owed(treasury, IERC20(coins[k]));
            for (uint256 p; p < providers.length; ++p) sum += market.owed(providers[p], IERC20(coins[k]));
            vm.assertEq(
                IERC20(coins[k]).balanceOf(address(market)),
                sum,
                "market balance != sum of escrow + sum of owed"
            );
        }
    }

    /// @notice (c) No leak, exactly: per class, principal in = paid to providers + fees + reclaimed +
    ///         escrowed; per coin, each provider and the treasury is owed exactly what it was credited and has
    ///         not withdrawn, and holds exactly what it withdrew (the treasury: plus the premiums).
    function invariant_principalFullyAccounted() public view {
        uint256[] memory classes = handler.classIds();
        for (uint256 i; i < classes.length; ++i) {
            uint256 id = classes[i];
            vm.assertEq(
                handler.ghostPrincipalIn(id),
                handler.ghostPaid(id) + handler.ghostFees(id) + handler.ghostReclaimed(id) + market.escrowed(id),
                string.concat("class ", vm.toString(id), ": principal in != paid + fees + reclaimed + escrowed")
            );
        }
        address[] memory coins = handler.coins();
        address[] memory providers = handler.providers();
        for (uint256 k; k < coins.length; ++k) {
            IERC20 coin = IERC20(coins[k]);
            uint256 treasuryOut = handler.ghostWithdrawn(coins[k], treasury);
            vm.assertEq(
                market.owed(treasury, coin),
                handler.ghostFeesTo(coins[k]) - treasuryOut,
                "treasury owed != fees - withdrawn"
            );
            vm.assertEq(coin.balanceOf(treasury), handler.ghostPremiumsIn(coins[k]) + treasuryOut, "treasury");
            for (uint256 p; p < providers.length; ++p) {
                uint256 out = handler.ghostWithdrawn(coins[k], providers[p]);
                vm.assertEq(
                    market.owed(providers[p], coin),
                    handler.ghostPaidTo(coins[k], providers[p]) - out,
                    "provider owed != pay - withdrawn"
                );
                vm.assertEq(coin.balanceOf(providers[p]), out, "provider holds other than it withdrew");
            }
        }
    }

    /// @notice (d) No class ever mints past its cap; supply is minted − burned and Σ balances, the job custody
    ///         included, which holds exactly the vouchers of open jobs.
    function invariant_mintedWithinCapAndSupplyConsistent() public view {
        uint256[] memory classes = handler.classIds();
        address[] memory holders = handler.holders();
        for (uint256 i; i < classes.length; ++i) {
            uint256 id = classes[i];
            IVoucherMarket.VoucherClass memory c = market.getClass(id);
            if (c.supplyCap != 0) vm.assertLe(c.minted, c.supplyCap, "minted > supplyCap");
            vm.assertEq(c.minted, handler.ghostMinted(id), "minted != ghost");
            uint256 supply = market.totalSupply(id);
            vm.assertEq(supply, handler.ghostMinted(id) - handler.ghostBurned(id), "supply != minted - burned");
            uint256 custody = market.balanceOf(address(handler), id);
            vm.assertEq(custody, handler.ghostCustody(id), "custody != vouchers of open jobs");
            uint256 sum = custody;
            for (uint256 h; h < holders.length; ++h) sum += market.balanceOf(holders[h], id);
            vm.assertEq(sum, supply, "sum of balances (custody included) != supply");
        }
    }

    /// @notice The engine's ledger holds exactly the redeemed principal, scaled to 18-decimal USD.
    function invariant_revenueReportedToEngine() public view {
        uint256[] memory epochs = handler.epochsSeen();
        uint256 sum;
        for (uint256 i; i < epochs.length; ++i) sum += engine.epochLedger(epochs[i]).voucherRevenueUsd;
        vm.assertEq(sum, handler.ghostRevenueUsd(), "reported revenue != redeemed principal (USD)");
    }

    /// @notice Single-call rules the handler checks (quotes, fee rounding, documented reverts).
    function invariant_handlerChecksHold() public view {
        vm.assertEq(handler.violations(), 0, handler.lastViolation());
    }

    function afterInvariant() public view {
        handler.logCallSummary();
    }
}

/// @notice Provider bond invariants (DESIGN.md invariant 7) under random registrations, bond increases,
///         exits and withdrawal attempts, and the coordinator's jobs (lock, settle after the window),
///         slashes (to a challenger or burned), jails, window/unbonding retunes and time.
/// forge-config: default.invariant.show-metrics = true
contract ProviderBondInvariantTest is Test {
    uint256 internal constant INITIAL_SUPPLY = 10_000_000e18;
    uint256 internal constant MIN_BOND = 1_000e18;

    ProviderBondHandler internal handler;
    ProviderRegistry internal registry;
    ProtocolToken internal token;
    address internal challenger;

    function setUp() public {
        vm.warp(MARKET_START);
        token = new ProtocolToken(
            "Cinder",
            "CNDR",
            INITIAL_SUPPLY,
            1_000_000_000e18,
            address(this),
            address(this)
        );
        ModelRegistry models = new ModelRegistry(address(this));
        models.registerModel(MODEL_ID, keccak256("gguf"), "Llama 3.2 1B", "ipfs://model", "1k output tokens");
        registry = new ProviderRegistry(
            IProtocolToken(address(token)),
            IModelRegistry(address(models)),
            address(this),
            MIN_BOND,
            7 days
        );
        challenger = makeAddr("challenger");

        address[] memory actors = new address[](5);
        for (uint256 i; i < actors.length; ++i) {
            actors[i] = makeAddr(string.concat("provider", vm.toString(i)));
            token.transfer(actors[i], 400_000e18);
        }
        handler = new ProviderBondHandler(token, registry, MODEL_ID, actors, challenger, 2 days);
        registry.setSlashingWindowSource(address(handler));
        registry.grantRole(registry.COORDINATOR_ROLE(), address(handler));
        registry.grantRole(registry.SLASHER_ROLE(), address(handler));
        registry.grantRole(registry.DEFAULT_ADMIN_ROLE(), address(handler));

        // A live start: three of five providers bonded, jobs open on two of them.
        handler.register(0, 50_000e18);
        handler.register(1, 20_000e18);
        handler.register(2, 5_000e18);
        handler.acceptJob(0, 30_000e18);
        handler.acceptJob(1, 12_000e18);

        bytes4[] memory selectors = new bytes4[](13);
        selectors[0] = ProviderBondHandler.register.selector;
        selectors[1] = ProviderBondHandler.increaseBond.selector;
        selectors[2] = ProviderBondHandler.requestExit.selector;
        selectors[3] = ProviderBondHandler.withdrawBond.selector;
        selectors[4] = ProviderBondHandler.acceptJob.selector;
        selectors[5] = ProviderBondHandler.settleJob.selector;
        selectors[6] = ProviderBondHandler.slash.selector;
        selectors[7] = ProviderBondHandler.jail.selector;
        selectors[8] = ProviderBondHandler.retune.selector;
        selectors[9] = ProviderBondHandler.warp.selector;
        selectors[10] = ProviderBondHandler.withdrawBond.selector; // weight: exercise (g) often
        selectors[11] = ProviderBondHandler.acceptJob.selector; // weight: jobs open windows
        selectors[12] = ProviderBondHandler.settleBatch.selector;
        targetSelector(FuzzSelector(address(handler), selectors));
        targetContract(address(handler));
    }

    /// @notice (e) Slashing never exceeds what was bonded: per provider, bond + slashed + withdrawn =
    ///         deposited (across re-registrations), Σ slashed ≤ Σ deposited, every slashed token was burned
    ///         or paid to the challenger, and supply fell by exactly what was burned.
    function invariant_slashingWithinBond() public view {
        address[] memory actors = handler.actors();
        for (uint256 i; i < actors.length; ++i) {
            address a = actors[i];
            vm.assertEq(
                registry.getProvider(a).bond + handler.ghostSlashed(a) + handler.ghostWithdrawn(a),
                handler.ghostDeposited(a),
                string.concat("provider", vm.toString(i), ": bond + slashed + withdrawn != deposited")
            );
        }
        vm.assertLe(handler.ghostTotalSlashed(), handler.ghostTotalDeposited(), "slashed > bonded");
        vm.assertEq(
            handler.ghostTotalSlashed(),
            handler.ghostBurned() + handler.ghostToChallenger(),
            "slashed != burned + to challenger"
        );
        vm.assertEq(token.balanceOf(challenger), handler.ghostToChallenger(), "challenger balance");
        vm.assertEq(token.totalSupply(), INITIAL_SUPPLY - handler.ghostBurned(), "supply != initial - burned");
    }

    /// @notice (f) No provider has more collateral locked than bond.
    function invariant_lockedWithinBond() public view {
        address[] memory actors = handler.actors();
        for (uint256 i; i < actors.length; ++i) {
            IProviderRegistry.ProviderRecord memory p = registry.getProvider(actors[i]);
            vm.assertLe(p.locked, p.bond, "locked > bond");
        }
    }

    /// @notice (g) No provider ever got its bond back while one of its jobs was still slash-eligible; and
    ///         the unbonding period never falls below the slashable window.
    function invariant_noWithdrawalWithOpenWindow() public view {
        vm.assertEq(handler.withdrawalsWithOpenWindow(), 0, handler.lastOpenWindowWithdrawal());
        vm.assertGe(registry.unbondingPeriod(), registry.slashableWindow(), "unbonding < slashable window");
    }

    /// @notice (h) The registry holds exactly the sum of bonds.
    function invariant_registryBalanceIsSumOfBonds() public view {
        address[] memory actors = handler.actors();
        uint256 sum;
        for (uint256 i; i < actors.length; ++i) sum += registry.getProvider(actors[i]).bond;
        vm.assertEq(token.balanceOf(address(registry)), sum, "registry balance != sum of bonds");
    }

    /// @notice Single-call rules the handler checks (slash = min(amount, bond), lock/withdraw/unbonding
    ///         reverts, unbondingEnds, jail never shortens).
    function invariant_handlerChecksHold() public view {
        vm.assertEq(handler.violations(), 0, handler.lastViolation());
    }

    /// @notice Regression (a replayed handler sequence, so the same (g) bookkeeping judges it): a job booked
    ///         under a long window stays slash-eligible after governance shortens the window and the
    ///         unbonding period; a slash caps `locked` at the remaining bond, and settling a second, short job
    ///         releases all of it. `locked == 0` no longer means "every job settled", and the provider
    ///         withdraws its bond while the first job can still be challenged.
    function test_regression_noWithdrawalWhileLongWindowJobOpenAfterSlash() public {
        address p2 = handler.actors()[2]; // registered in setUp with 5 000, no job
        handler.retune(10 days, 10 days); // unbonding 10 d, then window 10 d
        handler.acceptJob(2, 2_000e18); // job B on p2: slash-eligible for 10 days
        ProviderBondHandler.Job memory jobB = handler.job(handler.jobCount() - 1);
        vm.assertEq(jobB.provider, p2, "job B is p2's");
        handler.retune(1 hours, 1 hours); // window 1 h, then unbonding 1 h
        handler.acceptJob(2, 3_000e18); // job A on p2: 1 h window; locked 5 000 = bond
        handler.slash(2, 2_500e18, true); // fault on job B: bond 2 500, locked capped to 2 500
        IProviderRegistry.ProviderRecord memory r = registry.getProvider(p2);
        vm.assertEq(r.bond, 2_500e18, "bond after slash");
        vm.assertEq(r.locked, 2_500e18, "locked capped at the bond");
        handler.requestExit(2); // unbonding ends in 1 h
        handler.withdrawBond(2, 2); // after 1 h: settle job A (releases 2 500: locked 0), then withdraw
        vm.assertLt(block.timestamp, jobB.windowEnd, "job B still slash-eligible");
        vm.assertEq(handler.violations(), 0, handler.lastViolation());
        vm.assertEq(handler.withdrawalsWithOpenWindow(), 0, handler.lastOpenWindowWithdrawal());
    }

    function afterInvariant() public view {
        handler.logCallSummary();
    }
}

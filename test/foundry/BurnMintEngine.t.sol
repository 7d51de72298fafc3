// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Test} from "./utils/Test.sol";
import {ProtocolToken} from "../../contracts/ProtocolToken.sol";
import {StakingVault} from "../../contracts/StakingVault.sol";
import {ComputeCredit} from "../../contracts/ComputeCredit.sol";
import {BurnMintEngine} from "../../contracts/BurnMintEngine.sol";
import {FixedPriceOracle} from "../../contracts/oracles/FixedPriceOracle.sol";
import {IBurnMintEngine} from "../../contracts/interfaces/IBurnMintEngine.sol";
import {IStakingVault} from "../../contracts/interfaces/IStakingVault.sol";
import {IPriceOracle} from "../../contracts/interfaces/IPriceOracle.sol";
import {ICinderErrors} from "../../contracts/interfaces/ICinderErrors.sol";

/// @notice Fuzz tests of BurnMintEngine's formulas against independent arithmetic: credit out, spread,
///         tokens out, the round trip, the emission schedule and the emission split.
/// @dev The test contract is admin of every module, the coordinator, and (for setting up balances) holds
///      ComputeCredit's ENGINE_ROLE. Prices span 1 wei to 1e36 (18 decimals USD), far wider than any real
///      oracle, so the rounding edges (zero output, one-wei spread) are reached.
contract BurnMintEngineTest is Test {
    uint256 internal constant INITIAL_SUPPLY = 100_000_000e18;
    uint256 internal constant MAX_SUPPLY = 1_000_000_000e18;
    uint256 internal constant ALICE_TOKENS = 50_000_000e18;
    uint256 internal constant EMISSION = 1_000e18;
    uint256 internal constant HALVING_EPOCHS = 3;
    uint256 internal constant STAKER_SHARE_BPS = 4_000;
    uint256 internal constant SUBSIDY_BUDGET = 1_000e18;
    uint256 internal constant MIN_PRICE = 1;
    uint256 internal constant MAX_PRICE = 1e36;
    uint256 internal constant START = 1_767_225_600 + 13 hours;

    ProtocolToken internal token;
    StakingVault internal vault;
    ComputeCredit internal credit;
    FixedPriceOracle internal oracle;
    BurnMintEngine internal engine;
    address internal treasury;
    address internal alice;

    function setUp() public {
        vm.warp(START);
        treasury = makeAddr("treasury");
        alice = makeAddr("alice");
        token = new ProtocolToken("Cinder", "CNDR", INITIAL_SUPPLY, MAX_SUPPLY, address(this), address(this));
        vault = new StakingVault(token, address(this), 7 days, 1 days);
        credit = new ComputeCredit("Cinder Compute Credit", "CCR", address(this));
        oracle = new FixedPriceOracle(address(this), 1e18, MIN_PRICE, MAX_PRICE);
        engine = _deployEngine(EMISSION, HALVING_EPOCHS, MAX_SUPPLY);
        credit.grantRole(credit.ENGINE_ROLE(), address(this));
        require(token.transfer(alice, ALICE_TOKENS));
        vm.prank(alice);
        token.approve(address(engine), type(uint256).max);
    }

    // ------------------------------------------------------------------ mintCredits

    /// @notice Burning t tokens at price p with spread s pays floor(t·p/1e18) − ceil(gross·s/1e4) credit to
    ///         the recipient and the spread to the treasury, burns exactly t, and records gross USD and t in
    ///         the epoch ledger; when that credit is zero the call reverts with ZeroAmount.
    function testFuzz_mintCreditsPaysFloorGrossLessCeilSpread(
        uint256 tokens,
        uint256 price,
        uint256 spreadBps,
        bool dust
    ) public {
        (tokens, price) = _boundTokensAndPrice(tokens, price, dust);
        spreadBps = bound(spreadBps, 0, 500);
        oracle.setPrice(price);
        engine.setMintSpreadBps(spreadBps);

        uint256 gross = (tokens * price) / 1e18; // ≤ 5e25 · 1e36, no overflow
        uint256 spread = (gross * spreadBps + 9_999) / 10_000;
        uint256 net = gross - spread;
        (uint256 quotedNet, uint256 quotedSpread) = engine.quoteMintCredits(tokens);
        vm.assertEq(quotedNet, net, "quoted credit");
        vm.assertEq(quotedSpread, spread, "quoted spread");

        if (net == 0) {
            vm.expectRevert(ICinderErrors.ZeroAmount.selector);
            vm.prank(alice);
            engine.mintCredits(tokens, 0, alice);
            return;
        }
        uint256 supplyBefore = token.totalSupply();
        vm.prank(alice);
        uint256 out = engine.mintCredits(tokens, net, alice);

        vm.assertEq(out, net, "credit out");
        vm.assertEq(credit.balanceOf(alice), net, "recipient credit");
        vm.assertEq(credit.balanceOf(treasury), spread, "treasury spread");
        vm.assertEq(credit.totalSupply(), gross, "credit minted = gross");
        vm.assertEq(token.totalSupply(), supplyBefore - tokens, "tokens burned");
        vm.assertEq(token.balanceOf(alice), ALICE_TOKENS - tokens, "payer balance");
        IBurnMintEngine.EpochLedger memory ledger = engine.epochLedger(engine.currentEpoch());
        vm.assertEq(ledger.organicCreditUsd, gross, "ledger organic USD");
        vm.assertEq(ledger.tokensBurned, tokens, "ledger tokens burned");
    }

    /// @notice A minimum above what the price gives reverts with SlippageExceeded(credits, min).
    function testFuzz_mintCreditsRevertsBelowMinimum(uint256 tokens, uint256 price, uint256 extra) public {
        tokens = bound(tokens, 1e18, ALICE_TOKENS);
        price = bound(price, 1e12, MAX_PRICE);
        oracle.setPrice(price);
        (uint256 net, ) = engine.quoteMintCredits(tokens);
        uint256 minOut = net + bound(extra, 1, 1e30);
        vm.expectRevert(abi.encodeWithSelector(IBurnMintEngine.SlippageExceeded.selector, net, minOut));
        vm.prank(alice);
        engine.mintCredits(tokens, minOut, alice);
    }

    // ------------------------------------------------------------------ redeem

    /// @notice Redeeming c credit at price p burns c and mints floor(c·1e18/p) tokens, counted against the
    ///         epoch's cap; when that is zero the call reverts with ZeroAmount.
    function testFuzz_redeemPaysFloorCreditOverPrice(uint256 amount, uint256 price) public {
        price = _boundLog(price, MIN_PRICE, MAX_PRICE);
        oracle.setPrice(price);
        uint256 headroom = MAX_SUPPLY - token.totalSupply(); // < the cap, and no reserve at genesis
        amount = _boundLog(amount, 1, _min((headroom * price) / 1e18, 1e40));
        credit.mint(alice, amount);

        uint256 expected = (amount * 1e18) / price; // ≤ 1e58, no overflow
        vm.assertEq(engine.quoteRedeem(amount), expected, "quote");
        if (expected == 0) {
            vm.expectRevert(ICinderErrors.ZeroAmount.selector);
            vm.prank(alice);
            engine.redeem(amount, 0, alice);
            return;
        }
        vm.prank(alice);
        uint256 out = engine.redeem(amount, expected, alice);

        vm.assertEq(out, expected, "tokens out");
        vm.assertEq(credit.balanceOf(alice), 0, "credit burned");
        vm.assertEq(credit.totalSupply(), 0, "credit supply");
        vm.assertEq(token.balanceOf(alice), ALICE_TOKENS + expected, "tokens minted to recipient");
        vm.assertEq(token.totalSupply(), INITIAL_SUPPLY + expected, "supply");
        vm.assertEq(engine.mintedIn(engine.currentEpoch()), expected, "mintedIn");
        vm.assertEq(engine.epochLedger(engine.currentEpoch()).tokensRedeemed, expected, "ledger tokens redeemed");
    }

    /// @notice A redemption worth more tokens than the epoch cap has left (after the reserve for the previous
    ///         epoch's undistributed emission) reverts with EpochMintCapExceeded(tokens, capacity).
    function testFuzz_redeemBeyondCapacityReverts(
        uint256 cap,
        uint256 excess,
        uint256 price,
        bool distributeFirst
    ) public {
        cap = bound(cap, EMISSION, 100_000e18);
        engine.setEpochMintCap(cap); // in force from the next epoch
        price = bound(price, 1e15, 1e21);
        oracle.setPrice(price);
        vm.warp(START + 1 days);
        vm.assertEq(engine.config().epochMintCap, cap, "cap in force");
        // The genesis epoch is undistributed: its emission is held back. Once distributed (no work: the
        // stakers' share only), what it minted counts instead.
        uint256 used = distributeFirst ? engine.distribute(engine.genesisEpoch()) : EMISSION;
        uint256 capacity = engine.redeemCapacity();
        vm.assertEq(capacity, cap - used, "capacity");

        uint256 tokens = capacity + bound(excess, 1, 1_000_000e18);
        uint256 amount = (tokens * price + 1e18 - 1) / 1e18; // smallest credit worth `tokens`
        uint256 out = (amount * 1e18) / price;
        credit.mint(alice, amount);
        vm.expectRevert(abi.encodeWithSelector(IBurnMintEngine.EpochMintCapExceeded.selector, out, capacity));
        vm.prank(alice);
        engine.redeem(amount, 0, alice);
    }

    /// @notice A new mint cap, higher or lower (even below what this epoch already minted), leaves the running
    ///         epoch under the cap it started with and applies from the next epoch on.
    function testFuzz_aNewMintCapAppliesFromTheNextEpoch(uint256 redeemed, uint256 newCap) public {
        uint256 oldCap = 20_000e18;
        engine.setEpochMintCap(oldCap);
        vm.warp(START + 1 days);
        engine.distribute(engine.genesisEpoch()); // no reserve left to hold back: capacity is the whole cap
        uint256 epoch = engine.currentEpoch();
        uint256 minted = engine.mintedIn(epoch);
        redeemed = bound(redeemed, 1, oldCap - minted);
        credit.mint(alice, redeemed); // at $1, one credit wei per token wei
        vm.prank(alice);
        engine.redeem(redeemed, redeemed, alice);

        newCap = bound(newCap, EMISSION, 50_000e18);
        engine.setEpochMintCap(newCap);
        vm.assertEq(engine.config().epochMintCap, oldCap, "running epoch keeps its cap");
        vm.assertEq(engine.redeemCapacity(), oldCap - minted - redeemed, "running epoch's capacity unchanged");
        vm.assertLe(engine.mintedIn(epoch), engine.config().epochMintCap, "mintedIn within the cap in force");

        vm.warp(block.timestamp + 1 days);
        vm.assertEq(engine.config().epochMintCap, newCap, "new cap from the next epoch");
        vm.assertEq(engine.redeemCapacity(), newCap - EMISSION, "next epoch: new cap less the reserve");
    }

    // ------------------------------------------------------------------ round trip

    /// @notice Burning tokens for credit and redeeming all of it at the same price never returns more tokens
    ///         than were burned, and loses at most the spread plus rounding: t − out ≤ t·s/1e4 + 2e18/p + 1.
    function testFuzz_roundTripAtConstantPriceCreatesNoTokens(
        uint256 tokens,
        uint256 price,
        uint256 spreadBps
    ) public {
        (tokens, price) = _boundTokensAndPrice(tokens, price, false);
        spreadBps = bound(spreadBps, 0, 500);
        oracle.setPrice(price);
        engine.setMintSpreadBps(spreadBps);

        vm.prank(alice);
        uint256 credits = engine.mintCredits(tokens, 0, alice);

        uint256 out;
        if (engine.quoteRedeem(credits) == 0) {
            vm.expectRevert(ICinderErrors.ZeroAmount.selector);
            vm.prank(alice);
            engine.redeem(credits, 0, alice);
        } else {
            vm.prank(alice);
            out = engine.redeem(credits, 0, alice);
        }

        vm.assertLe(out, tokens, "round trip created tokens");
        uint256 lossBound = (tokens * spreadBps + 9_999) / 10_000 + (2e18 + price - 1) / price + 1;
        vm.assertLe(tokens - out, lossBound, "round trip lost more than spread + rounding");
        vm.assertEq(token.balanceOf(alice), ALICE_TOKENS - tokens + out, "payer balance");
    }

    // ------------------------------------------------------------------ emission schedule

    /// @notice emissionFor is emissionPerEpoch at genesis, 0 before it, constant within each halving period,
    ///         and exactly halves (rounding down) from one period to the next, reaching 0 after 256 halvings.
    function testFuzz_emissionHalvesExactlyEveryHalvingEpochs(
        uint256 emission,
        uint256 halvingEpochs,
        uint256 period,
        uint256 offset
    ) public {
        emission = bound(emission, 0, MAX_SUPPLY);
        halvingEpochs = bound(halvingEpochs, 1, 1_000);
        period = bound(period, 0, 300);
        offset = bound(offset, 0, halvingEpochs - 1);
        BurnMintEngine e = _deployEngine(emission, halvingEpochs, MAX_SUPPLY);
        uint256 g = e.genesisEpoch();

        vm.assertEq(e.emissionFor(g), emission, "genesis emission");
        vm.assertEq(e.emissionFor(g - 1), 0, "before genesis");
        uint256 start = g + period * halvingEpochs;
        uint256 here = e.emissionFor(start);
        vm.assertEq(e.emissionFor(start + offset), here, "constant within a period");
        vm.assertEq(e.emissionFor(start + halvingEpochs), here / 2, "halves at the next period");
        vm.assertEq(here, period >= 256 ? 0 : emission >> period, "emission after `period` halvings");
    }

    // ------------------------------------------------------------------ distribution

    /// @notice distribute splits the epoch's emission stakerShareBps to the vault and the rest to providers
    ///         (nothing for providers without work), at most once; claims pay floor(pool·work/Σwork) each.
    function testFuzz_distributeSplitsOnceAndClaimsProRata(uint256 shareBps, uint256 work1, uint256 work2) public {
        shareBps = bound(shareBps, 0, 10_000);
        work1 = bound(work1, 0, 1e30);
        work2 = bound(work2, 0, 1e30);
        engine.setStakerShareBps(shareBps);
        address p1 = makeAddr("provider1");
        address p2 = makeAddr("provider2");
        engine.grantRole(engine.COORDINATOR_ROLE(), address(this));
        if (work1 != 0) engine.recordWork(p1, work1, false);
        if (work2 != 0) engine.recordWork(p2, work2, true);
        uint256 g = engine.genesisEpoch();
        vm.warp(START + 1 days);

        uint256 toStakers = (EMISSION * shareBps) / 10_000;
        uint256 pool = work1 + work2 == 0 ? 0 : EMISSION - toStakers;
        uint256 emitted = engine.distribute(g);
        vm.assertEq(emitted, toStakers + pool, "emitted");
        vm.assertEq(engine.epochLedger(g).providerPool, pool, "provider pool");
        vm.assertEq(token.balanceOf(address(vault)), toStakers, "vault funded");
        vm.assertEq(token.balanceOf(address(engine)), pool, "engine holds the pool");
        vm.assertEq(engine.mintedIn(g + 1), emitted, "counted in the epoch it ran");

        vm.expectRevert(abi.encodeWithSelector(IBurnMintEngine.AlreadyDistributed.selector, g));
        engine.distribute(g);

        uint256[] memory epochs = new uint256[](1);
        epochs[0] = g;
        uint256 total = work1 + work2;
        vm.prank(p1);
        uint256 got1 = engine.claimEmissions(epochs);
        vm.prank(p2);
        uint256 got2 = engine.claimEmissions(epochs);
        vm.assertEq(got1, total == 0 ? 0 : (pool * work1) / total, "provider1 share");
        vm.assertEq(got2, total == 0 ? 0 : (pool * work2) / total, "provider2 share");
        vm.assertLe(got1 + got2, pool, "claims exceed the pool");
        vm.assertEq(token.balanceOf(address(engine)), pool - got1 - got2, "engine keeps the dust");
    }

    // ------------------------------------------------------------------ subsidy

    /// @notice Returned subsidy leaves its epoch's `subsidyMintedUsd` (and the current budget, if that epoch is
    ///         the current one) exactly as if never minted, burns exactly the caller's returned credit, and can
    ///         never exceed what the epoch minted.
    function testFuzz_returnedSubsidyGoesBackToItsEpoch(uint256 minted, uint256 returned, bool later) public {
        engine.grantRole(engine.COORDINATOR_ROLE(), address(this));
        minted = bound(minted, 1, SUBSIDY_BUDGET);
        returned = bound(returned, 1, minted);
        uint256 g = engine.currentEpoch();
        engine.mintSubsidisedCredits(address(this), minted);
        if (later) vm.warp(block.timestamp + 1 days);

        vm.expectRevert(
            abi.encodeWithSelector(
                ICinderErrors.ParameterOutOfBounds.selector,
                bytes32("subsidyReturned"),
                minted + 1,
                1,
                minted
            )
        );
        engine.returnSubsidisedCredits(g, minted + 1);

        uint256 supply = credit.totalSupply();
        engine.returnSubsidisedCredits(g, returned);
        vm.assertEq(engine.epochLedger(g).subsidyMintedUsd, minted - returned, "epoch's subsidy net of returns");
        vm.assertEq(credit.balanceOf(address(this)), minted - returned, "caller's credit burned");
        vm.assertEq(credit.totalSupply(), supply - returned, "supply");
        vm.assertEq(
            engine.subsidyRemaining(),
            later ? SUBSIDY_BUDGET : SUBSIDY_BUDGET - (minted - returned),
            "current budget"
        );
    }

    // ------------------------------------------------------------------ helpers

    function _deployEngine(
        uint256 emission,
        uint256 halvingEpochs,
        uint256 cap
    ) internal returns (BurnMintEngine e) {
        e = new BurnMintEngine(
            token,
            credit,
            IStakingVault(address(vault)),
            IPriceOracle(address(oracle)),
            treasury,
            address(this),
            IBurnMintEngine.Config({
                mintSpreadBps: 25,
                epochMintCap: cap,
                emissionPerEpoch: emission,
                halvingEpochs: halvingEpochs,
                stakerShareBps: STAKER_SHARE_BPS,
                subsidyBudgetUsd: SUBSIDY_BUDGET
            })
        );
        token.grantRole(token.MINTER_ROLE(), address(e));
        vault.grantRole(vault.REWARDER_ROLE(), address(e));
        credit.grantRole(credit.ENGINE_ROLE(), address(e));
    }

    /// @dev Token amount and price, both spread over every order of magnitude. Unless `dust`, the purchase is
    ///      worth at least 2 wei of credit, so the output is non-zero even after a rounded-up spread (≤ 5 %);
    ///      with `dust` anything goes, zero output included.
    function _boundTokensAndPrice(
        uint256 tokens,
        uint256 price,
        bool dust
    ) internal pure returns (uint256, uint256) {
        if (dust) return (_boundLog(tokens, 1, ALICE_TOKENS), _boundLog(price, MIN_PRICE, MAX_PRICE));
        price = _boundLog(price, 1e11, MAX_PRICE); // so 2e18 / price ≤ 2e7 ≤ ALICE_TOKENS
        return (_boundLog(tokens, (2e18 + price - 1) / price, ALICE_TOKENS), price);
    }

    /// @dev Bounds `seed` into [lo, hi] with a roughly uniform order of magnitude (its top byte picks the
    ///      number of digits), so tiny and huge values are drawn as often as each other.
    function _boundLog(uint256 seed, uint256 lo, uint256 hi) internal pure returns (uint256) {
        uint256 digits = bound(seed >> 248, 0, 77);
        uint256 top = digits >= 77 ? type(uint256).max : 10 ** (digits + 1) - 1;
        uint256 x = bound(seed, digits == 0 ? 0 : 10 ** digits, top);
        return
            x < lo
                ? lo
                : x > hi
                    ? hi
                    : x;
    }

    function _min(uint256 a, uint256 b) internal pure returns (uint256) {
        return a < b ? a : b;
    }
}

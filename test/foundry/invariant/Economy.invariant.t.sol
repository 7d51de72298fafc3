// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Test} from "../utils/Test.sol";
import {EconomyHandler} from "./handlers/EconomyHandler.sol";
import {ProtocolToken} from "../../../contracts/ProtocolToken.sol";
import {StakingVault} from "../../../contracts/StakingVault.sol";
import {ComputeCredit} from "../../../contracts/ComputeCredit.sol";
import {BurnMintEngine} from "../../../contracts/BurnMintEngine.sol";
import {FixedPriceOracle} from "../../../contracts/oracles/FixedPriceOracle.sol";
import {IBurnMintEngine} from "../../../contracts/interfaces/IBurnMintEngine.sol";
import {IStakingVault} from "../../../contracts/interfaces/IStakingVault.sol";
import {IPriceOracle} from "../../../contracts/interfaces/IPriceOracle.sol";

/// @notice Invariants of the burn-and-mint economy (DESIGN.md invariants 1 and 4, and the engine's
///         per-epoch rules) under random sequences of `EconomyHandler` actions.
/// @dev The numbers make every limit reachable within a 32-call run (default profile: 64 runs × 32 calls):
///      - maxSupply = initial supply: a fully issued token, so redemptions and emissions only re-issue what was
///        burned (the opening credit purchases burn 900 tokens); about 40 % of runs press against the cap;
///      - the epoch mint cap (1 500 at first; governance moves it between 1 000 and 3 000) is 1.5 emissions, so while the previous epoch is undistributed its
///        1 000-token reserve leaves redemptions 500, and a late distribution after the daily one is refused;
///      - the emission (1 000 per epoch) halves every 3 epochs, and runs span about 5 epochs;
///      - the $2 000 per-epoch subsidy budget makes subsidised credit a real source of new supply;
///      - the price starts at $1 and moves ×/÷ up to 2 per step within [$0.01, $100].
///      The handler's counters (logged by `afterInvariant` at -vv) show what each run exercised.
contract EconomyInvariantTest is Test {
    uint256 internal constant INITIAL_SUPPLY = 1_000_000e18;
    uint256 internal constant MAX_SUPPLY = 1_000_000e18;
    uint256 internal constant USER_GRANT = 100_000e18;
    uint256 internal constant EMISSION = 1_000e18;
    uint256 internal constant HALVING_EPOCHS = 3;
    uint256 internal constant EPOCH_MINT_CAP = 1_500e18;
    uint256 internal constant STAKER_SHARE_BPS = 4_000;
    uint256 internal constant SUBSIDY_BUDGET = 2_000e18;
    uint256 internal constant SPREAD_BPS = 300;
    uint256 internal constant MIN_PRICE = 0.01e18;
    uint256 internal constant MAX_PRICE = 100e18;

    /// @dev 2026-01-01 13:00 UTC: mid-day, so short warps cross UTC midnight.
    uint256 internal constant START = 1_767_225_600 + 13 hours;

    ProtocolToken internal token;
    StakingVault internal vault;
    ComputeCredit internal credit;
    FixedPriceOracle internal oracle;
    BurnMintEngine internal engine;
    EconomyHandler internal handler;
    address internal treasury;

    function setUp() public {
        vm.warp(START);
        treasury = makeAddr("treasury");
        token = new ProtocolToken("Cinder", "CNDR", INITIAL_SUPPLY, MAX_SUPPLY, address(this), address(this));
        vault = new StakingVault(token, address(this), 7 days, 1 days);
        credit = new ComputeCredit("Cinder Compute Credit", "CCR", address(this));
        oracle = new FixedPriceOracle(address(this), 1e18, MIN_PRICE, MAX_PRICE);
        engine = new BurnMintEngine(
            token,
            credit,
            IStakingVault(address(vault)),
            IPriceOracle(address(oracle)),
            treasury,
            address(this),
            IBurnMintEngine.Config({
                mintSpreadBps: SPREAD_BPS,
                epochMintCap: EPOCH_MINT_CAP,
                emissionPerEpoch: EMISSION,
                halvingEpochs: HALVING_EPOCHS,
                stakerShareBps: STAKER_SHARE_BPS,
                subsidyBudgetUsd: SUBSIDY_BUDGET
            })
        );

        address[] memory users = new address[](3);
        users[0] = makeAddr("alice");
        users[1] = makeAddr("bob");
        users[2] = makeAddr("carol");
        address[] memory providers = new address[](3);
        providers[0] = makeAddr("provider0");
        providers[1] = makeAddr("provider1");
        providers[2] = makeAddr("provider2");
        for (uint256 i; i < users.length; ++i) token.transfer(users[i], USER_GRANT);

        handler = new EconomyHandler(
            EconomyHandler.Deployment(token, vault, credit, oracle, engine, treasury),
            users,
            providers
        );

        token.grantRole(token.MINTER_ROLE(), address(engine));
        vault.grantRole(vault.REWARDER_ROLE(), address(engine));
        credit.grantRole(credit.ENGINE_ROLE(), address(engine));
        credit.grantRole(credit.PROTOCOL_ROLE(), address(handler));
        engine.grantRole(engine.COORDINATOR_ROLE(), address(handler));
        engine.grantRole(engine.REPORTER_ROLE(), address(handler));
        engine.grantRole(engine.DEFAULT_ADMIN_ROLE(), address(handler)); // spread and mint cap changes
        oracle.grantRole(oracle.DEFAULT_ADMIN_ROLE(), address(handler));
        handler.bootstrap();

        vm.label(address(token), "token");
        vm.label(address(vault), "vault");
        vm.label(address(credit), "credit");
        vm.label(address(oracle), "oracle");
        vm.label(address(engine), "engine");
        vm.label(address(handler), "handler");

        targetContract(address(handler));
        bytes4[] memory selectors = new bytes4[](16);
        selectors[0] = EconomyHandler.mintCredits.selector;
        selectors[1] = EconomyHandler.redeem.selector;
        selectors[2] = EconomyHandler.payProvider.selector;
        selectors[3] = EconomyHandler.recordWork.selector;
        selectors[4] = EconomyHandler.mintSubsidisedCredits.selector;
        selectors[5] = EconomyHandler.recordVoucherRevenue.selector;
        selectors[6] = EconomyHandler.stake.selector;
        selectors[7] = EconomyHandler.claimStakingRewards.selector;
        selectors[8] = EconomyHandler.burnTokens.selector;
        selectors[9] = EconomyHandler.movePrice.selector;
        selectors[10] = EconomyHandler.warp.selector;
        selectors[11] = EconomyHandler.distribute.selector;
        selectors[12] = EconomyHandler.claimEmissions.selector;
        selectors[13] = EconomyHandler.warpToNextEpoch.selector;
        selectors[14] = EconomyHandler.setMintSpreadBps.selector;
        selectors[15] = EconomyHandler.setEpochMintCap.selector;
        targetSelector(FuzzSelector({addr: address(handler), selectors: selectors}));
    }

    // ------------------------------------------------------------------ invariants

    /// @notice Every action did what the spec predicts: exact outputs on success, the predicted error on
    ///         failure (fail_on_revert is off, so this is what turns a wrong revert into a failure).
    function invariant_everyCallMatchesTheModel() public view {
        vm.assertEq(handler.unexpected(), 0, handler.lastUnexpected());
    }

    /// @notice (a) DESIGN 4: ComputeCredit supply = Σ minted (purchases net + spread, subsidy) − Σ burned
    ///         (redemptions); payments through the escrow move credit without changing supply.
    function invariant_creditSupplyIsMintedMinusBurned() public view {
        vm.assertEq(
            credit.totalSupply(),
            handler.ghostCreditMinted() - handler.ghostCreditBurned(),
            "credit supply != minted - burned"
        );
        vm.assertEq(credit.balanceOf(address(handler)), handler.ghostEscrow(), "escrow balance");
    }

    /// @notice (b) DESIGN 1: token supply = initial + Σ minted (redemptions, emissions) − Σ burned
    ///         (credit purchases, holders' own burns) ≤ maxSupply.
    function invariant_tokenSupplyIsInitialPlusMintedMinusBurned() public view {
        uint256 supply = token.totalSupply();
        vm.assertLe(supply, token.maxSupply(), "supply > maxSupply");
        vm.assertEq(
            supply,
            INITIAL_SUPPLY + handler.ghostTokenMinted() - handler.ghostTokenBurned(),
            "supply != initial + minted - burned"
        );
    }

    /// @notice The engine's own ledger agrees with the token: Σ over epochs of netSupplyChange (redeemed +
    ///         emitted − burned for credit) = supply − initial + holders' own burns.
    function invariant_ledgerNetSupplyChangeSumsToSupplyChange() public view {
        int256 net;
        uint256 current = handler.currentEpoch();
        for (uint256 e = handler.genesis(); e <= current; ++e) net += engine.netSupplyChange(e);
        vm.assertEq(
            net,
            int256(token.totalSupply()) - int256(INITIAL_SUPPLY) + int256(handler.ghostDirectBurns()),
            "sum of netSupplyChange != supply change"
        );
    }

    /// @notice (c) For every epoch so far, tokens minted in it (redemptions + distributions executed in it)
    ///         stay within the mint cap in force during that epoch (governance changes apply from the next
    ///         epoch), and match the handler's count; the engine reports the cap the spec says is in force.
    function invariant_epochMintCapHolds() public {
        vm.warp(handler.time());
        uint256 current = handler.currentEpoch();
        for (uint256 e = handler.genesis(); e <= current; ++e) {
            uint256 minted = engine.mintedIn(e);
            vm.assertLe(minted, handler.capOf(e), "mintedIn > the epoch's mint cap");
            vm.assertEq(minted, handler.ghostMintedIn(e), "mintedIn != ghost");
        }
        vm.assertEq(engine.config().epochMintCap, handler.capOf(current), "cap in force != model");
    }

    /// @notice (d) Each epoch is distributed at most once, the ledger flag matches, and a second
    ///         `distribute` of a distributed epoch always reverts with AlreadyDistributed.
    function invariant_eachEpochDistributedAtMostOnce() public {
        vm.warp(handler.time());
        uint256 current = handler.currentEpoch();
        for (uint256 e = handler.genesis(); e <= current; ++e) {
            uint256 count = handler.ghostDistributions(e);
            vm.assertLe(count, 1, "epoch distributed more than once");
            vm.assertEq(engine.epochLedger(e).distributed, count == 1, "ledger flag != ghost");
        }
        uint256[] memory done = handler.distributedEpochs();
        for (uint256 i; i < done.length; ++i) {
            try engine.distribute(done[i]) {
                vm.assertTrue(false, "second distribute succeeded");
            } catch (bytes memory err) {
                vm.assertEq(
                    keccak256(err),
                    keccak256(abi.encodeWithSelector(IBurnMintEngine.AlreadyDistributed.selector, done[i])),
                    "second distribute: wrong error"
                );
            }
        }
    }

    /// @notice (e) The engine holds at least the unclaimed part of every provider pool: its balance covers
    ///         Σ pools − Σ claimed (ghosts) and Σ claimableEmission over all providers and epochs.
    function invariant_engineHoldsUnclaimedProviderPools() public view {
        uint256 held = token.balanceOf(address(engine));
        uint256 pools;
        uint256 claimable;
        uint256[] memory done = handler.distributedEpochs();
        address[] memory providers = handler.providers();
        for (uint256 i; i < done.length; ++i) {
            pools += engine.epochLedger(done[i]).providerPool;
            for (uint256 p; p < providers.length; ++p)
                claimable += engine.claimableEmission(done[i], providers[p]);
        }
        vm.assertEq(pools, handler.ghostPoolTotal(), "sum of provider pools != ghost");
        vm.assertGe(held, pools - handler.ghostClaimedTotal(), "engine holds less than unclaimed pools");
        vm.assertGe(held, claimable, "engine holds less than claimable emissions");
    }

    /// @notice (f) For every epoch: subsidyRatio ≤ 100 % (and equals subsidised / all work), and subsidised
    ///         credit minted stays within the per-epoch budget (and matches the handler's count).
    function invariant_subsidyBounded() public view {
        uint256 current = handler.currentEpoch();
        for (uint256 e = handler.genesis(); e <= current; ++e) {
            uint256 ratio = engine.subsidyRatio(e);
            vm.assertLe(ratio, 10_000, "subsidyRatio > 100%");
            uint256 work = handler.ghostWorkUsd(e);
            vm.assertEq(
                ratio,
                work == 0 ? 0 : (handler.ghostSubsidisedWorkUsd(e) * 10_000) / work,
                "ratio != model"
            );
            IBurnMintEngine.EpochLedger memory ledger = engine.epochLedger(e);
            vm.assertLe(ledger.subsidyMintedUsd, SUBSIDY_BUDGET, "subsidy minted > budget");
            vm.assertEq(ledger.subsidyMintedUsd, handler.ghostSubsidyUsd(e), "subsidy minted != ghost");
        }
    }

    // ------------------------------------------------------------------ coverage report

    /// @notice After each run, logs per action how many calls took effect, reverted as predicted or were
    ///         skipped, and how often each limit bit (visible with -vv; the runner aggregates nothing).
    function afterInvariant() public view {
        bytes32[16] memory actions = [
            bytes32("mintCredits"),
            "redeem",
            "payProvider",
            "recordWork",
            "mintSubsidisedCredits",
            "recordVoucherRevenue",
            "stake",
            "claimStakingRewards",
            "burnTokens",
            "movePrice",
            "warp",
            "distribute",
            "claimEmissions",
            "warpToNextEpoch",
            "setMintSpreadBps",
            "setEpochMintCap"
        ];
        for (uint256 i; i < actions.length; ++i) {
            _log(
                string.concat(
                    "stat ",
                    _name(actions[i]),
                    " done=",
                    vm.toString(handler.done(actions[i])),
                    " expectedRevert=",
                    vm.toString(handler.expectedReverts(actions[i])),
                    " skipped=",
                    vm.toString(handler.skipped(actions[i]))
                )
            );
        }
        _log(
            string.concat(
                "stat limits maxSupplyHits=",
                vm.toString(handler.maxSupplyHits()),
                " epochCapHits=",
                vm.toString(handler.epochCapHits()),
                " epochs=",
                vm.toString(handler.currentEpoch() - handler.genesis()),
                " distributed=",
                vm.toString(handler.distributedEpochs().length),
                " headroomLeft=",
                vm.toString((token.maxSupply() - token.totalSupply()) / 1e18)
            )
        );
    }

    function _name(bytes32 action) private pure returns (string memory) {
        uint256 n;
        while (n < 32 && action[n] != 0) ++n;
        bytes memory out = new bytes(n);
        for (uint256 i; i < n; ++i) out[i] = action[i];
        return string(out);
    }

    /// @dev console.log(string) without depending on a console library.
    function _log(string memory message) private view {
        address console = 0x000000000000000000636F6e736F6c652e6c6f67;
        bytes memory payload = abi.encodeWithSignature("log(string)", message);
        // solhint-disable-next-line avoid-low-level-calls
        (bool ok, ) = console.staticcall(payload);
        ok; // the console precompile never fails; nothing to handle
    }
}

// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {CoreFixture} from "./CoreFixture.sol";
import {ComputeCredit} from "../../../contracts/ComputeCredit.sol";
import {FixedPriceOracle} from "../../../contracts/oracles/FixedPriceOracle.sol";
import {BurnMintEngine} from "../../../contracts/BurnMintEngine.sol";
import {ModelRegistry} from "../../../contracts/ModelRegistry.sol";
import {ProviderRegistry} from "../../../contracts/ProviderRegistry.sol";
import {VoucherMarket} from "../../../contracts/VoucherMarket.sol";
import {JobCoordinator} from "../../../contracts/JobCoordinator.sol";
import {DisputeModule} from "../../../contracts/DisputeModule.sol";
import {ArbiterCommitteeVerifier} from "../../../contracts/verifiers/ArbiterCommitteeVerifier.sol";
import {CinderTimelock} from "../../../contracts/governance/CinderTimelock.sol";
import {MockStablecoin} from "../../../contracts/mocks/MockStablecoin.sol";
import {IBurnMintEngine} from "../../../contracts/interfaces/IBurnMintEngine.sol";
import {IStakingVault} from "../../../contracts/interfaces/IStakingVault.sol";
import {IPriceOracle} from "../../../contracts/interfaces/IPriceOracle.sol";
import {IProtocolToken} from "../../../contracts/interfaces/IProtocolToken.sol";
import {IModelRegistry} from "../../../contracts/interfaces/IModelRegistry.sol";

/// @dev The AccessControl surface the hand-over needs (every Cinder module has it).
interface IRoles {
    function grantRole(bytes32 role, address account) external;

    function renounceRole(bytes32 role, address account) external;

    function hasRole(bytes32 role, address account) external view returns (bool);
}

/// @notice The whole protocol as `npm run deploy:local` deploys it (deploy/modules/CinderLocal.ts): CinderCore
///         (through CoreFixture), CinderEconomy, CinderMarket, CinderJobs with every role they wire, the local
///         genesis of CinderLocalSetup (a 6-decimal mock USDC, the demo model, voucher class 1), and the `governed`
///         hand-over: a CinderTimelock receives DEFAULT_ADMIN_ROLE on all twelve modules, the guardian
///         GUARDIAN_ROLE on the six pausable ones, and the deployer (this test contract, which is also the
///         treasury holding the initial supply) renounces its admin role everywhere.
/// @dev Every parameter is the deploy modules' default. The one addition to the local genesis is voucher class 2,
///      which expires (CLASS2_EXPIRY after START) and is capped, so reclaims and expiry races are reachable.
abstract contract SystemFixture is CoreFixture {
    uint256 internal constant WAD = 1e18;
    uint256 internal constant USDC = 1e6;
    bytes32 internal constant DEFAULT_ADMIN = bytes32(0);
    bytes32 internal constant GUARDIAN_ROLE = keccak256("GUARDIAN_ROLE");

    // CinderEconomy defaults.
    uint256 internal constant INITIAL_PRICE = 2 * WAD;
    uint256 internal constant MIN_PRICE = WAD / 1_000;
    uint256 internal constant MAX_PRICE = 1_000 * WAD;
    uint256 internal constant MINT_SPREAD_BPS = 25;
    uint256 internal constant EPOCH_MINT_CAP = 1_000_000 * WAD;
    uint256 internal constant EMISSION_PER_EPOCH = 50_000 * WAD;
    uint256 internal constant HALVING_EPOCHS = 365;
    uint256 internal constant STAKER_SHARE_BPS = 5_000;
    uint256 internal constant SUBSIDY_BUDGET_USD = 1_000 * WAD;
    // CinderMarket defaults.
    uint256 internal constant MIN_BOND = 1_000 * WAD;
    uint256 internal constant UNBONDING = 7 days;
    uint256 internal constant PROTOCOL_FEE_BPS = 100;
    // CinderJobs defaults.
    uint256 internal constant CHALLENGE_WINDOW = 1 hours;
    uint256 internal constant MIN_JOB = 60;
    uint256 internal constant MAX_JOB = 1 days;
    uint256 internal constant COLLATERAL_PER_USD = WAD;
    uint256 internal constant LATE_SLASH_BPS = 1_000;
    uint256 internal constant CHALLENGE_BOND = 100 * WAD;
    uint256 internal constant DISPUTE_TIMEOUT = 1 days;
    uint256 internal constant FAULT_SLASH_BPS = 1_000;
    uint256 internal constant FINDER_FEE_BPS = 5_000;
    uint256 internal constant JAIL = 30 days;
    // Cinder (governed) defaults.
    uint256 internal constant TIMELOCK_DELAY = 8 days;
    // CinderLocalSetup: the demo model and voucher class 1 (1 voucher = 100 000 output tokens for 1 USDC + 3 %).
    bytes32 internal constant MODEL = 0xd49ec54d17ac7615566ccc37b8135515ab78b89f0e95139e24fb4664f3bafd10;
    bytes32 internal constant MODEL_WEIGHTS = 0x270cba1bd5109f42d03350f60406024560464db173c0e387d91f0426d3bd256d;
    uint256 internal constant CLASS1_UNITS = 100_000;
    uint256 internal constant CLASS1_PRICE = USDC;
    uint16 internal constant CLASS1_PREMIUM_BPS = 300;
    // Class 2 (this fixture's addition): 1 000 units for 0.050001 USDC (odd, so premium and fee rounding show)
    // + 5 %, expiring, at most 20 000 vouchers.
    uint256 internal constant CLASS2_UNITS = 1_000;
    uint256 internal constant CLASS2_PRICE = USDC / 20 + 1;
    uint16 internal constant CLASS2_PREMIUM_BPS = 500;
    uint256 internal constant CLASS2_EXPIRY = 3 days;
    uint256 internal constant CLASS2_CAP = 20_000;

    ComputeCredit internal computeCredit;
    FixedPriceOracle internal oracle;
    BurnMintEngine internal engine;
    ModelRegistry internal models;
    ProviderRegistry internal registry;
    VoucherMarket internal market;
    JobCoordinator internal coordinator;
    ArbiterCommitteeVerifier internal verifier;
    DisputeModule internal disputes;
    CinderTimelock internal timelock;
    MockStablecoin internal usdc;
    uint256 internal class1;
    uint256 internal class2;

    /// @dev Deploys and wires everything, the local genesis included, with this contract as deployer, admin and
    ///      treasury, and `arbiter` as the committee's first arbiter. Governance is handed over separately
    ///      (`_handOver`), after the test's own genesis.
    function _deploySystem(address arbiter) internal {
        _deployCore(INITIAL_SUPPLY, MAX_SUPPLY);
        _deployEconomy();
        _deployMarket();
        _deployJobs(arbiter);
        _localGenesis();
    }

    /// @dev CinderEconomy: ComputeCredit, the FixedPriceOracle, the engine with MINTER, REWARDER and ENGINE roles.
    function _deployEconomy() private {
        computeCredit = new ComputeCredit("Cinder Compute Credit", "CCR", address(this));
        oracle = new FixedPriceOracle(address(this), INITIAL_PRICE, MIN_PRICE, MAX_PRICE);
        engine = new BurnMintEngine(
            IProtocolToken(address(token)),
            computeCredit,
            IStakingVault(address(vault)),
            IPriceOracle(address(oracle)),
            address(this),
            address(this),
            IBurnMintEngine.Config({
                mintSpreadBps: MINT_SPREAD_BPS,
                epochMintCap: EPOCH_MINT_CAP,
                emissionPerEpoch: EMISSION_PER_EPOCH,
                halvingEpochs: HALVING_EPOCHS,
                stakerShareBps: STAKER_SHARE_BPS,
                subsidyBudgetUsd: SUBSIDY_BUDGET_USD
            })
        );
        token.grantRole(token.MINTER_ROLE(), address(engine));
        vault.grantRole(vault.REWARDER_ROLE(), address(engine));
        computeCredit.grantRole(computeCredit.ENGINE_ROLE(), address(engine));
    }

    /// @dev CinderMarket: ModelRegistry, ProviderRegistry, VoucherMarket with the engine's REPORTER_ROLE.
    function _deployMarket() private {
        models = new ModelRegistry(address(this));
        registry = new ProviderRegistry(
            IProtocolToken(address(token)),
            IModelRegistry(address(models)),
            address(this),
            MIN_BOND,
            UNBONDING
        );
        market = new VoucherMarket(
            "https://cinder.example/vouchers/{id}.json",
            engine,
            address(this),
            address(this),
            PROTOCOL_FEE_BPS
        );
        engine.grantRole(engine.REPORTER_ROLE(), address(market));
    }

    /// @dev CinderJobs: coordinator, verifier (threshold 1), dispute module, every grant of the module, the dispute
    ///      module set, the registry's slashing-window source, and the first arbiter.
    function _deployJobs(address arbiter) private {
        coordinator = new JobCoordinator(
            registry,
            market,
            credit,
            computeCredit,
            engine,
            address(this),
            JobCoordinator.Config({
                challengeWindow: CHALLENGE_WINDOW,
                minJobDuration: MIN_JOB,
                maxJobDuration: MAX_JOB,
                collateralPerUsd: COLLATERAL_PER_USD,
                lateSlashBps: LATE_SLASH_BPS
            })
        );
        verifier = new ArbiterCommitteeVerifier(coordinator, address(this), 1);
        disputes = new DisputeModule(
            coordinator,
            registry,
            verifier,
            address(this),
            DisputeModule.Config({
                challengeBond: CHALLENGE_BOND,
                disputeTimeout: DISPUTE_TIMEOUT,
                faultSlashBps: FAULT_SLASH_BPS,
                finderFeeBps: FINDER_FEE_BPS,
                jailDuration: JAIL
            })
        );
        registry.grantRole(registry.COORDINATOR_ROLE(), address(coordinator));
        registry.grantRole(registry.SLASHER_ROLE(), address(coordinator));
        registry.grantRole(registry.SLASHER_ROLE(), address(disputes));
        market.grantRole(market.REDEEMER_ROLE(), address(coordinator));
        credit.grantRole(credit.SPENDER_ROLE(), address(coordinator));
        computeCredit.grantRole(computeCredit.PROTOCOL_ROLE(), address(coordinator));
        engine.grantRole(engine.COORDINATOR_ROLE(), address(coordinator));
        coordinator.setDisputeModule(address(disputes));
        registry.setSlashingWindowSource(address(coordinator));
        verifier.grantRole(verifier.ARBITER_ROLE(), arbiter);
    }

    /// @dev CinderLocalSetup: mock USDC, the demo model, voucher class 1; plus the expiring, capped class 2.
    function _localGenesis() private {
        usdc = new MockStablecoin("USD Coin (local)", "USDC", 6);
        models.registerModel(
            MODEL,
            MODEL_WEIGHTS,
            "stories260K (TinyStories, llama.cpp GGUF)",
            "https://huggingface.co/ggml-org/models/tree/main/tinyllamas",
            "1 output token"
        );
        class1 = market.createClass(MODEL, usdc, CLASS1_UNITS, CLASS1_PRICE, CLASS1_PREMIUM_BPS, 0, 0);
        class2 = market.createClass(
            MODEL,
            usdc,
            CLASS2_UNITS,
            CLASS2_PRICE,
            CLASS2_PREMIUM_BPS,
            uint64(block.timestamp + CLASS2_EXPIRY),
            CLASS2_CAP
        );
        vm.label(address(computeCredit), "computeCredit");
        vm.label(address(oracle), "oracle");
        vm.label(address(engine), "engine");
        vm.label(address(models), "models");
        vm.label(address(registry), "registry");
        vm.label(address(market), "market");
        vm.label(address(coordinator), "coordinator");
        vm.label(address(verifier), "verifier");
        vm.label(address(disputes), "disputes");
        vm.label(address(usdc), "usdc");
    }

    /// @dev `governed` (deploy/modules/Cinder.ts): the timelock (8-day delay, `proposer`, anyone executes, the
    ///      guardian cancels; exit floor = max(unstake cooldown, unbonding)) takes DEFAULT_ADMIN_ROLE of every
    ///      module, the guardian GUARDIAN_ROLE of the pausable ones, and this contract renounces its admin role.
    function _handOver(address guardian, address proposer) internal {
        address[] memory proposers = new address[](1);
        proposers[0] = proposer;
        address[] memory executors = new address[](1); // address(0): anyone may execute
        address[] memory cancellers = new address[](1);
        cancellers[0] = guardian;
        uint256[] memory exits = new uint256[](2);
        exits[0] = vault.cooldown();
        exits[1] = registry.unbondingPeriod();
        timelock = new CinderTimelock(TIMELOCK_DELAY, proposers, executors, cancellers, exits);
        vm.label(address(timelock), "timelock");

        address[] memory all = _modules();
        for (uint256 i; i < all.length; ++i) {
            IRoles m = IRoles(all[i]);
            m.grantRole(DEFAULT_ADMIN, address(timelock));
            if (i < 6) m.grantRole(GUARDIAN_ROLE, guardian);
            m.renounceRole(DEFAULT_ADMIN, address(this));
        }
    }

    /// @dev Every module: the six pausable ones first (vault, DailyCredit, engine, registry, market, coordinator),
    ///      then the admin-only ones (token, ComputeCredit, oracle, model registry, verifier, dispute module).
    function _modules() internal view returns (address[] memory all) {
        all = new address[](12);
        all[0] = address(vault);
        all[1] = address(credit);
        all[2] = address(engine);
        all[3] = address(registry);
        all[4] = address(market);
        all[5] = address(coordinator);
        all[6] = address(token);
        all[7] = address(computeCredit);
        all[8] = address(oracle);
        all[9] = address(models);
        all[10] = address(verifier);
        all[11] = address(disputes);
    }
}

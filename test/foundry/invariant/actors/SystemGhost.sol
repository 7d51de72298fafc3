// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {HandlerStats} from "../../utils/HandlerStats.sol";
import {ProtocolToken} from "../../../../contracts/ProtocolToken.sol";
import {StakingVault} from "../../../../contracts/StakingVault.sol";
import {DailyCredit} from "../../../../contracts/DailyCredit.sol";
import {ComputeCredit} from "../../../../contracts/ComputeCredit.sol";
import {FixedPriceOracle} from "../../../../contracts/oracles/FixedPriceOracle.sol";
import {BurnMintEngine} from "../../../../contracts/BurnMintEngine.sol";
import {ProviderRegistry} from "../../../../contracts/ProviderRegistry.sol";
import {VoucherMarket} from "../../../../contracts/VoucherMarket.sol";
import {JobCoordinator} from "../../../../contracts/JobCoordinator.sol";
import {DisputeModule} from "../../../../contracts/DisputeModule.sol";
import {ArbiterCommitteeVerifier} from "../../../../contracts/verifiers/ArbiterCommitteeVerifier.sol";
import {CinderTimelock} from "../../../../contracts/governance/CinderTimelock.sol";
import {MockStablecoin} from "../../../../contracts/mocks/MockStablecoin.sol";
import {IJobCoordinator} from "../../../../contracts/interfaces/IJobCoordinator.sol";
import {IDisputeModule} from "../../../../contracts/interfaces/IDisputeModule.sol";

/// @notice Every deployed contract of the system suite (SystemFixture), as the actors and the ghost see them.
struct Deployment {
    ProtocolToken token;
    StakingVault vault;
    DailyCredit dailyCredit;
    ComputeCredit computeCredit;
    FixedPriceOracle oracle;
    BurnMintEngine engine;
    ProviderRegistry registry;
    VoucherMarket market;
    JobCoordinator coordinator;
    ArbiterCommitteeVerifier verifier;
    DisputeModule disputes;
    CinderTimelock timelock;
    MockStablecoin usdc;
    address treasury;
    bytes32 modelId;
    uint256 class1;
    uint256 class2;
}

/// @notice The people of the system suite. Roles overlap on purpose where the protocol needs it: credit holders
///         stake, requesters stake and hold DailyCredit, providers hold ComputeCredit and USDC earnings.
struct Actors {
    address[] stakers;
    address[] holders;
    address[] buyers;
    address[] requesters;
    address[] providers; // the last one starts unregistered
    uint256[] signerKeys; // providers[i] attests with signerKeys[i]
    address[] challengers;
    address keeper;
    address arbiter;
    address guardian;
    address governor;
}

/// @title SystemGhost
/// @notice The shared memory of the system invariant suite: one clock for every actor, a reference model of each
///         rule (reward stream, emissions and work, DailyCredit day books, job escrow and settlement, bonds and
///         slashes, voucher escrow, ComputeCredit supply) written from the spec, not from the contracts, and the
///         per-actor value ledger behind "no actor ends with more than it put in plus what the rules grant it".
/// @dev Only the actor handlers write here (forge never calls it: it is no target). The handlers predict each
///      call's outcome from this model, make the call, check it, then book it here; the invariant test compares
///      the model with the contracts' state after every call.
///      Value ledger, per actor and asset: `endowed` (genesis holdings, faucet), `received` (conversions in at the
///      modelled rate, transfers from other actors), `granted` (what a rule pays: provider pay, finder fees,
///      rejected challengers' bonds, voucher earnings), `spent` (burns, conversions out, transfers out, job pay).
///      Staking rewards and emissions are granted dynamically from the reward and emission models.
contract SystemGhost is HandlerStats {
    uint256 internal constant BPS = 10_000;
    uint256 internal constant P36 = 1e36;

    // ---------------------------------------------------------------- assets
    uint256 public constant CNDR = 0;
    uint256 public constant USDC = 1;
    uint256 public constant DCR = 2;
    uint256 public constant CCR = 3;
    uint256 public constant V1 = 4;
    uint256 public constant V2 = 5;
    uint256 public constant ASSETS = 6;

    /// @dev One slot per actor and asset (read for every actor after every call): `inflow` = endowed + received +
    ///      granted (booked through `_endow`, `_receive`, `_grant`), `spent` = burned, converted, sent or paid.
    struct Flow {
        uint128 inflow;
        uint128 spent;
    }

    struct ProviderGhost {
        uint8 status; // IProviderRegistry.Status: 0 None, 1 Active, 2 Exiting
        uint256 bond;
        uint256 deposited;
        uint256 slashed;
        uint256 withdrawn;
        uint256 locked;
        uint256 openJobs;
        uint256 jailedUntil;
        uint256 unbondingEnds;
        uint256 price;
    }

    struct JobGhost {
        IJobCoordinator.JobStatus status;
        IJobCoordinator.PaymentKind kind;
        address requester;
        address provider; // named at request, then the acceptor
        uint256 classId; // voucher jobs
        bytes32 inputHash;
        uint256 maxUnits;
        uint256 deadline;
        uint256 escrow; // vouchers or USD, taken at request
        uint256 price; // credit jobs: the cap, then the provider's price
        uint256 collateral;
        uint256 unitsUsed;
        uint256 challengeEnds;
        uint256 fundedDay;
        uint256 paid;
        uint256 refunded;
        uint256 payouts;
        bool faulty; // the provider submitted a wrong result (the arbiter knows)
        bool voted;
        address challenger;
        uint256 challengeBond;
        uint256 disputeTimeout; // timeoutAt of its dispute
        bool disputeOpen;
    }

    struct EpochGhost {
        uint256 workUsd;
        uint256 subsidisedWorkUsd;
        uint256 voucherRevenueUsd;
        uint256 subsidyMintedUsd;
        uint256 organicCreditUsd;
        uint256 tokensBurned;
        uint256 tokensRedeemed;
        uint256 tokensEmitted;
        uint256 mintedIn; // redemptions + distributions executed in this epoch
        uint256 pool;
        bool distributed;
    }

    struct DayBook {
        uint256 supplyAtStart;
        uint256 minted;
        uint256 spent; // net of same-day refunds
    }

    /// @dev Voucher principal one settlement call redeems for one (provider, class).
    struct VoucherTally {
        address provider;
        uint256 classId;
        uint256 principal;
    }

    /// @notice Job filters for the actors' searches.
    enum Q {
        Requested,
        LiveRequested,
        Accepted,
        LiveAccepted,
        Submitted,
        Challengeable,
        ChallengeableFaulty,
        ChallengeableValid,
        SubmittedLate,
        Challenged,
        UnvotedChallenged,
        Expirable,
        Ended,
        Open
    }

    Deployment internal _d;
    Actors internal _a;
    address[] internal _all; // every value-holding actor, once
    address[] internal _stakeholders; // stakers, holders, requesters
    address[] internal _dcrActors; // holders, requesters
    mapping(address => bool) public isActor;
    mapping(address => uint256) public actorIndex;

    uint256 public immutable genesisEpoch;
    uint256 public initialSupply;
    uint256 public immutable startTime;
    uint256 internal immutable _USD_SCALE; // 10^(18 − USDC decimals)

    // ---------------------------------------------------------------- clock
    uint256 public time;
    uint256 public today;
    uint256[] internal _days;

    // ---------------------------------------------------------------- value ledger
    mapping(address => mapping(uint256 asset => Flow)) internal _flows;

    // ---------------------------------------------------------------- supplies
    uint256 public tokenMinted; // redemptions + emissions
    uint256 public tokenBurned; // credit purchases + own burns + burned slashes (+ genesis purchases)
    uint256 public tokenBurnedOutsideEngine; // own burns + burned slashes
    uint256 public ccMinted; // purchases (net + spread) + subsidy
    uint256 public ccBurned; // redemptions + returned subsidy
    mapping(uint256 classId => uint256) public outstanding; // vouchers bought − redeemed − reclaimed
    mapping(address => uint256) public owed; // USDC the market owes (providers, treasury)
    address[] internal _owedAccounts;
    mapping(address => bool) internal _owedKnown;

    // ---------------------------------------------------------------- DailyCredit
    mapping(uint256 day => DayBook) internal _books;
    mapping(uint256 day => mapping(address => uint256)) public dayStart;
    mapping(uint256 day => mapping(address => uint256)) public mintedOn;
    mapping(uint256 day => mapping(address => uint256)) public burnedOn;
    mapping(uint256 day => mapping(address => uint256)) public spentOn;

    // ---------------------------------------------------------------- reward stream model (1e36 fixed point)
    uint256 public immutable rewardPeriod;
    uint256 internal _rRate36; // tokens × 1e36 per second
    uint256 internal _rFinish;
    uint256 internal _rLast;
    uint256 internal _rRpt36; // tokens × 1e36 per staked token
    uint256 internal _rUnassigned36;
    uint256 public rTotalStaked;
    mapping(address => uint256) public rStake;
    mapping(address => uint256) internal _rPaid36;
    mapping(address => uint256) internal _rAccrued18; // tokens × 1e18
    uint256 public notified;
    mapping(address => uint256) public rewardsClaimed;

    // ---------------------------------------------------------------- engine model
    mapping(uint256 epoch => EpochGhost) internal _epochs;
    mapping(uint256 epoch => mapping(address => uint256)) public workBy;
    mapping(uint256 epoch => mapping(address => bool)) public emissionClaimed;
    mapping(address => uint256) public emissionsClaimed;
    uint256[] internal _distributed; // epochs distributed, in order
    uint256 public poolsTotal;
    uint256 public poolsClaimed;
    uint256 public price;
    mapping(address module => bool) public paused;

    // ---------------------------------------------------------------- providers, jobs, disputes
    mapping(address => ProviderGhost) internal _providers;
    uint256 public jobCount;
    mapping(uint256 => JobGhost) internal _jobs;
    VoucherTally[] internal _tally;
    /// @notice The handlers that make a job when another actor needs one (see ActorBase).
    address public requesterActor;
    address public providerActor;
    address public challengerActor;

    uint256 public finderFees;
    uint256 public faults;
    uint256 public rejected;
    uint256 public timedOut;
    uint256 public lateSlashes;

    constructor(Deployment memory d, Actors memory a) {
        _d = d;
        _a = a;
        genesisEpoch = d.engine.genesisEpoch();
        startTime = block.timestamp;
        _USD_SCALE = 10 ** (18 - d.usdc.decimals());
        rewardPeriod = d.vault.rewardPeriod();
        price = d.oracle.price();
        _addAll(a.stakers);
        _addAll(a.holders);
        _addAll(a.buyers);
        _addAll(a.requesters);
        _addAll(a.providers);
        _addAll(a.challengers);
        _addTo(_stakeholders, a.stakers);
        _addTo(_stakeholders, a.holders);
        _addTo(_stakeholders, a.requesters);
        _addTo(_dcrActors, a.holders);
        _addTo(_dcrActors, a.requesters);
        _noteOwed(d.treasury);
        for (uint256 i; i < a.providers.length; ++i) _noteOwed(a.providers[i]);
    }

    /// @notice Takes the genesis state as the model's starting point, once the fixture has built it: every
    ///         actor's holdings become its endowment; the reward model, DailyCredit's first day, the providers, the
    ///         supplies and the token's supply so far (genesis credit purchases burned tokens) are read in.
    /// @param initialSupply_ The token's supply at deployment; every token burned since (genesis credit purchases)
    ///        is booked as burned, so supply = initial + minted − burned from the start.
    function snapshot(uint256 initialSupply_) external {
        time = block.timestamp;
        today = time / 1 days;
        _days.push(today);
        initialSupply = initialSupply_;
        tokenBurned = initialSupply_ - _d.token.totalSupply();
        _epochs[today].tokensBurned = tokenBurned;
        ccMinted = _d.computeCredit.totalSupply();
        _epochs[today].organicCreditUsd = ccMinted;
        outstanding[_d.class1] = _d.market.totalSupply(_d.class1);
        outstanding[_d.class2] = _d.market.totalSupply(_d.class2);
        // Genesis minted every credit today: the day starts at zero supply.
        _books[today].minted = _d.dailyCredit.totalSupply();
        for (uint256 i; i < _dcrActors.length; ++i) {
            address a = _dcrActors[i];
            mintedOn[today][a] = _d.dailyCredit.balanceOf(a);
        }
        for (uint256 i; i < _stakeholders.length; ++i) {
            address a = _stakeholders[i];
            rStake[a] = _d.vault.stakeOf(a);
            rTotalStaked += rStake[a];
        }
        _rLast = time;
        for (uint256 i; i < _a.providers.length; ++i) {
            address p = _a.providers[i];
            ProviderGhost storage g = _providers[p];
            g.status = uint8(_d.registry.getProvider(p).status);
            g.bond = _d.registry.getProvider(p).bond;
            g.deposited = g.bond;
            g.price = _d.registry.priceOf(p, _d.modelId);
        }
        uint256[ASSETS][] memory h = holdingsAll();
        for (uint256 i; i < _all.length; ++i) {
            for (uint256 k; k < ASSETS; ++k) _endow(_all[i], k, h[i][k]);
        }
    }

    function setHandlers(address requester_, address provider_, address challenger_) external {
        requesterActor = requester_;
        providerActor = provider_;
        challengerActor = challenger_;
    }

    // ================================================================ clock

    /// @notice Puts the chain at the model's clock (every action starts here).
    function sync() external {
        vm.warp(time);
    }

    /// @notice Moves the clock forward to `t` (never back), opening the book of every UTC day it enters.
    function advance(uint256 t) external {
        if (t <= time) {
            vm.warp(time);
            return;
        }
        time = t;
        vm.warp(t);
        uint256 day = t / 1 days;
        if (day == today) return;
        // Nothing has moved since the previous action, so the balances now are the balances at the day's start.
        today = day;
        _days.push(day);
        _books[day].supplyAtStart = _d.dailyCredit.totalSupply();
        for (uint256 i; i < _dcrActors.length; ++i) {
            address a = _dcrActors[i];
            dayStart[day][a] = _d.dailyCredit.balanceOf(a);
        }
    }

    // ================================================================ value ledger

    function endow(address a, uint256 asset, uint256 x) external {
        _endow(a, asset, x);
    }

    function flow(address a, uint256 asset) external view returns (Flow memory) {
        return _flows[a][asset];
    }

    /// @notice What every actor (indexed as `all()`) holds of each asset right now, read from the contracts:
    ///         wallet balances plus its claims held by the protocol (stake and cooling stake, provider bond, open
    ///         challenge bonds, USDC owed by the market, ComputeCredit and vouchers escrowed in its open jobs).
    function holdingsAll() public view returns (uint256[ASSETS][] memory h) {
        h = new uint256[ASSETS][](_all.length);
        for (uint256 i; i < _all.length; ++i) {
            address a = _all[i];
            h[i][CNDR] = _d.token.balanceOf(a);
            h[i][USDC] = _d.usdc.balanceOf(a);
            h[i][DCR] = _d.dailyCredit.balanceOf(a);
            h[i][CCR] = _d.computeCredit.balanceOf(a);
            h[i][V1] = _d.market.balanceOf(a, _d.class1);
            h[i][V2] = _d.market.balanceOf(a, _d.class2);
        }
        // Claims only an account's own call can open (stake, a bond) or that only jobs credit (USDC owed to a
        // provider) are read where they can exist, to keep this read (after every call) cheap.
        for (uint256 i; i < _stakeholders.length; ++i) {
            address a = _stakeholders[i];
            (uint256 cooling, ) = _d.vault.coolingOf(a);
            h[actorIndex[a]][CNDR] += _d.vault.stakeOf(a) + cooling;
        }
        for (uint256 i; i < _a.providers.length; ++i) {
            address p = _a.providers[i];
            h[actorIndex[p]][CNDR] += _d.registry.getProvider(p).bond;
            h[actorIndex[p]][USDC] += _d.market.owed(p, _d.usdc);
        }
        // Claims held in escrow, as the model allocates them (the job and dispute invariants hold the model to
        // the coordinator's and the dispute module's own records).
        for (uint256 id = 1; id <= jobCount; ++id) {
            JobGhost storage g = _jobs[id];
            if (g.disputeOpen) h[actorIndex[g.challenger]][CNDR] += g.challengeBond;
            if (!_isOpen(g.status)) continue;
            uint256 i = actorIndex[g.requester];
            if (g.kind == IJobCoordinator.PaymentKind.ComputeCredit) h[i][CCR] += g.escrow;
            else if (g.kind == IJobCoordinator.PaymentKind.Voucher) h[i][_vAsset(g.classId)] += g.escrow;
        }
    }

    /// @notice For every actor (as `all()`) and asset: what it holds plus what it spent (`used`), and what it put
    ///         in plus what the rules granted it (`allowed`), flattened as [actor × ASSETS + asset].
    function valueReport() external view returns (uint256[] memory used, uint256[] memory allowed) {
        uint256[ASSETS][] memory h = holdingsAll();
        used = new uint256[](_all.length * ASSETS);
        allowed = new uint256[](_all.length * ASSETS);
        for (uint256 i; i < _all.length; ++i) {
            address a = _all[i];
            for (uint256 k; k < ASSETS; ++k) {
                Flow storage f = _flows[a][k];
                used[i * ASSETS + k] = h[i][k] + f.spent;
                allowed[i * ASSETS + k] = f.inflow;
            }
        }
        // Staking rewards (stakeholders) and emissions (providers) as the models accrue them.
        for (uint256 i; i < _stakeholders.length; ++i) {
            allowed[actorIndex[_stakeholders[i]] * ASSETS + CNDR] += rewardEntitlement(_stakeholders[i]);
        }
        for (uint256 i; i < _a.providers.length; ++i) {
            allowed[actorIndex[_a.providers[i]] * ASSETS + CNDR] += emissionEntitlement(_a.providers[i]);
        }
    }

    // ================================================================ protocol token, vault

    /// @notice `a` stakes `amount` (or cancels an unstake of it): the reward model accrues first.
    function bookStake(address a, uint256 amount) external {
        _rUpdate(a);
        rStake[a] += amount;
        rTotalStaked += amount;
    }

    function bookUnstake(address a, uint256 amount) external {
        _rUpdate(a);
        rStake[a] = _sub(rStake[a], amount, "model stake");
        rTotalStaked -= amount;
    }

    function bookClaim(address a, uint256 amount) external {
        rewardsClaimed[a] += amount;
    }

    function bookTokenBurn(address a, uint256 amount) external {
        _spend(a, CNDR, amount);
        tokenBurned += amount;
        tokenBurnedOutsideEngine += amount;
    }

    // ================================================================ engine

    function bookMintCredits(address a, uint256 tokens, uint256 net, uint256 spread) external {
        _spend(a, CNDR, tokens);
        _receive(a, CCR, net);
        tokenBurned += tokens;
        ccMinted += net + spread;
        EpochGhost storage e = _epochs[today];
        e.tokensBurned += tokens;
        e.organicCreditUsd += net + spread;
    }

    function bookRedeem(address a, uint256 credits, uint256 tokens) external {
        _spend(a, CCR, credits);
        _receive(a, CNDR, tokens);
        tokenMinted += tokens;
        ccBurned += credits;
        EpochGhost storage e = _epochs[today];
        e.tokensRedeemed += tokens;
        e.mintedIn += tokens;
    }

    /// @notice `epoch` distributed today: the stakers' share streams into the vault (reward model), the providers'
    ///         share becomes the epoch's pool.
    function bookDistribute(uint256 epoch, uint256 toStakers, uint256 toProviders) external {
        EpochGhost storage e = _epochs[epoch];
        e.distributed = true;
        _distributed.push(epoch);
        e.tokensEmitted = toStakers + toProviders;
        e.pool = toProviders;
        _epochs[today].mintedIn += toStakers + toProviders;
        tokenMinted += toStakers + toProviders;
        poolsTotal += toProviders;
        if (toStakers != 0) _rNotify(toStakers);
    }

    function bookEmissionClaim(address p, uint256 epoch, uint256 amount) external {
        emissionClaimed[epoch][p] = true;
        emissionsClaimed[p] += amount;
        poolsClaimed += amount;
    }

    function setPrice(uint256 p) external {
        price = p;
    }

    function setPaused(address module, bool p) external {
        paused[module] = p;
    }

    /// @notice The emission scheduled for `epoch`: halving every `halvingEpochs` from genesis.
    function emissionFor(uint256 epoch) public view returns (uint256) {
        if (epoch < genesisEpoch) return 0;
        uint256 halvings = (epoch - genesisEpoch) / _d.engine.config().halvingEpochs;
        return halvings >= 256 ? 0 : _d.engine.config().emissionPerEpoch >> halvings;
    }

    /// @notice What the mint cap of the current epoch leaves, keeping back the previous epoch's emission while it
    ///         is undistributed (`keepReserve`).
    function capLeft(bool keepReserve) public view returns (uint256) {
        uint256 used = _epochs[today].mintedIn;
        if (keepReserve && today > genesisEpoch && !_epochs[today - 1].distributed) used += emissionFor(today - 1);
        uint256 cap = _d.engine.config().epochMintCap;
        return used >= cap ? 0 : cap - used;
    }

    /// @notice The modelled token supply: initial + minted − burned.
    function tokenSupply() public view returns (uint256) {
        return initialSupply + tokenMinted - tokenBurned;
    }

    /// @notice `p`'s modelled share of `epoch`'s pool: pool × its work / all work, rounded down.
    function emissionShare(uint256 epoch, address p) public view returns (uint256) {
        EpochGhost storage e = _epochs[epoch];
        if (e.pool == 0) return 0;
        return Math.mulDiv(e.pool, workBy[epoch][p], e.workUsd);
    }

    /// @notice Σ over distributed epochs of `p`'s modelled share (claimed or not).
    function emissionEntitlement(address p) public view returns (uint256 sum) {
        for (uint256 i; i < _distributed.length; ++i) sum += emissionShare(_distributed[i], p);
    }

    function epochOf(uint256 e) external view returns (EpochGhost memory) {
        return _epochs[e];
    }

    // ================================================================ DailyCredit

    function bookDcrMint(address a, uint256 amount) external {
        _receive(a, DCR, amount);
        mintedOn[today][a] += amount;
        _books[today].minted += amount;
    }

    function bookDcrBurn(address a, uint256 amount) external {
        _spend(a, DCR, amount);
        burnedOn[today][a] += amount;
    }

    function bookDcrTransfer(address from, address to, uint256 amount) external {
        _move(from, to, DCR, amount);
    }

    /// @notice `a`'s allowance today by the rule (DailyCredit's refinement of the DESIGN.md formula: only net new
    ///         credits count as minted today): creditPerDay × min(balance at day start + max(minted − burned
    ///         today, 0), balance now) − spent today, floored at zero.
    function allowanceModel(address a) public view returns (uint256) {
        uint256 minted = mintedOn[today][a];
        uint256 burned = burnedOn[today][a];
        uint256 fresh = minted > burned ? minted - burned : 0;
        uint256 spendable = Math.min(dayStart[today][a] + fresh, _d.dailyCredit.balanceOf(a));
        uint256 budget = Math.mulDiv(spendable, _d.dailyCredit.creditPerDay(), 1e18);
        uint256 spent = spentOn[today][a];
        return budget > spent ? budget - spent : 0;
    }

    /// @notice The subsidy budget left today by the model.
    function subsidyLeft() public view returns (uint256) {
        uint256 budget = _d.engine.config().subsidyBudgetUsd;
        uint256 used = _epochs[today].subsidyMintedUsd;
        return used >= budget ? 0 : budget - used;
    }

    function book(uint256 day) external view returns (DayBook memory) {
        return _books[day];
    }

    // ================================================================ vouchers, USDC

    function bookFaucet(address a, uint256 amount) external {
        _endow(a, USDC, amount);
    }

    function bookBuy(address buyer, address recipient, uint256 classId, uint256 vouchers, uint256 cost) external {
        _spend(buyer, USDC, cost);
        _receive(recipient, _vAsset(classId), vouchers);
        outstanding[classId] += vouchers;
    }

    function bookVoucherTransfer(address from, address to, uint256 classId, uint256 vouchers) external {
        _move(from, to, _vAsset(classId), vouchers);
    }

    function bookReclaim(address a, uint256 classId, uint256 vouchers, uint256 principal) external {
        _spend(a, _vAsset(classId), vouchers);
        _receive(a, USDC, principal);
        outstanding[classId] = _sub(outstanding[classId], vouchers, "outstanding vouchers");
    }

    function bookOwedWithdrawn(address a) external {
        owed[a] = 0;
    }

    function owedAccounts() external view returns (address[] memory) {
        return _owedAccounts;
    }

    // ================================================================ providers

    function bookRegister(address p, uint256 bond, uint256 price_) external {
        ProviderGhost storage g = _providers[p];
        g.status = 1;
        g.bond = bond;
        g.deposited += bond;
        g.price = price_;
        g.unbondingEnds = 0;
        g.locked = 0;
    }

    function bookIncreaseBond(address p, uint256 amount) external {
        _providers[p].bond += amount;
        _providers[p].deposited += amount;
    }

    function bookOffer(address p, uint256 price_) external {
        _providers[p].price = price_;
    }

    function bookExit(address p, uint256 unbondingEnds) external {
        _providers[p].status = 2;
        _providers[p].unbondingEnds = unbondingEnds;
    }

    /// @notice The bond goes back to the wallet (holdings unchanged); a jail outlives the registration.
    function bookWithdrawBond(address p, uint256 amount) external {
        ProviderGhost storage g = _providers[p];
        g.withdrawn += amount;
        g.bond = 0;
        g.status = 0;
        g.price = 0;
        g.locked = 0;
        g.unbondingEnds = 0;
        if (g.jailedUntil <= time) g.jailedUntil = 0;
    }

    function provider(address p) external view returns (ProviderGhost memory) {
        return _providers[p];
    }

    /// @notice Whether `p` may take a job now (Active, not jailed, bonded, pricing the model): its price, or zero.
    function eligiblePrice(address p) public view returns (uint256) {
        ProviderGhost storage g = _providers[p];
        if (g.status != 1 || time < g.jailedUntil || g.bond < _d.registry.minBond()) return 0;
        return g.price;
    }

    // ================================================================ jobs

    /// @notice Books a request the coordinator accepted: the job, and for DailyCredit jobs the allowance spent and
    ///         the subsidy minted into escrow.
    function bookRequest(JobGhost memory g) external returns (uint256 id) {
        id = ++jobCount;
        g.status = IJobCoordinator.JobStatus.Requested;
        if (g.kind == IJobCoordinator.PaymentKind.DailyCredit) {
            g.fundedDay = today;
            spentOn[today][g.requester] += g.escrow;
            _books[today].spent += g.escrow;
            _epochs[today].subsidyMintedUsd += g.escrow;
            ccMinted += g.escrow;
        }
        _jobs[id] = g;
    }

    function bookAccept(uint256 id, address p, uint256 price_, uint256 collateral) external {
        JobGhost storage g = _jobs[id];
        g.status = IJobCoordinator.JobStatus.Accepted;
        g.provider = p;
        g.collateral = collateral;
        if (g.kind != IJobCoordinator.PaymentKind.Voucher) g.price = price_;
        _providers[p].locked += collateral;
        ++_providers[p].openJobs;
    }

    function bookSubmit(uint256 id, uint256 units, bool faulty) external {
        JobGhost storage g = _jobs[id];
        g.status = IJobCoordinator.JobStatus.Submitted;
        g.unitsUsed = units;
        g.faulty = faulty;
        g.challengeEnds = time + _d.coordinator.challengeWindow();
    }

    function bookChallenge(uint256 id, address challenger, uint256 bond, uint256 timeoutAt) external {
        JobGhost storage g = _jobs[id];
        g.status = IJobCoordinator.JobStatus.Challenged;
        g.challenger = challenger;
        g.challengeBond = bond;
        g.disputeTimeout = timeoutAt;
        g.disputeOpen = true;
    }

    function bookVote(uint256 id) external {
        _jobs[id].voted = true;
    }

    function job(uint256 id) external view returns (JobGhost memory) {
        return _jobs[id];
    }

    /// @notice The part of a job the invariants compare (cheaper than `job`).
    function jobState(
        uint256 id
    )
        external
        view
        returns (IJobCoordinator.JobStatus status, uint256 escrow, uint256 paid, uint256 refunded, uint256 payouts)
    {
        JobGhost storage g = _jobs[id];
        return (g.status, g.escrow, g.paid, g.refunded, g.payouts);
    }

    /// @notice What open jobs hold in escrow: USD of credit jobs, vouchers of each class.
    function openEscrow() external view returns (uint256 usd, uint256 v1, uint256 v2) {
        for (uint256 id = 1; id <= jobCount; ++id) {
            JobGhost storage g = _jobs[id];
            if (!_isOpen(g.status)) continue;
            if (g.kind != IJobCoordinator.PaymentKind.Voucher) usd += g.escrow;
            else if (g.classId == _d.class1) v1 += g.escrow;
            else v2 += g.escrow;
        }
    }

    /// @notice For each open job past acceptance: its provider and the last moment it can still be slashed (a
    ///         challenged job's dispute timeout; a submitted job's window end + dispute timeout; an accepted job's
    ///         deadline + window + dispute timeout).
    function slashDeadlines() external view returns (address[] memory providers_, uint256[] memory lastSlash) {
        providers_ = new address[](jobCount);
        lastSlash = new uint256[](jobCount);
        uint256 n;
        uint256 window = _d.coordinator.challengeWindow();
        uint256 timeout = _d.disputes.disputeTimeout();
        for (uint256 id = 1; id <= jobCount; ++id) {
            JobGhost storage g = _jobs[id];
            IJobCoordinator.JobStatus s = g.status;
            if (s < IJobCoordinator.JobStatus.Accepted || s > IJobCoordinator.JobStatus.Challenged) continue;
            providers_[n] = g.provider;
            lastSlash[n++] =
                s == IJobCoordinator.JobStatus.Challenged
                    ? g.disputeTimeout
                    : s == IJobCoordinator.JobStatus.Submitted
                        ? g.challengeEnds + timeout
                        : g.deadline + window + timeout;
        }
        assembly ("memory-safe") {
            mstore(providers_, n)
            mstore(lastSlash, n)
        }
    }

    /// @notice Whether job `id` has an open dispute in the model.
    function disputeOpen(uint256 id) external view returns (bool) {
        return _jobs[id].disputeOpen;
    }

    /// @notice What a job pays its provider (vouchers or USD) if it settles as Finalized now.
    function modelPaid(uint256 id) public view returns (uint256) {
        JobGhost storage g = _jobs[id];
        if (g.kind == IJobCoordinator.PaymentKind.Voucher)
            return Math.ceilDiv(g.unitsUsed, _unitsPerVoucher(g.classId));
        return g.unitsUsed * g.price;
    }

    // ---------------------------------------------------------------- settlement

    /// @notice Opens a settlement call (a finalize, a batch, a resolution): voucher pay is credited per
    ///         (provider, class) over the whole call, the fee rounded up once, as the market does.
    function beginSettlement() external {
        delete _tally;
    }

    /// @notice Books job `id` ending in `status` (Finalized, Cancelled, Expired or Faulted): what the model says
    ///         it pays and refunds, the allowance and subsidy returned, the provider's pay, work, collateral and
    ///         (expiry) late slash. Returns the modelled pay, refund and slash.
    function bookSettle(
        uint256 id,
        IJobCoordinator.JobStatus status
    ) external returns (uint256 paid, uint256 refunded, uint256 slashed) {
        JobGhost storage g = _jobs[id];
        bool accepted = g.status >= IJobCoordinator.JobStatus.Accepted;
        if (status == IJobCoordinator.JobStatus.Finalized) paid = modelPaid(id);
        refunded = g.escrow - paid;
        g.status = status;
        g.paid = paid;
        g.refunded = refunded;
        ++g.payouts;
        g.disputeOpen = false;

        if (g.kind == IJobCoordinator.PaymentKind.DailyCredit && refunded != 0) _returnSubsidy(g, refunded);
        if (paid != 0) _payProvider(g, paid);
        if (!accepted) return (paid, refunded, 0);

        ProviderGhost storage p = _providers[g.provider];
        if (status == IJobCoordinator.JobStatus.Expired) {
            slashed = Math.min(
                Math.mulDiv(g.collateral, _d.coordinator.lateSlashBps(), BPS, Math.Rounding.Ceil),
                p.bond
            );
            _slash(p, slashed);
            tokenBurned += slashed;
            tokenBurnedOutsideEngine += slashed;
            if (slashed != 0) ++lateSlashes;
        }
        p.openJobs = _sub(p.openJobs, 1, "provider open jobs");
        p.locked -= Math.min(g.collateral, p.locked);
    }

    /// @notice Credits the call's voucher pay: per (provider, class), principal less the fee (rounded up), the fee
    ///         to the treasury.
    function endSettlement() external {
        uint256 feeBps = _d.market.protocolFeeBps();
        for (uint256 i; i < _tally.length; ++i) {
            VoucherTally storage t = _tally[i];
            uint256 fee = Math.mulDiv(t.principal, feeBps, BPS, Math.Rounding.Ceil);
            owed[t.provider] += t.principal - fee;
            _grant(t.provider, USDC, t.principal - fee);
            owed[_d.treasury] += fee;
        }
        delete _tally;
    }

    /// @notice Books a dispute's end: bonds (back to the challenger, or to the provider when the result was valid)
    ///         and, for a fault, the slash of faultSlashBps of the provider's bond, finderFeeBps of it to the
    ///         challenger and the rest burned, and the jail. Returns the modelled total slash and finder fee.
    function bookResolution(
        uint256 id,
        IDisputeModule.Outcome outcome
    ) external returns (uint256 slashed, uint256 finderFee) {
        JobGhost storage g = _jobs[id];
        g.disputeOpen = false;
        ProviderGhost storage p = _providers[g.provider];
        if (outcome == IDisputeModule.Outcome.Upheld) {
            uint256 total = Math.mulDiv(p.bond, _d.disputes.faultSlashBps(), BPS);
            uint256 fee = Math.mulDiv(total, _d.disputes.finderFeeBps(), BPS);
            finderFee = Math.min(fee, p.bond);
            _slash(p, finderFee);
            _grant(g.challenger, CNDR, finderFee);
            uint256 burned = Math.min(total - fee, p.bond);
            _slash(p, burned);
            tokenBurned += burned;
            tokenBurnedOutsideEngine += burned;
            slashed = finderFee + burned;
            finderFees += finderFee;
            p.jailedUntil = Math.max(p.jailedUntil, time + _d.disputes.jailDuration());
            ++faults;
        } else if (outcome == IDisputeModule.Outcome.Rejected) {
            // The challenger loses its bond; the rules grant it to the provider.
            _spend(g.challenger, CNDR, g.challengeBond);
            _grant(g.provider, CNDR, g.challengeBond);
            ++rejected;
        } else {
            ++timedOut;
        }
    }

    // ================================================================ searches

    function find(uint256 seed, Q q) external view returns (uint256) {
        uint256 n = jobCount;
        for (uint256 i; i < n; ++i) {
            uint256 id = (((seed % n) + i) % n) + 1;
            if (matches(id, q)) return id;
        }
        return 0;
    }

    function count(Q q) external view returns (uint256 c) {
        for (uint256 id = 1; id <= jobCount; ++id) if (matches(id, q)) ++c;
    }

    function matches(uint256 id, Q q) public view returns (bool) {
        JobGhost storage g = _jobs[id];
        IJobCoordinator.JobStatus s = g.status;
        if (q == Q.Requested) return s == IJobCoordinator.JobStatus.Requested;
        if (q == Q.LiveRequested) return s == IJobCoordinator.JobStatus.Requested && time < g.deadline;
        if (q == Q.Accepted) return s == IJobCoordinator.JobStatus.Accepted;
        if (q == Q.LiveAccepted) return s == IJobCoordinator.JobStatus.Accepted && time < g.deadline;
        if (q == Q.Submitted) return s == IJobCoordinator.JobStatus.Submitted;
        bool inWindow = s == IJobCoordinator.JobStatus.Submitted && time < g.challengeEnds;
        if (q == Q.Challengeable) return inWindow;
        if (q == Q.ChallengeableFaulty) return inWindow && g.faulty;
        if (q == Q.ChallengeableValid) return inWindow && !g.faulty;
        if (q == Q.SubmittedLate) return s == IJobCoordinator.JobStatus.Submitted && time >= g.challengeEnds;
        if (q == Q.Challenged) return s == IJobCoordinator.JobStatus.Challenged;
        if (q == Q.UnvotedChallenged) return s == IJobCoordinator.JobStatus.Challenged && !g.voted;
        if (q == Q.Expirable)
            return s == IJobCoordinator.JobStatus.Requested || s == IJobCoordinator.JobStatus.Accepted;
        if (q == Q.Ended) return s >= IJobCoordinator.JobStatus.Finalized;
        return _isOpen(s);
    }

    // ================================================================ reward model

    /// @notice The rewards the model says `a` has accrued so far (claimed or not), rounded up.
    function rewardEntitlement(address a) public view returns (uint256) {
        (uint256 rpt, ) = _rView();
        uint256 accrued = _rAccrued18[a] + Math.mulDiv(rStake[a], rpt - _rPaid36[a], 1e18);
        return accrued / 1e18 + 1;
    }

    function _rView() internal view returns (uint256 rpt, uint256 unassigned) {
        rpt = _rRpt36;
        unassigned = _rUnassigned36;
        uint256 applicable = Math.min(time, _rFinish);
        if (applicable > _rLast) {
            uint256 emitted = (applicable - _rLast) * _rRate36;
            if (rTotalStaked == 0) unassigned += emitted;
            else rpt += emitted / rTotalStaked;
        }
    }

    function _rUpdate(address a) internal {
        (_rRpt36, _rUnassigned36) = _rView();
        _rLast = Math.max(_rLast, Math.min(time, _rFinish));
        if (a != address(0)) {
            _rAccrued18[a] += Math.mulDiv(rStake[a], _rRpt36 - _rPaid36[a], 1e18);
            _rPaid36[a] = _rRpt36;
        }
    }

    function _rNotify(uint256 amount) internal {
        _rUpdate(address(0));
        uint256 leftover = time < _rFinish ? (_rFinish - time) * _rRate36 : 0;
        _rRate36 = (amount * P36 + _rUnassigned36 + leftover) / rewardPeriod;
        _rUnassigned36 = 0;
        _rFinish = time + rewardPeriod;
        _rLast = time;
        notified += amount;
    }

    // ================================================================ lists

    function all() external view returns (address[] memory) {
        return _all;
    }

    function stakeholders() external view returns (address[] memory) {
        return _stakeholders;
    }

    function dcrActors() external view returns (address[] memory) {
        return _dcrActors;
    }

    function actors() external view returns (Actors memory) {
        return _a;
    }

    function distributedEpochs() external view returns (uint256[] memory) {
        return _distributed;
    }

    function days_() external view returns (uint256[] memory) {
        return _days;
    }

    // ================================================================ internal

    function _payProvider(JobGhost storage g, uint256 paid) internal {
        address p = g.provider;
        uint256 usd;
        if (g.kind == IJobCoordinator.PaymentKind.Voucher) {
            uint256 principal = paid * _d.market.getClass(g.classId).unitPrice;
            usd = principal * _USD_SCALE;
            _addTally(p, g.classId, principal);
            _spend(g.requester, _vAsset(g.classId), paid);
            outstanding[g.classId] = _sub(outstanding[g.classId], paid, "outstanding vouchers");
            _epochs[today].voucherRevenueUsd += usd;
        } else {
            usd = paid;
            _grant(p, CCR, paid);
            if (g.kind == IJobCoordinator.PaymentKind.ComputeCredit) _spend(g.requester, CCR, paid);
            else _epochs[today].subsidisedWorkUsd += paid;
        }
        _epochs[today].workUsd += usd;
        workBy[today][p] += usd;
    }

    /// @dev Unused subsidy is burned back into its day's budget; the allowance comes back only the same day.
    function _returnSubsidy(JobGhost storage g, uint256 usd) internal {
        uint256 day = g.fundedDay;
        ccBurned += usd;
        _epochs[day].subsidyMintedUsd = _sub(_epochs[day].subsidyMintedUsd, usd, "subsidy minted");
        if (day == today) {
            uint256 back = Math.min(usd, spentOn[day][g.requester]);
            spentOn[day][g.requester] -= back;
            _books[day].spent -= back;
        }
    }

    function _addTally(address p, uint256 classId, uint256 principal) internal {
        for (uint256 i; i < _tally.length; ++i) {
            if (_tally[i].provider == p && _tally[i].classId == classId) {
                _tally[i].principal += principal;
                return;
            }
        }
        _tally.push(VoucherTally(p, classId, principal));
    }

    function _slash(ProviderGhost storage p, uint256 amount) internal {
        p.bond = _sub(p.bond, amount, "provider bond");
        p.slashed += amount;
        if (p.locked > p.bond) p.locked = p.bond;
    }

    function _spend(address a, uint256 asset, uint256 x) internal {
        _flows[a][asset].spent += uint128(x);
    }

    function _move(address from, address to, uint256 asset, uint256 x) internal {
        _spend(from, asset, x);
        _receive(to, asset, x);
    }

    /// @dev What `a` held at genesis, or got from a faucet.
    function _endow(address a, uint256 asset, uint256 x) internal {
        _flows[a][asset].inflow += uint128(x);
    }

    /// @dev What `a` got by converting another asset at the modelled rate, or from another actor.
    function _receive(address a, uint256 asset, uint256 x) internal {
        _flows[a][asset].inflow += uint128(x);
    }

    /// @dev What a rule pays `a` (provider pay, voucher earnings, finder fee, a rejected challenger's bond).
    function _grant(address a, uint256 asset, uint256 x) internal {
        _flows[a][asset].inflow += uint128(x);
    }

    function _vAsset(uint256 classId) internal view returns (uint256) {
        return classId == _d.class1 ? V1 : V2;
    }

    function _unitsPerVoucher(uint256 classId) internal view returns (uint256) {
        return _d.market.getClass(classId).unitsPerVoucher;
    }

    function _isOpen(IJobCoordinator.JobStatus s) internal pure returns (bool) {
        return s >= IJobCoordinator.JobStatus.Requested && s <= IJobCoordinator.JobStatus.Challenged;
    }

    /// @dev a − b, or a violation and 0: the model going negative is itself a finding.
    function _sub(uint256 a, uint256 b, string memory what) internal returns (uint256) {
        if (b <= a) return a - b;
        _violation(string.concat("model underflow: ", what));
        return 0;
    }

    function _addAll(address[] memory list) internal {
        for (uint256 i; i < list.length; ++i) {
            if (isActor[list[i]]) continue;
            isActor[list[i]] = true;
            actorIndex[list[i]] = _all.length;
            _all.push(list[i]);
        }
    }

    function _addTo(address[] storage to, address[] memory list) internal {
        for (uint256 i; i < list.length; ++i) to.push(list[i]);
    }

    function _noteOwed(address a) internal {
        if (_owedKnown[a]) return;
        _owedKnown[a] = true;
        _owedAccounts.push(a);
    }
}

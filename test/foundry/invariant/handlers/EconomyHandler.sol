// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {TestBase} from "../../utils/Test.sol";
import {ProtocolToken} from "../../../../contracts/ProtocolToken.sol";
import {StakingVault} from "../../../../contracts/StakingVault.sol";
import {ComputeCredit} from "../../../../contracts/ComputeCredit.sol";
import {BurnMintEngine} from "../../../../contracts/BurnMintEngine.sol";
import {FixedPriceOracle} from "../../../../contracts/oracles/FixedPriceOracle.sol";
import {IBurnMintEngine} from "../../../../contracts/interfaces/IBurnMintEngine.sol";
import {IProtocolToken} from "../../../../contracts/interfaces/IProtocolToken.sol";
import {ICinderErrors} from "../../../../contracts/interfaces/ICinderErrors.sol";

/// @notice Drives the burn-and-mint economy for `EconomyInvariantTest`: users burn tokens for credit, pay
///         providers through an escrow (this handler holds ComputeCredit's PROTOCOL_ROLE, standing in for the
///         JobCoordinator), providers and the treasury redeem credit, the coordinator records work and mints
///         subsidised credit, the voucher market reports revenue, governance moves the price within the
///         oracle's bounds, time passes across epochs, anyone distributes finished epochs and providers claim.
/// @dev Every input is bounded so that most calls do something. Each action predicts its own outcome from a
///      model of the spec (ghost state, not the engine's own bookkeeping): a call the model says succeeds
///      must succeed with exactly the predicted output, a call the model says fails must revert with the
///      predicted error. Any mismatch is counted in `unexpected` (asserted zero by the invariant suite), so
///      with `fail_on_revert = false` a wrong revert still fails the run.
contract EconomyHandler is TestBase {
    uint256 private constant _BPS = 10_000;

    ProtocolToken public immutable token;
    StakingVault public immutable vault;
    ComputeCredit public immutable credit;
    FixedPriceOracle public immutable oracle;
    BurnMintEngine public immutable engine;
    address public immutable treasury;
    uint256 public immutable genesis;

    // Engine parameters the model needs; governance changes only the spread and the mint cap here.
    uint256 public immutable emissionPerEpoch;
    uint256 public immutable halvingEpochs;
    uint256 public immutable stakerShareBps;
    uint256 public immutable subsidyBudgetUsd;
    uint256 public spreadBps;
    /// @dev Mint cap history: `_capValue[i]` is in force from epoch `_capFrom[i]` (a later entry wins).
    uint256[] private _capFrom;
    uint256[] private _capValue;

    address[] private _users;
    address[] private _providers;

    /// @notice The handler's clock; every action re-applies it, so the runner's own block env cannot drift.
    uint256 public time;

    // ------------------------------------------------------------------ ghost totals
    uint256 public ghostCreditMinted; // mintCredits (net + spread) + subsidy
    uint256 public ghostCreditBurned; // redeem
    uint256 public ghostTokenMinted; // redemptions + emissions
    uint256 public ghostTokenBurned; // mintCredits + holders' own burns
    uint256 public ghostDirectBurns; // holders' own burns (outside the engine's ledger)
    uint256 public ghostPoolTotal; // Σ provider pools minted by distribute
    uint256 public ghostClaimedTotal; // Σ emissions claimed by providers
    uint256 public ghostEscrow; // credit held by this handler between a user's payment and the provider payout

    mapping(uint256 epoch => uint256) public ghostDistributions;
    mapping(uint256 epoch => uint256) public ghostMintedIn;
    mapping(uint256 epoch => uint256) public ghostSubsidyUsd;
    mapping(uint256 epoch => uint256) public ghostWorkUsd;
    mapping(uint256 epoch => uint256) public ghostSubsidisedWorkUsd;
    mapping(uint256 epoch => uint256) public ghostPool;
    mapping(uint256 epoch => mapping(address provider => uint256)) public ghostWorkOf;
    mapping(uint256 epoch => mapping(address provider => bool)) public ghostClaimed;
    uint256[] private _distributed;

    // ------------------------------------------------------------------ outcome bookkeeping
    /// @notice Calls whose outcome differed from the model; the invariant suite asserts zero.
    uint256 public unexpected;
    string public lastUnexpected;
    /// @notice Per action: calls that changed state as predicted / reverted as predicted / were skipped.
    mapping(bytes32 action => uint256) public done;
    mapping(bytes32 action => uint256) public expectedReverts;
    mapping(bytes32 action => uint256) public skipped;
    /// @notice How often the maxSupply cap bit (a redemption refused or an emission trimmed by it).
    uint256 public maxSupplyHits;
    /// @notice How often a redemption or distribution took the supply exactly to maxSupply.
    uint256 public maxSupplyReached;
    /// @notice How often the epoch mint cap refused a redemption or a late distribution.
    uint256 public epochCapHits;

    struct Deployment {
        ProtocolToken token;
        StakingVault vault;
        ComputeCredit credit;
        FixedPriceOracle oracle;
        BurnMintEngine engine;
        address treasury;
    }

    constructor(Deployment memory d, address[] memory users_, address[] memory providers_) {
        token = d.token;
        vault = d.vault;
        credit = d.credit;
        oracle = d.oracle;
        engine = d.engine;
        treasury = d.treasury;
        genesis = d.engine.genesisEpoch();
        IBurnMintEngine.Config memory cfg = d.engine.config();
        emissionPerEpoch = cfg.emissionPerEpoch;
        halvingEpochs = cfg.halvingEpochs;
        stakerShareBps = cfg.stakerShareBps;
        subsidyBudgetUsd = cfg.subsidyBudgetUsd;
        spreadBps = cfg.mintSpreadBps;
        _capFrom.push(genesis);
        _capValue.push(cfg.epochMintCap);
        time = block.timestamp;
        _users = users_;
        _providers = providers_;
        for (uint256 i; i < users_.length; ++i) {
            vm.startPrank(users_[i]);
            d.token.approve(address(d.engine), type(uint256).max);
            d.token.approve(address(d.vault), type(uint256).max);
            vm.stopPrank();
        }
    }

    /// @notice Opening state, called once by the suite after roles are granted (not a fuzz target): each
    ///         user buys some credit and stakes a little, so payments, redemptions and staking rewards have
    ///         something to work with from the first call.
    function bootstrap() external {
        for (uint256 i; i < _users.length; ++i) {
            address user = _users[i];
            (uint256 net, uint256 spread) = engine.quoteMintCredits(300e18);
            vm.startPrank(user);
            engine.mintCredits(300e18, net, user);
            vault.stake(150e18);
            vm.stopPrank();
            ghostCreditMinted += net + spread;
            ghostTokenBurned += 300e18;
        }
    }

    modifier synced() {
        vm.warp(time);
        _;
    }

    // ================================================================== actions

    /// @notice A user burns part of its tokens for credit at the oracle price.
    function mintCredits(uint256 userSeed, uint256 amount) external synced {
        address user = _user(userSeed);
        uint256 balance = token.balanceOf(user);
        if (balance == 0) {
            _skip("mintCredits");
            return;
        }
        amount = bound(amount, _min(1e12, balance), _min(balance, 500e18));

        uint256 price = oracle.price();
        uint256 gross = (amount * price) / 1e18; // no overflow: amount ≤ 2e22, price ≤ 1e20
        uint256 spread = (gross * spreadBps + _BPS - 1) / _BPS;
        uint256 net = gross - spread;

        vm.prank(user);
        try engine.mintCredits(amount, net, user) returns (uint256 out) {
            if (net == 0) _unexpectedOutcome("mintCredits: succeeded with zero output");
            else if (out != net) _unexpectedOutcome("mintCredits: credit out != floor(t*p/1e18) - spread");
            else {
                ghostCreditMinted += net + spread;
                ghostTokenBurned += amount;
                _done("mintCredits");
            }
        } catch (bytes memory err) {
            if (net == 0 && _selector(err) == ICinderErrors.ZeroAmount.selector) _expectedRevert("mintCredits");
            else _unexpectedOutcome("mintCredits: reverted");
        }
    }

    /// @notice A credit holder (user, provider or treasury) redeems credit for freshly minted tokens.
    ///         Bounded by its balance and by what the epoch cap and maxSupply leave, so most calls succeed;
    ///         when nothing is left it tries a small redemption and expects the cap's error.
    function redeem(uint256 actorSeed, uint256 amount) external synced {
        address actor = _holderWithCredit(actorSeed);
        if (actor == address(0)) {
            _skip("redeem");
            return;
        }
        uint256 balance = credit.balanceOf(actor);
        uint256 price = oracle.price();
        uint256 capacity = _capLeft(_epoch(), true);
        uint256 headroom = token.maxSupply() - token.totalSupply();
        uint256 maxTokens = _min(capacity, headroom);
        // floor(maxCredit · 1e18 / p) ≤ maxTokens
        uint256 maxCredit = _min(balance, (maxTokens * price) / 1e18);
        bool overCap = maxCredit == 0 || amount % 6 == 0; // sometimes ask for more than is left
        if (overCap) {
            uint256 over = ((maxTokens + 1) * price + 1e18 - 1) / 1e18; // smallest credit giving maxTokens + 1
            if (over > balance) {
                if (maxCredit == 0) {
                    _skip("redeem");
                    return;
                }
                overCap = false;
            } else {
                amount = bound(amount, over, balance);
            }
        }
        if (!overCap) amount = amount % 3 == 0 ? maxCredit : bound(amount, 1, maxCredit); // often all it can
        uint256 expected = (amount * 1e18) / price;

        vm.prank(actor);
        try engine.redeem(amount, expected, actor) returns (uint256 out) {
            if (overCap || expected == 0) _unexpectedOutcome("redeem: succeeded beyond the cap");
            else if (out != expected) _unexpectedOutcome("redeem: tokens out != floor(c*1e18/p)");
            else {
                ghostCreditBurned += amount;
                ghostTokenMinted += out;
                ghostMintedIn[_epoch()] += out;
                if (token.totalSupply() == token.maxSupply()) ++maxSupplyReached;
                _done("redeem");
            }
        } catch (bytes memory err) {
            bytes4 sel = _selector(err);
            // The engine checks zero output, then its cap; the token then checks maxSupply.
            if (expected == 0 && sel == ICinderErrors.ZeroAmount.selector) {
                _expectedRevert("redeem");
            } else if (overCap && expected > capacity && sel == IBurnMintEngine.EpochMintCapExceeded.selector) {
                ++epochCapHits;
                _expectedRevert("redeem");
            } else if (
                overCap &&
                expected <= capacity &&
                expected > headroom &&
                sel == IProtocolToken.MaxSupplyExceeded.selector
            ) {
                ++maxSupplyHits;
                _expectedRevert("redeem");
            } else {
                _unexpectedOutcome("redeem: reverted");
            }
        }
    }

    /// @notice A user pays a provider in credit for a job: user → escrow (this handler, a protocol contract)
    ///         → provider, and the coordinator records the work as organic. Moves credit, never mints it.
    function payProvider(uint256 userSeed, uint256 providerSeed, uint256 amount) external synced {
        address user = _userWithCredit(userSeed);
        if (user == address(0)) {
            _skip("payProvider");
            return;
        }
        address provider = _provider(providerSeed);
        uint256 balance = credit.balanceOf(user);
        amount = bound(amount, 1, balance);

        vm.prank(user);
        vm.assertTrue(credit.transfer(address(this), amount), "escrow transfer");
        ghostEscrow += amount;
        vm.assertTrue(credit.transfer(provider, amount), "payout transfer");
        ghostEscrow -= amount;
        _recordWork(provider, amount, false);
        _done("payProvider");
    }

    /// @notice The coordinator records work settled by a provider (paid from any source).
    function recordWork(uint256 providerSeed, uint256 usd, bool subsidised) external synced {
        address provider = _provider(providerSeed);
        usd = bound(usd, 1, 5_000e18);
        _recordWork(provider, usd, subsidised);
        _done("recordWork");
    }

    /// @notice The coordinator pays a DailyCredit-funded job from the epoch's subsidy budget and records the
    ///         work as subsidised. With the budget spent it checks that one more dollar is refused.
    function mintSubsidisedCredits(uint256 providerSeed, uint256 usd) external synced {
        address provider = _provider(providerSeed);
        uint256 epoch = _epoch();
        uint256 remaining = subsidyBudgetUsd - ghostSubsidyUsd[epoch];
        bool over = remaining == 0 || usd % 8 == 0;
        usd = over ? remaining + bound(usd, 1, 100e18) : bound(usd, 1, remaining);

        try engine.mintSubsidisedCredits(provider, usd) {
            if (over) _unexpectedOutcome("mintSubsidisedCredits: budget exceeded");
            else {
                ghostSubsidyUsd[epoch] += usd;
                ghostCreditMinted += usd;
                _recordWork(provider, usd, true);
                _done("mintSubsidisedCredits");
            }
        } catch (bytes memory err) {
            if (over && _selector(err) == IBurnMintEngine.SubsidyBudgetExceeded.selector) {
                _expectedRevert("mintSubsidisedCredits");
            } else {
                _unexpectedOutcome("mintSubsidisedCredits: reverted");
            }
        }
    }

    /// @notice The voucher market reports voucher principal paid to providers.
    function recordVoucherRevenue(uint256 usd) external synced {
        usd = bound(usd, 1, 10_000e18);
        engine.recordVoucherRevenue(usd);
        _done("recordVoucherRevenue");
    }

    /// @notice A user stakes a little in the vault (the stakers' share of emissions streams to it).
    function stake(uint256 userSeed, uint256 amount) external synced {
        address user = _user(userSeed);
        uint256 balance = token.balanceOf(user);
        if (balance == 0) {
            _skip("stake");
            return;
        }
        amount = bound(amount, 1, _min(balance, 5_000e18));
        vm.prank(user);
        vault.stake(amount);
        _done("stake");
    }

    /// @notice A user claims its staking rewards (emission tokens leave the vault; supply unchanged).
    function claimStakingRewards(uint256 userSeed) external synced {
        address user = _user(userSeed);
        vm.prank(user);
        if (vault.claim() == 0) {
            _skip("claimStakingRewards");
            return;
        }
        _done("claimStakingRewards");
    }

    /// @notice A holder burns its own tokens outside the engine.
    function burnTokens(uint256 userSeed, uint256 amount) external synced {
        address user = _user(userSeed);
        uint256 balance = token.balanceOf(user);
        if (balance == 0) {
            _skip("burnTokens");
            return;
        }
        amount = bound(amount, 1, _min(balance, 100e18));
        vm.prank(user);
        token.burn(amount);
        ghostTokenBurned += amount;
        ghostDirectBurns += amount;
        _done("burnTokens");
    }

    /// @notice Governance moves the price: at most ×2 or ÷2 per move, within the oracle's bounds.
    function movePrice(uint256 seed) external synced {
        uint256 price = oracle.price();
        uint256 lo = _max(oracle.MIN_PRICE(), price / 2);
        uint256 hi = _min(oracle.MAX_PRICE(), price * 2);
        oracle.setPrice(bound(seed, lo, hi));
        _done("movePrice");
    }

    /// @notice Governance changes the mint spread (0–5 %; takes effect at once). One call in ten tries an
    ///         out-of-bounds value and expects ParameterOutOfBounds.
    function setMintSpreadBps(uint256 bps) external synced {
        bool outOfBounds = bps % 10 == 0;
        bps = outOfBounds ? bound(bps, 501, 10_000) : bound(bps, 0, 500);
        try engine.setMintSpreadBps(bps) {
            if (outOfBounds) _unexpectedOutcome("setMintSpreadBps: accepted out of bounds");
            spreadBps = bps;
            _done("setMintSpreadBps");
        } catch (bytes memory err) {
            if (outOfBounds && _selector(err) == ICinderErrors.ParameterOutOfBounds.selector) {
                _expectedRevert("setMintSpreadBps");
            } else {
                _unexpectedOutcome("setMintSpreadBps: reverted");
            }
        }
    }

    /// @notice Governance raises or lowers the epoch mint cap (emission to 3 × emission); by the spec the
    ///         running epoch keeps its cap and the new one applies from the next epoch, so what was already
    ///         minted (and reserved) in this epoch stays within the cap in force. One call in ten tries a cap
    ///         below the emission and expects ParameterOutOfBounds.
    function setEpochMintCap(uint256 cap) external synced {
        bool outOfBounds = cap % 10 == 0;
        cap =
            outOfBounds ? bound(cap, 0, emissionPerEpoch - 1) : bound(cap, emissionPerEpoch, 3 * emissionPerEpoch);
        try engine.setEpochMintCap(cap) {
            if (outOfBounds) _unexpectedOutcome("setEpochMintCap: accepted out of bounds");
            _capFrom.push(_epoch() + 1);
            _capValue.push(cap);
            _done("setEpochMintCap");
        } catch (bytes memory err) {
            if (outOfBounds && _selector(err) == ICinderErrors.ParameterOutOfBounds.selector) {
                _expectedRevert("setEpochMintCap");
            } else {
                _unexpectedOutcome("setEpochMintCap: reverted");
            }
        }
    }

    /// @notice Time passes: an hour to three days, so epochs are crossed often.
    function warp(uint256 secondsToPass) external {
        time += bound(secondsToPass, 1 hours, 3 days);
        vm.warp(time);
        _done("warp");
    }

    /// @notice Time passes to the next UTC day (plus up to half a day): the daily keeper's rhythm.
    function warpToNextEpoch(uint256 offset) external {
        time = (time / 1 days + 1) * 1 days + bound(offset, 0, 12 hours);
        vm.warp(time);
        _done("warpToNextEpoch");
    }

    /// @notice Anyone distributes a finished epoch: usually the previous one (the daily keeper), sometimes a
    ///         late or an already distributed one. The model predicts the split, the maxSupply trim and
    ///         whether the epoch mint cap refuses it.
    function distribute(uint256 epochSeed) external synced {
        uint256 current = _epoch();
        if (current == genesis) {
            try engine.distribute(current) {
                _unexpectedOutcome("distribute: unfinished epoch distributed");
            } catch (bytes memory err) {
                if (_selector(err) == IBurnMintEngine.EpochNotFinished.selector) _expectedRevert("distribute");
                else _unexpectedOutcome("distribute: wrong error for an unfinished epoch");
            }
            return;
        }
        uint256 epoch = _pickEpochToDistribute(epochSeed, current);
        address caller = _user(epochSeed >> 128);

        if (ghostDistributions[epoch] != 0) {
            vm.prank(caller);
            try engine.distribute(epoch) {
                ++ghostDistributions[epoch]; // the invariant reports it
                _unexpectedOutcome("distribute: epoch distributed twice");
            } catch (bytes memory err) {
                if (_selector(err) == IBurnMintEngine.AlreadyDistributed.selector) _expectedRevert("distribute");
                else _unexpectedOutcome("distribute: wrong error for a distributed epoch");
            }
            return;
        }

        (uint256 toStakers, uint256 toProviders, bool trimmed) = _modelSplit(epoch);
        uint256 emitted = toStakers + toProviders;
        bool refused = emitted > _capLeft(current, epoch + 1 != current);

        vm.prank(caller);
        try engine.distribute(epoch) returns (uint256 out) {
            ++ghostDistributions[epoch];
            if (refused) _unexpectedOutcome("distribute: succeeded beyond the epoch cap");
            if (out != emitted) _unexpectedOutcome("distribute: emitted != model");
            if (engine.epochLedger(epoch).providerPool != toProviders) {
                _unexpectedOutcome("distribute: provider pool != model");
            }
            _distributed.push(epoch);
            ghostMintedIn[current] += out;
            ghostTokenMinted += out;
            ghostPool[epoch] = toProviders;
            ghostPoolTotal += toProviders;
            if (trimmed) ++maxSupplyHits;
            if (token.totalSupply() == token.maxSupply()) ++maxSupplyReached;
            _done("distribute");
        } catch (bytes memory err) {
            if (refused && _selector(err) == IBurnMintEngine.EpochMintCapExceeded.selector) {
                ++epochCapHits;
                _expectedRevert("distribute");
            } else {
                _unexpectedOutcome("distribute: reverted");
            }
        }
    }

    /// @notice A provider claims its share of up to three distributed epochs it has not claimed yet; with
    ///         none left it re-claims one (or claims an undistributed one) and expects the error.
    function claimEmissions(uint256 providerSeed, uint256 epochSeed, uint256 count) external synced {
        address provider = _provider(providerSeed);
        count = bound(count, 1, 3);
        uint256 n = _distributed.length;
        uint256[] memory picked = new uint256[](count);
        uint256 k;
        uint256 expected;
        for (uint256 i; i < n && k < count; ++i) {
            uint256 epoch = _distributed[((epochSeed % n) + i) % n];
            if (ghostClaimed[epoch][provider]) continue;
            picked[k++] = epoch;
            expected += _modelShare(epoch, provider);
        }

        if (k == 0) {
            // Nothing claimable: a repeat claim or an undistributed epoch must be refused.
            uint256[] memory bad = new uint256[](1);
            bytes4 want;
            if (n != 0) {
                bad[0] = _distributed[epochSeed % n];
                want = IBurnMintEngine.AlreadyClaimed.selector;
            } else {
                bad[0] = genesis + (epochSeed % 8);
                want = IBurnMintEngine.NotDistributed.selector;
            }
            vm.prank(provider);
            try engine.claimEmissions(bad) {
                _unexpectedOutcome("claimEmissions: invalid claim paid");
            } catch (bytes memory err) {
                if (_selector(err) == want) _expectedRevert("claimEmissions");
                else _unexpectedOutcome("claimEmissions: wrong error");
            }
            return;
        }

        uint256[] memory epochs = new uint256[](k);
        for (uint256 i; i < k; ++i) epochs[i] = picked[i];
        uint256 before = token.balanceOf(provider);
        vm.prank(provider);
        try engine.claimEmissions(epochs) returns (uint256 amount) {
            if (amount != expected) _unexpectedOutcome("claimEmissions: amount != pro-rata model");
            if (token.balanceOf(provider) - before != amount)
                _unexpectedOutcome("claimEmissions: paid != returned");
            for (uint256 i; i < k; ++i) ghostClaimed[epochs[i]][provider] = true;
            ghostClaimedTotal += amount;
            _done("claimEmissions");
        } catch {
            _unexpectedOutcome("claimEmissions: reverted");
        }
    }

    // ================================================================== views for the invariant suite

    function currentEpoch() external view returns (uint256) {
        return _epoch();
    }

    function distributedEpochs() external view returns (uint256[] memory) {
        return _distributed;
    }

    function users() external view returns (address[] memory) {
        return _users;
    }

    function providers() external view returns (address[] memory) {
        return _providers;
    }

    /// @notice The mint cap in force during `epoch` by the spec: the last one set before `epoch` began.
    function capOf(uint256 epoch) public view returns (uint256) {
        for (uint256 i = _capFrom.length; i > 0; --i) {
            if (_capFrom[i - 1] <= epoch) return _capValue[i - 1];
        }
        return 0; // before genesis
    }

    /// @notice The scheduled emission of `epoch` by the spec: halves every `halvingEpochs` from genesis.
    function modelEmission(uint256 epoch) public view returns (uint256) {
        if (epoch < genesis) return 0;
        uint256 halvings = (epoch - genesis) / halvingEpochs;
        return halvings >= 256 ? 0 : emissionPerEpoch >> halvings;
    }

    // ================================================================== internal

    function _recordWork(address provider, uint256 usd, bool subsidised) private {
        uint256 epoch = _epoch();
        engine.recordWork(provider, usd, subsidised);
        ghostWorkUsd[epoch] += usd;
        if (subsidised) ghostSubsidisedWorkUsd[epoch] += usd;
        ghostWorkOf[epoch][provider] += usd;
    }

    /// @dev The spec's split of `epoch`'s emission: stakers first, providers only if work was recorded,
    ///      both trimmed to what maxSupply leaves.
    function _modelSplit(
        uint256 epoch
    ) private view returns (uint256 toStakers, uint256 toProviders, bool trimmed) {
        uint256 scheduled = modelEmission(epoch);
        toStakers = (scheduled * stakerShareBps) / _BPS;
        toProviders = ghostWorkUsd[epoch] == 0 ? 0 : scheduled - toStakers;
        uint256 headroom = token.maxSupply() - token.totalSupply();
        trimmed = toStakers + toProviders > headroom;
        toStakers = _min(toStakers, headroom);
        toProviders = _min(toProviders, headroom - toStakers);
    }

    /// @dev What the spec leaves of epoch `current`'s mint cap, keeping back the previous epoch's scheduled
    ///      emission while it is undistributed (when `keepReserve`).
    function _capLeft(uint256 current, bool keepReserve) private view returns (uint256) {
        uint256 used = ghostMintedIn[current];
        if (keepReserve && current > genesis && ghostDistributions[current - 1] == 0) {
            used += modelEmission(current - 1);
        }
        uint256 cap = capOf(current);
        return used >= cap ? 0 : cap - used;
    }

    function _modelShare(uint256 epoch, address provider) private view returns (uint256) {
        uint256 pool = ghostPool[epoch];
        if (pool == 0) return 0;
        return (pool * ghostWorkOf[epoch][provider]) / ghostWorkUsd[epoch];
    }

    /// @dev Three in four calls take the previous epoch (the daily keeper); one in eight a late, undistributed
    ///      epoch if any (found from a random start); one in eight any finished epoch (often a repeat).
    function _pickEpochToDistribute(uint256 seed, uint256 current) private view returns (uint256) {
        if (seed % 4 != 0) return current - 1;
        uint256 span = current - genesis;
        uint256 start = (seed >> 3) % span;
        if (seed % 8 == 4) {
            for (uint256 k; k < span; ++k) {
                uint256 epoch = genesis + ((start + k) % span);
                if (ghostDistributions[epoch] == 0) return epoch;
            }
        }
        return genesis + start;
    }

    function _epoch() private view returns (uint256) {
        return time / 1 days;
    }

    function _user(uint256 seed) private view returns (address) {
        return _users[seed % _users.length];
    }

    function _provider(uint256 seed) private view returns (address) {
        return _providers[seed % _providers.length];
    }

    /// @dev The first credit holder with a balance, starting from `seed`: users, providers, the treasury
    ///      (which earns the spread); address(0) when nobody holds credit.
    function _holderWithCredit(uint256 seed) private view returns (address) {
        uint256 n = _users.length + _providers.length + 1;
        for (uint256 k; k < n; ++k) {
            uint256 i = ((seed % n) + k) % n;
            address a =
                i < _users.length
                    ? _users[i]
                    : i < _users.length + _providers.length
                        ? _providers[i - _users.length]
                        : treasury;
            if (credit.balanceOf(a) != 0) return a;
        }
        return address(0);
    }

    /// @dev The first user with credit, starting from `seed`; address(0) when none has any.
    function _userWithCredit(uint256 seed) private view returns (address) {
        for (uint256 k; k < _users.length; ++k) {
            address a = _users[((seed % _users.length) + k) % _users.length];
            if (credit.balanceOf(a) != 0) return a;
        }
        return address(0);
    }

    /// @dev The leading 4 bytes of a revert payload: the custom error's selector.
    function _selector(bytes memory err) private pure returns (bytes4) {
        // forge-lint: disable-next-line(unsafe-typecast)
        return bytes4(err); // truncation is the point: only the selector is compared
    }

    function _done(bytes32 action) private {
        ++done[action];
    }

    function _skip(bytes32 action) private {
        ++skipped[action];
    }

    function _expectedRevert(bytes32 action) private {
        ++expectedReverts[action];
    }

    function _unexpectedOutcome(string memory reason) private {
        ++unexpected;
        lastUnexpected = reason;
    }

    function _min(uint256 a, uint256 b) private pure returns (uint256) {
        return a < b ? a : b;
    }

    function _max(uint256 a, uint256 b) private pure returns (uint256) {
        return a > b ? a : b;
    }
}

// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC1155Errors} from "@openzeppelin/contracts/interfaces/draft-IERC6093.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {HandlerStats} from "../../utils/HandlerStats.sol";
import {console} from "../../utils/console.sol";
import {VoucherMarket} from "../../../../contracts/VoucherMarket.sol";
import {BurnMintEngine} from "../../../../contracts/BurnMintEngine.sol";
import {ProtocolToken} from "../../../../contracts/ProtocolToken.sol";
import {ProviderRegistry} from "../../../../contracts/ProviderRegistry.sol";
import {MockStablecoin} from "../../../../contracts/mocks/MockStablecoin.sol";
import {IVoucherMarket} from "../../../../contracts/interfaces/IVoucherMarket.sol";
import {IProviderRegistry} from "../../../../contracts/interfaces/IProviderRegistry.sol";
import {ISlashingWindow} from "../../../../contracts/interfaces/ISlashingWindow.sol";
import {ICinderErrors} from "../../../../contracts/interfaces/ICinderErrors.sol";

/// @title VoucherMarketHandler
/// @notice Drives VoucherMarket for the invariant test (DESIGN.md invariant 5). Actors buy vouchers of a few
///         classes (6- and 18-decimal stablecoins, odd and tiny prices, 2–10 % premiums, capped and uncapped,
///         expiring and perpetual) for themselves or each other, transfer them, and reclaim principal after
///         expiry; the handler is the REDEEMER (the JobCoordinator): it redeems actors' vouchers — every actor
///         but one `stranger` has approved it with setApprovalForAll — to providers, and runs voucher jobs
///         (escrowForJob into its custody, then redeem the used part and returnEscrow the rest); anyone
///         withdraws what a provider or the treasury is owed; it is also governance, changing `protocolFeeBps`
///         and (de)activating classes; time moves by hours to days, or straight to a class's expiry.
/// @dev Ghosts per class follow every unit of stablecoin that enters (principal, premium) and leaves escrow
///      (provider pay and fee, credited as owed; reclaim), and every voucher minted and burned; per coin and
///      account, what was credited and withdrawn. Single-call rules (cost = quote, fee = ⌈principal × bps⌉,
///      paid + fee = principal, a redemption moves no stablecoin, escrowForJob takes ⌈units / unitsPerVoucher⌉,
///      a withdrawal pays exactly what is owed to the account, documented reverts for early reclaims, expired
///      or inactive or over-cap buys, unapproved redemptions and escrows, over-balance burns, empty
///      withdrawals, out-of-bound fees) are checked here and recorded as violations the invariant test asserts
///      to be zero.
contract VoucherMarketHandler is HandlerStats {
    VoucherMarket public immutable market;
    BurnMintEngine public immutable engine;
    address public immutable treasury;
    address public immutable stranger; // holds vouchers, never approves the redeemer

    uint256[] internal _classIds;
    address[] internal _holders; // actors, the stranger last
    address[] internal _providers;
    address[] internal _coins;

    // ---------------------------------------------------------------- ghosts (per class)

    mapping(uint256 classId => uint256) public ghostPrincipalIn;
    mapping(uint256 classId => uint256) public ghostPremiums;
    mapping(uint256 classId => uint256) public ghostPaid; // credited to providers
    mapping(uint256 classId => uint256) public ghostFees; // credited to the treasury
    mapping(uint256 classId => uint256) public ghostReclaimed;
    mapping(uint256 classId => uint256) public ghostMinted;
    mapping(uint256 classId => uint256) public ghostBurned;
    mapping(uint256 classId => uint256) public ghostCustody; // vouchers of open jobs, held by the handler
    mapping(address coin => uint256) public ghostPremiumsIn; // paid straight to the treasury at purchase
    mapping(address coin => uint256) public ghostFeesTo; // credited to the treasury
    mapping(address coin => mapping(address provider => uint256)) public ghostPaidTo; // credited to a provider
    mapping(address coin => mapping(address account => uint256)) public ghostWithdrawn;
    uint256 public ghostRevenueUsd; // principal redeemed, scaled to 18 decimals
    uint256 public ghostCapHits;
    uint256 public ghostExpiredReclaims;
    uint256 public ghostJobsOpened;
    uint256 public ghostJobsSettled;
    uint256 public ghostWithdrawals;

    /// @dev A voucher job: `vouchers` of `holder`'s `classId` in the handler's custody until settled.
    struct Job {
        address holder;
        uint256 classId;
        uint256 vouchers;
        bool settled;
    }

    Job[] internal _jobs;

    uint256[] internal _epochs;
    mapping(uint256 epoch => bool) internal _epochSeen;
    uint256 internal immutable _START;

    constructor(
        VoucherMarket market_,
        BurnMintEngine engine_,
        uint256[] memory classIds_,
        address[] memory actors_,
        address stranger_,
        address[] memory providers_
    ) {
        market = market_;
        engine = engine_;
        treasury = market_.treasury();
        stranger = stranger_;
        _classIds = classIds_;
        _providers = providers_;
        _START = block.timestamp;
        for (uint256 i; i < classIds_.length; ++i) {
            address coin = address(market_.getClass(classIds_[i]).stablecoin);
            bool known;
            for (uint256 j; j < _coins.length; ++j) known = known || _coins[j] == coin;
            if (!known) _coins.push(coin);
        }
        for (uint256 i; i < actors_.length; ++i) _holders.push(actors_[i]);
        _holders.push(stranger_);
        for (uint256 i; i < _holders.length; ++i) {
            address h = _holders[i];
            vm.startPrank(h);
            for (uint256 j; j < _coins.length; ++j) IERC20(_coins[j]).approve(address(market_), type(uint256).max);
            if (h != stranger_) market_.setApprovalForAll(address(this), true);
            vm.stopPrank();
        }
        _touchEpoch();
    }

    // ================================================================ users

    /// @dev Buys what the cap leaves (at most a per-class chunk) at a random open class, paying with freshly
    ///      minted stablecoin, for the buyer or another holder. One call in eight first tries a maxCost one
    ///      unit short, or one voucher over the cap when the class is capped.
    function buy(
        uint256 buyerSeed,
        uint256 classSeed,
        uint256 vouchers,
        uint256 recipientSeed
    ) external action("buy") {
        _touchEpoch();
        uint256 classId = _pickClass(classSeed, _isBuyable);
        if (classId == 0) {
            _checkClosedBuy(classSeed);
            return;
        }
        IVoucherMarket.VoucherClass memory c = market.getClass(classId);
        uint256 most = _chunk(c);
        if (c.supplyCap != 0) {
            uint256 remaining = c.supplyCap - c.minted;
            if (vouchers % 8 == 1) _checkOverCap(classId, remaining);
            most = _min(most, remaining);
        }
        vouchers = bound(vouchers, 1, most);
        address buyer = _holders[buyerSeed % _holders.length];
        address recipient = _holders[recipientSeed % _holders.length];

        (uint256 principal, uint256 premium) = market.quoteBuy(classId, vouchers);
        if (principal != c.unitPrice * vouchers) _violation("quote principal != unitPrice x vouchers");
        if (premium != Math.mulDiv(principal, c.mintPremiumBps, 10_000, Math.Rounding.Ceil))
            _violation("premium != ceil(principal x bps)");
        MockStablecoin(address(c.stablecoin)).mint(buyer, principal + premium);

        if (vouchers % 8 == 2) {
            vm.prank(buyer);
            try market.buy(classId, vouchers, principal + premium - 1, recipient) {
                _violation("buy above maxCost");
                _recordBuy(classId, c, vouchers, principal, premium);
                return;
            } catch (bytes memory reason) {
                _expectSelector(reason, IVoucherMarket.CostExceeded.selector, "buy above maxCost");
            }
        }

        uint256 buyerBefore = c.stablecoin.balanceOf(buyer);
        uint256 unitsBefore = market.balanceOf(recipient, classId);
        vm.prank(buyer);
        uint256 cost = market.buy(classId, vouchers, principal + premium, recipient);
        if (cost != principal + premium || c.stablecoin.balanceOf(buyer) != buyerBefore - cost)
            _violation("buy charged other than quoted");
        if (market.balanceOf(recipient, classId) != unitsBefore + vouchers)
            _violation("buy minted a wrong amount");
        _recordBuy(classId, c, vouchers, principal, premium);
        _done("buy");
    }

    function transfer(
        uint256 fromSeed,
        uint256 toSeed,
        uint256 classSeed,
        uint256 vouchers
    ) external action("transfer") {
        _touchEpoch();
        (address from, uint256 classId) = _pickHolding(fromSeed, classSeed, false);
        if (from == address(0)) {
            _skip();
            return;
        }
        address to = _holders[toSeed % _holders.length];
        vouchers = bound(vouchers, 1, market.balanceOf(from, classId));
        vm.prank(from);
        market.safeTransferFrom(from, to, classId, vouchers, "");
        _done("transfer");
    }

    /// @dev The handler, as REDEEMER, settles a "job" paid by a holder's vouchers. One call in eight first
    ///      tries the stranger's vouchers (never approved: must revert NotApproved), and one in eight tries one
    ///      voucher more than the holder has.
    function redeem(
        uint256 holderSeed,
        uint256 classSeed,
        uint256 vouchers,
        uint256 providerSeed
    ) external action("redeem") {
        _touchEpoch();
        address provider = _providers[providerSeed % _providers.length];
        if (vouchers % 8 == 3) _checkStrangerRedeem(classSeed, provider);
        (address holder, uint256 classId) = _pickHolding(holderSeed, classSeed, true);
        if (holder == address(0)) {
            _skip();
            return;
        }
        uint256 balance = market.balanceOf(holder, classId);
        if (vouchers % 8 == 4) {
            try market.redeem(holder, classId, balance + 1, provider) {
                _violation("redeemed more vouchers than held");
            } catch (bytes memory reason) {
                _expectSelector(reason, IERC1155Errors.ERC1155InsufficientBalance.selector, "over-redeem");
            }
        }
        // One call in four redeems the whole balance (empties holders, exercises escrow → 0).
        vouchers = vouchers % 4 == 0 ? balance : bound(vouchers, 1, balance);
        _redeem(holder, classId, vouchers, provider);
        _done("redeem");
    }

    /// @dev After expiry a holder reclaims (one call in four all it holds). Before expiry (or on a perpetual
    ///      class) the reclaim must revert ClassNotExpired.
    function reclaim(uint256 holderSeed, uint256 classSeed, uint256 vouchers) external action("reclaim") {
        _touchEpoch();
        (address holder, uint256 classId) = _pickHolding(holderSeed, classSeed, false);
        if (holder == address(0)) {
            _skip();
            return;
        }
        IVoucherMarket.VoucherClass memory c = market.getClass(classId);
        uint256 balance = market.balanceOf(holder, classId);
        if (c.expiry == 0 || block.timestamp < c.expiry) {
            vm.prank(holder);
            try market.reclaim(classId, bound(vouchers, 1, balance)) {
                _violation("reclaim before expiry");
            } catch (bytes memory reason) {
                _expectSelector(reason, IVoucherMarket.ClassNotExpired.selector, "early reclaim");
            }
            _done("reclaim (refused early)");
            return;
        }
        if (vouchers % 8 == 5) {
            vm.prank(holder);
            try market.reclaim(classId, balance + 1) {
                _violation("reclaimed more vouchers than held");
            } catch (bytes memory reason) {
                _expectSelector(reason, IERC1155Errors.ERC1155InsufficientBalance.selector, "over-reclaim");
            }
        }
        vouchers = vouchers % 4 == 0 ? balance : bound(vouchers, 1, balance);
        uint256 principal = c.unitPrice * vouchers;
        uint256 before = c.stablecoin.balanceOf(holder);
        vm.prank(holder);
        market.reclaim(classId, vouchers);
        if (c.stablecoin.balanceOf(holder) != before + principal) _violation("reclaim paid other than principal");
        ghostReclaimed[classId] += principal;
        ghostBurned[classId] += vouchers;
        ++ghostExpiredReclaims;
        _done("reclaim");
    }

    /// @dev The handler, as the JobCoordinator, takes a job's vouchers into custody: `units` in
    ///      [1, balance × unitsPerVoucher] of an approved holder. One call in eight first tries the stranger
    ///      (never approved: must revert NotApproved), one in eight a voucher more than the holder has.
    function openJob(uint256 holderSeed, uint256 classSeed, uint256 units) external action("openJob") {
        _touchEpoch();
        if (units % 8 == 1) _checkStrangerEscrow(classSeed);
        (address holder, uint256 classId) = _pickHolding(holderSeed, classSeed, true);
        if (holder == address(0)) {
            _skip();
            return;
        }
        IVoucherMarket.VoucherClass memory c = market.getClass(classId);
        uint256 balance = market.balanceOf(holder, classId);
        if (units % 8 == 2) {
            try market.escrowForJob(holder, classId, balance * c.unitsPerVoucher + 1) {
                _violation("escrowed more vouchers than held");
                _recordCustody(holder, classId, balance + 1);
            } catch (bytes memory reason) {
                _expectSelector(reason, IERC1155Errors.ERC1155InsufficientBalance.selector, "over-escrow");
            }
            if (market.balanceOf(holder, classId) == 0) return;
            balance = market.balanceOf(holder, classId);
        }
        units = bound(units, 1, balance * c.unitsPerVoucher);
        uint256 expected = Math.ceilDiv(units, c.unitsPerVoucher);
        uint256 custodyBefore = market.balanceOf(address(this), classId);
        (bytes32 modelId, uint256 unitsPerVoucher, uint256 vouchers) = market.escrowForJob(holder, classId, units);
        if (modelId != c.modelId || unitsPerVoucher != c.unitsPerVoucher) _violation("escrowForJob: wrong terms");
        if (vouchers != expected) _violation("escrowForJob: vouchers != ceil(units / unitsPerVoucher)");
        if (market.balanceOf(holder, classId) != balance - vouchers)
            _violation("escrowForJob: holder not debited");
        if (market.balanceOf(address(this), classId) != custodyBefore + vouchers)
            _violation("escrowForJob: custody not credited");
        _recordCustody(holder, classId, vouchers);
        _done("openJob");
    }

    /// @dev Settles an open job: redeems `used` of its vouchers (one call in four none, one in four all) to a
    ///      provider and returns the rest to the holder, without a hook.
    function settleJob(uint256 jobSeed, uint256 used, uint256 providerSeed) external action("settleJob") {
        _touchEpoch();
        uint256 n = _jobs.length;
        for (uint256 i; i < n; ++i) {
            uint256 id = ((jobSeed % n) + i) % n;
            Job storage j = _jobs[id];
            if (j.settled) continue;
            j.settled = true;
            ++ghostJobsSettled;
            used = used % 4 == 0 ? 0 : (used % 4 == 1 ? j.vouchers : bound(used, 0, j.vouchers));
            if (used != 0) _redeem(address(this), j.classId, used, _providers[providerSeed % _providers.length]);
            uint256 rest = j.vouchers - used;
            if (rest != 0) {
                uint256 before = market.balanceOf(j.holder, j.classId);
                market.returnEscrow(j.holder, j.classId, rest);
                if (market.balanceOf(j.holder, j.classId) != before + rest)
                    _violation("returnEscrow: not returned");
            }
            ghostCustody[j.classId] -= j.vouchers;
            _done("settleJob");
            return;
        }
        _skip();
    }

    /// @dev Anyone (a random holder) withdraws what a provider or the treasury is owed in a coin; with nothing
    ///      owed the call must revert ZeroAmount.
    function withdraw(uint256 accountSeed, uint256 coinSeed, uint256 callerSeed) external action("withdraw") {
        uint256 k = accountSeed % (_providers.length + 1);
        address account = k == _providers.length ? treasury : _providers[k];
        IERC20 coin = IERC20(_coins[coinSeed % _coins.length]);
        address caller = _holders[callerSeed % _holders.length];
        uint256 owed = market.owed(account, coin);
        uint256 before = coin.balanceOf(account);
        uint256 callerBefore = coin.balanceOf(caller);
        vm.prank(caller);
        try market.withdraw(account, coin) returns (uint256 amount) {
            if (owed == 0) _violation("withdrew with nothing owed");
            if (amount != owed || coin.balanceOf(account) != before + owed)
                _violation("withdraw paid other than owed");
            if (coin.balanceOf(caller) != callerBefore) _violation("withdraw paid the caller");
            if (market.owed(account, coin) != 0) _violation("owed not cleared");
            ghostWithdrawn[address(coin)][account] += amount;
            ++ghostWithdrawals;
            _done("withdraw");
        } catch (bytes memory reason) {
            if (owed != 0) _violation("withdraw refused with something owed");
            _expectSelector(reason, ICinderErrors.ZeroAmount.selector, "empty withdraw");
            _done("withdraw (refused: nothing owed)");
        }
    }

    // ================================================================ governance

    /// @dev Fee in [0, 1 000] bps; one call in eight first tries an out-of-bound fee.
    function setProtocolFee(uint256 bps) external action("setProtocolFee") {
        if (bps % 8 == 6) {
            try market.setProtocolFeeBps(bound(bps, 1_001, type(uint256).max)) {
                _violation("fee above 1 000 bps accepted");
            } catch (bytes memory reason) {
                _expectSelector(reason, ICinderErrors.ParameterOutOfBounds.selector, "fee out of bounds");
            }
        }
        bps = bound(bps, 0, 1_000);
        market.setProtocolFeeBps(bps);
        if (market.protocolFeeBps() != bps) _violation("fee not set");
        _done("setProtocolFee");
    }

    /// @dev Deactivates a class one time in four, otherwise (re)activates it.
    function setClassActive(uint256 classSeed) external action("setClassActive") {
        uint256 classId = _classIds[classSeed % _classIds.length];
        market.setClassActive(classId, (classSeed >> 8) % 4 != 0);
        _done("setClassActive");
    }

    // ================================================================ time

    function warp(uint256 secondsAhead) external action("warp") {
        vm.warp(block.timestamp + bound(secondsAhead, 1 hours, 2 days));
        _touchEpoch();
        _done("warp");
    }

    /// @dev Jumps to (just past) the expiry of a class that has not expired yet.
    function warpPastExpiry(uint256 classSeed, uint256 extra) external action("warpPastExpiry") {
        uint256 n = _classIds.length;
        for (uint256 i; i < n; ++i) {
            uint64 expiry = market.getClass(_classIds[((classSeed % n) + i) % n]).expiry;
            if (expiry != 0 && block.timestamp < expiry) {
                vm.warp(uint256(expiry) + bound(extra, 0, 6 hours));
                _touchEpoch();
                _done("warpPastExpiry");
                return;
            }
        }
        // Every class has expired: a plain day passes instead.
        vm.warp(block.timestamp + 1 days);
        _touchEpoch();
        _done("warpPastExpiry (all expired: 1 day)");
    }

    // ================================================================ views for the invariants

    function classIds() external view returns (uint256[] memory) {
        return _classIds;
    }

    function holders() external view returns (address[] memory) {
        return _holders;
    }

    function providers() external view returns (address[] memory) {
        return _providers;
    }

    function coins() external view returns (address[] memory) {
        return _coins;
    }

    function jobCount() external view returns (uint256) {
        return _jobs.length;
    }

    function epochsSeen() external view returns (uint256[] memory) {
        return _epochs;
    }

    /// @notice Prints, per action, how often it was called and how often it changed state.
    function logCallSummary() external view {
        _logStats();
        console.log("hours elapsed", (block.timestamp - _START) / 1 hours);
        console.log("buys refused at the cap", ghostCapHits);
        console.log("reclaims after expiry", ghostExpiredReclaims);
        console.log("jobs opened", ghostJobsOpened);
        console.log("jobs settled", ghostJobsSettled);
        console.log("withdrawals", ghostWithdrawals);
    }

    // ================================================================ internal

    /// @dev Redeems and checks the split: credited (owed), never pushed, the principal reported in USD.
    function _redeem(address holder, uint256 classId, uint256 vouchers, address provider) internal {
        IVoucherMarket.VoucherClass memory c = market.getClass(classId);
        IERC20 coin = c.stablecoin;
        uint256 principal = c.unitPrice * vouchers;
        // owed to the provider, owed to the treasury, held by the market, held by provider + treasury
        uint256[4] memory before = [
            market.owed(provider, coin),
            market.owed(treasury, coin),
            coin.balanceOf(address(market)),
            coin.balanceOf(provider) + coin.balanceOf(treasury)
        ];
        uint256 reported = market.redeem(holder, classId, vouchers, provider);
        uint256 paid = market.owed(provider, coin) - before[0];
        uint256 fee = market.owed(treasury, coin) - before[1];
        if (fee != Math.mulDiv(principal, market.protocolFeeBps(), 10_000, Math.Rounding.Ceil))
            _violation("redeem fee != ceil(principal x feeBps)");
        if (paid + fee != principal) _violation("redeem paid + fee != principal");
        if (reported != _usd(coin, principal)) _violation("redeem returned other than the principal in USD");
        if (
            coin.balanceOf(address(market)) != before[2] ||
            coin.balanceOf(provider) + coin.balanceOf(treasury) != before[3]
        ) _violation("redeem moved stablecoin");
        ghostPaid[classId] += paid;
        ghostFees[classId] += fee;
        ghostPaidTo[address(coin)][provider] += paid;
        ghostFeesTo[address(coin)] += fee;
        ghostBurned[classId] += vouchers;
        ghostRevenueUsd += _usd(coin, principal);
    }

    /// @dev `amount` of `coin` in 18-decimal USD.
    function _usd(IERC20 coin, uint256 amount) internal view returns (uint256) {
        return amount * 10 ** (18 - MockStablecoin(address(coin)).decimals());
    }

    function _recordCustody(address holder, uint256 classId, uint256 vouchers) internal {
        _jobs.push(Job(holder, classId, vouchers, false));
        ghostCustody[classId] += vouchers;
        ++ghostJobsOpened;
    }

    function _checkStrangerEscrow(uint256 classSeed) internal {
        uint256 n = _classIds.length;
        for (uint256 i; i < n; ++i) {
            uint256 classId = _classIds[((classSeed % n) + i) % n];
            if (market.balanceOf(stranger, classId) == 0) continue;
            try market.escrowForJob(stranger, classId, 1) returns (bytes32, uint256, uint256 vouchers) {
                _violation("escrowed an unapproved holder's vouchers");
                _recordCustody(stranger, classId, vouchers);
            } catch (bytes memory reason) {
                _expectSelector(reason, IVoucherMarket.NotApproved.selector, "unapproved escrow");
            }
            _done("openJob (refused: not approved)");
            return;
        }
    }

    function _recordBuy(
        uint256 classId,
        IVoucherMarket.VoucherClass memory c,
        uint256 vouchers,
        uint256 principal,
        uint256 premium
    ) internal {
        ghostPrincipalIn[classId] += principal;
        ghostPremiums[classId] += premium;
        ghostPremiumsIn[address(c.stablecoin)] += premium;
        ghostMinted[classId] += vouchers;
    }

    /// @dev No class is buyable: buying the chosen one must fail with the reason that closes it.
    function _checkClosedBuy(uint256 classSeed) internal {
        uint256 classId = _classIds[classSeed % _classIds.length];
        IVoucherMarket.VoucherClass memory c = market.getClass(classId);
        bytes4 expected;
        if (!c.active) expected = IVoucherMarket.ClassInactive.selector;
        else if (c.expiry != 0 && block.timestamp >= c.expiry) expected = IVoucherMarket.ClassExpired.selector;
        else expected = IVoucherMarket.SupplyCapExceeded.selector;
        address buyer = _holders[classSeed % _holders.length];
        MockStablecoin(address(c.stablecoin)).mint(buyer, c.unitPrice * 2);
        vm.prank(buyer);
        try market.buy(classId, 1, type(uint256).max, buyer) {
            _violation("bought a closed class");
            _recordBuy(
                classId,
                c,
                1,
                c.unitPrice,
                Math.mulDiv(c.unitPrice, c.mintPremiumBps, 10_000, Math.Rounding.Ceil)
            );
        } catch (bytes memory reason) {
            _expectSelector(reason, expected, "buy of a closed class");
            if (expected == IVoucherMarket.SupplyCapExceeded.selector) ++ghostCapHits;
        }
        _done("buy (refused: closed)");
    }

    function _checkOverCap(uint256 classId, uint256 remaining) internal {
        address buyer = _holders[0];
        (uint256 principal, uint256 premium) = market.quoteBuy(classId, remaining + 1);
        MockStablecoin(address(market.getClass(classId).stablecoin)).mint(buyer, principal + premium);
        vm.prank(buyer);
        try market.buy(classId, remaining + 1, type(uint256).max, buyer) {
            _violation("bought past the supply cap");
            _recordBuy(classId, market.getClass(classId), remaining + 1, principal, premium);
        } catch (bytes memory reason) {
            _expectSelector(reason, IVoucherMarket.SupplyCapExceeded.selector, "buy past the cap");
            ++ghostCapHits;
        }
    }

    function _checkStrangerRedeem(uint256 classSeed, address provider) internal {
        uint256 n = _classIds.length;
        for (uint256 i; i < n; ++i) {
            uint256 classId = _classIds[((classSeed % n) + i) % n];
            if (market.balanceOf(stranger, classId) == 0) continue;
            try market.redeem(stranger, classId, 1, provider) {
                _violation("redeemed an unapproved holder's vouchers");
                // Keep the ghosts true to the chain so only the violation reports it.
                IVoucherMarket.VoucherClass memory c = market.getClass(classId);
                uint256 fee = Math.mulDiv(c.unitPrice, market.protocolFeeBps(), 10_000, Math.Rounding.Ceil);
                ghostPaid[classId] += c.unitPrice - fee;
                ghostFees[classId] += fee;
                ghostPaidTo[address(c.stablecoin)][provider] += c.unitPrice - fee;
                ghostFeesTo[address(c.stablecoin)] += fee;
                ghostBurned[classId] += 1;
                ghostRevenueUsd += _usd(c.stablecoin, c.unitPrice);
            } catch (bytes memory reason) {
                _expectSelector(reason, IVoucherMarket.NotApproved.selector, "unapproved redeem");
            }
            _done("redeem (refused: not approved)");
            return;
        }
    }

    /// @dev Largest buy per call: a few calls reach the cap of the capped classes.
    function _chunk(IVoucherMarket.VoucherClass memory c) internal pure returns (uint256) {
        return c.supplyCap != 0 ? c.supplyCap / 4 + 1 : 10_000;
    }

    function _isBuyable(uint256 classId) internal view returns (bool) {
        IVoucherMarket.VoucherClass memory c = market.getClass(classId);
        return
            c.active &&
            (c.expiry == 0 || block.timestamp < c.expiry) &&
            (c.supplyCap == 0 || c.minted < c.supplyCap);
    }

    function _pickClass(uint256 seed, function(uint256) view returns (bool) able) internal view returns (uint256) {
        uint256 n = _classIds.length;
        for (uint256 i; i < n; ++i) {
            uint256 classId = _classIds[((seed % n) + i) % n];
            if (able(classId)) return classId;
        }
        return 0;
    }

    /// @dev The first (holder, class) from the seeds on with a balance; `approvedOnly` skips the stranger.
    function _pickHolding(
        uint256 holderSeed,
        uint256 classSeed,
        bool approvedOnly
    ) internal view returns (address, uint256) {
        uint256 nh = approvedOnly ? _holders.length - 1 : _holders.length;
        uint256 nc = _classIds.length;
        for (uint256 i; i < nh; ++i) {
            address h = _holders[((holderSeed % nh) + i) % nh];
            for (uint256 j; j < nc; ++j) {
                uint256 classId = _classIds[((classSeed % nc) + j) % nc];
                if (market.balanceOf(h, classId) != 0) return (h, classId);
            }
        }
        return (address(0), 0);
    }

    function _touchEpoch() internal {
        uint256 epoch = engine.currentEpoch();
        if (!_epochSeen[epoch]) {
            _epochSeen[epoch] = true;
            _epochs.push(epoch);
        }
    }
}

/// @title ProviderBondHandler
/// @notice Drives ProviderRegistry for the invariant test (DESIGN.md invariant 7). Actors register with a
///         bond, add to it, request exit and try to withdraw (often: early, with collateral locked, or after
///         settling what they can). The handler plays the JobCoordinator: it is the registry's
///         ISlashingWindow source, "accepts jobs" by locking collateral of eligible providers, recording for
///         each job the end of its slash-eligible window (now + window), "settles" jobs after their window by
///         releasing the collateral (one by one, or a provider's closed jobs in one batch release), slashes random amounts of providers with open windows (to a challenger
///         or burned) and jails; as governance it retunes the window and the unbonding period together
///         (window ≤ unbonding, the registry refusing an unbonding shorter than the window).
/// @dev Ghosts per provider: deposited (register + increaseBond), slashed, withdrawn. Every withdrawBond that
///      succeeds is checked against the job book: a provider with an open window that got its bond back is
///      counted in `withdrawalsWithOpenWindow`, which the invariant test asserts to be zero.
contract ProviderBondHandler is HandlerStats, ISlashingWindow {
    ProtocolToken public immutable token;
    ProviderRegistry public immutable registry;
    bytes32 public immutable modelId;
    address public immutable challenger;

    uint256 internal _window;

    struct Job {
        address provider;
        uint256 collateral;
        uint256 windowEnd; // slash-eligible until then (exclusive)
        bool settled;
    }

    Job[] internal _jobs;
    address[] internal _actors;

    // ---------------------------------------------------------------- ghosts

    mapping(address provider => uint256) public ghostDeposited;
    mapping(address provider => uint256) public ghostSlashed;
    mapping(address provider => uint256) public ghostWithdrawn;
    uint256 public ghostTotalDeposited;
    uint256 public ghostTotalSlashed;
    uint256 public ghostBurned; // slashed to address(0)
    uint256 public ghostToChallenger;

    uint256 public withdrawalsWithOpenWindow; // invariant (g): must stay zero
    uint256 public withdrawalsSucceeded;
    uint256 public withdrawalsRefused;
    uint256 public withdrawalsTriedWithOpenWindowAfterUnbonding; // attempts where only `locked` could refuse
    string public lastOpenWindowWithdrawal;

    uint256 internal immutable _START;

    constructor(
        ProtocolToken token_,
        ProviderRegistry registry_,
        bytes32 modelId_,
        address[] memory actors_,
        address challenger_,
        uint256 window_
    ) {
        token = token_;
        registry = registry_;
        modelId = modelId_;
        challenger = challenger_;
        _actors = actors_;
        _window = window_;
        _START = block.timestamp;
        for (uint256 i; i < actors_.length; ++i) {
            vm.prank(actors_[i]);
            token_.approve(address(registry_), type(uint256).max);
        }
    }

    /// @inheritdoc ISlashingWindow
    function slashableWindow() external view returns (uint256) {
        return _window;
    }

    // ================================================================ providers

    /// @dev A bond in [minBond, min(balance, 100 000)]; one call in eight first tries minBond − 1.
    function register(uint256 actorSeed, uint256 bond) external action("register") {
        address a = _pick(actorSeed, _isNone);
        if (a == address(0)) {
            _skip();
            return;
        }
        uint256 minBond = registry.minBond();
        uint256 balance = token.balanceOf(a);
        if (balance < minBond) {
            _skip();
            return;
        }
        if (bond % 8 == 0) {
            vm.prank(a);
            try registry.register(minBond - 1, "ipfs://p", a, _models(), _prices()) {
                _violation("registered below minBond");
                _deposit(a, minBond - 1);
            } catch (bytes memory reason) {
                _expectSelector(reason, IProviderRegistry.BondTooSmall.selector, "bond below minBond");
            }
            if (registry.getProvider(a).status != IProviderRegistry.Status.None) return;
        }
        bond = bound(bond, minBond, _min(balance, 100_000e18));
        vm.prank(a);
        registry.register(bond, "ipfs://p", a, _models(), _prices());
        _deposit(a, bond);
        _done("register");
    }

    function increaseBond(uint256 actorSeed, uint256 amount) external action("increaseBond") {
        address a = _pick(actorSeed, _isActive);
        if (a == address(0)) {
            _skip();
            return;
        }
        if (token.balanceOf(a) == 0) {
            _skip();
            return;
        }
        amount = bound(amount, 1, _min(token.balanceOf(a), 50_000e18));
        vm.prank(a);
        registry.increaseBond(amount);
        _deposit(a, amount);
        _done("increaseBond");
    }

    function requestExit(uint256 actorSeed) external action("requestExit") {
        address a = _pick(actorSeed, _isActive);
        if (a == address(0)) {
            _skip();
            return;
        }
        vm.prank(a);
        registry.requestExit();
        uint256 expected = block.timestamp + _max(registry.unbondingPeriod(), _window);
        if (registry.getProvider(a).unbondingEnds != expected) _violation("unbondingEnds != now + max(U, window)");
        _done("requestExit");
    }

    /// @dev Picks an exiting provider and, by `mode`: (0) tries at once; (1) waits out the unbonding and
    ///      tries; (2) waits out the unbonding, settles its jobs whose window closed, and tries. Each success
    ///      is checked against the job book (invariant g); each refusal must carry the reason the state
    ///      gives (UnbondingNotElapsed first, then JobsStillOpen).
    function withdrawBond(uint256 actorSeed, uint256 mode) external action("withdrawBond") {
        address a = _pick(actorSeed, _isExiting);
        if (a == address(0)) {
            // Nobody is exiting: an Active provider's withdraw must revert InvalidStatus.
            a = _pick(actorSeed, _isActive);
            if (a == address(0)) {
                _skip();
                return;
            }
            vm.prank(a);
            try registry.withdrawBond() {
                _violation("withdrew without requesting exit");
            } catch (bytes memory reason) {
                _expectSelector(reason, IProviderRegistry.InvalidStatus.selector, "withdraw while Active");
            }
            _done("withdrawBond (refused: Active)");
            return;
        }
        mode %= 3;
        uint256 ends = registry.getProvider(a).unbondingEnds;
        if (mode != 0 && block.timestamp < ends) vm.warp(ends + (mode == 2 ? 1 : 0));
        if (mode == 2) _settleClosedJobsOf(a);
        _tryWithdraw(a);
    }

    // ================================================================ coordinator (jobs)

    /// @dev Locks collateral in [1, free bond] of an eligible provider (Active, not jailed, offering the
    ///      model) and books the job's slash-eligible window. One call in eight first tries one more than the
    ///      free bond; one in eight tries to lock on an exiting provider (must revert InvalidStatus).
    function acceptJob(uint256 actorSeed, uint256 collateral) external action("acceptJob") {
        if (collateral % 8 == 1) _checkLockOnExiting(actorSeed);
        address a = _pick(actorSeed, _canTakeJob);
        if (a == address(0)) {
            _skip();
            return;
        }
        uint256 free = registry.freeBond(a);
        if (collateral % 8 == 2) {
            try registry.lockCollateral(a, free + 1) {
                _violation("locked more than the free bond");
            } catch (bytes memory reason) {
                _expectSelector(reason, IProviderRegistry.InsufficientFreeBond.selector, "over-lock");
            }
        }
        if (registry.eligiblePrice(a, modelId) != _prices()[0]) _violation("eligiblePrice != offered price");
        collateral = bound(collateral, 1, free);
        uint256 lockedBefore = registry.getProvider(a).locked;
        registry.lockCollateral(a, collateral);
        if (registry.getProvider(a).locked != lockedBefore + collateral) _violation("lock moved other than asked");
        _jobs.push(Job(a, collateral, block.timestamp + _window, false));
        _done("acceptJob");
    }

    /// @dev Settles an unsettled job: if its window is still open, waits it out first (half the time) or
    ///      settles the oldest closed job instead.
    function settleJob(uint256 jobSeed) external action("settleJob") {
        uint256 n = _jobs.length;
        if (n == 0) {
            _skip();
            return;
        }
        for (uint256 i; i < n; ++i) {
            uint256 id = ((jobSeed % n) + i) % n;
            Job storage j = _jobs[id];
            if (j.settled) continue;
            if (block.timestamp < j.windowEnd) {
                if ((jobSeed >> 8) % 2 == 0) continue;
                vm.warp(j.windowEnd);
            }
            _settle(id);
            _done("settleJob");
            return;
        }
        _skip();
    }

    /// @dev A batch settlement: one release closes every job of one provider whose window has closed (`jobs` =
    ///      their count, amount = their summed collateral). One call in eight first tries to close one job more
    ///      than the provider has open (must revert NoOpenJobs), one in eight zero jobs (ZeroAmount).
    function settleBatch(uint256 actorSeed, uint256 mode) external action("settleBatch") {
        address a = _pick(actorSeed, _hasOpenJobs);
        if (a == address(0)) {
            _skip();
            return;
        }
        IProviderRegistry.ProviderRecord memory p = registry.getProvider(a);
        if (mode % 8 == 1) {
            try registry.releaseCollateral(a, 0, uint256(p.openJobs) + 1) {
                _violation("closed more jobs than open");
            } catch (bytes memory reason) {
                _expectSelector(reason, IProviderRegistry.NoOpenJobs.selector, "release of too many jobs");
            }
        }
        if (mode % 8 == 2) {
            try registry.releaseCollateral(a, 0, 0) {
                _violation("released zero jobs");
            } catch (bytes memory reason) {
                _expectSelector(reason, ICinderErrors.ZeroAmount.selector, "release of zero jobs");
            }
        }
        uint256 count;
        uint256 sum;
        for (uint256 i; i < _jobs.length; ++i) {
            Job storage j = _jobs[i];
            if (j.provider == a && !j.settled && block.timestamp >= j.windowEnd) {
                ++count;
                sum += j.collateral;
            }
        }
        if (count == 0) {
            _skip();
            return;
        }
        p = registry.getProvider(a);
        uint256 released = registry.releaseCollateral(a, sum, count);
        IProviderRegistry.ProviderRecord memory q = registry.getProvider(a);
        if (released != _min(sum, p.locked)) _violation("batch released != min(sum of collateral, locked)");
        if (q.locked != p.locked - released) _violation("batch release mis-booked");
        if (q.openJobs != p.openJobs - count) _violation("batch closed other than `jobs` jobs");
        for (uint256 i; i < _jobs.length; ++i) {
            Job storage j = _jobs[i];
            if (j.provider == a && !j.settled && block.timestamp >= j.windowEnd) j.settled = true;
        }
        _done("settleBatch");
    }

    /// @dev Slashes the provider of a job whose window is open (a fault found by a challenge) — or, with no
    ///      open job, any provider (a late result) — by up to 120 % of its bond; to the challenger or burned.
    function slash(uint256 jobSeed, uint256 amount, bool burn) external action("slash") {
        address a = _openJobProvider(jobSeed);
        if (a == address(0)) a = _pick(jobSeed, _hasBond);
        if (a == address(0)) {
            _skip();
            return;
        }
        IProviderRegistry.ProviderRecord memory p = registry.getProvider(a);
        amount = bound(amount, 1, (p.bond * 12) / 10 + 1);
        address recipient = burn ? address(0) : challenger;
        uint256 supplyBefore = token.totalSupply();
        uint256 challengerBefore = token.balanceOf(challenger);
        uint256 slashed = registry.slash(a, amount, recipient);
        IProviderRegistry.ProviderRecord memory q = registry.getProvider(a);
        if (slashed != _min(amount, p.bond)) _violation("slashed != min(amount, bond)");
        if (q.bond != p.bond - slashed) _violation("bond not cut by the slash");
        if (q.locked != _min(p.locked, q.bond)) _violation("locked not capped at the bond");
        if (burn) {
            if (token.totalSupply() != supplyBefore - slashed) _violation("slash to zero did not burn");
            ghostBurned += slashed;
        } else {
            if (token.balanceOf(challenger) != challengerBefore + slashed) _violation("challenger not paid");
            ghostToChallenger += slashed;
        }
        ghostSlashed[a] += slashed;
        ghostTotalSlashed += slashed;
        _done("slash");
    }

    /// @dev Jails a registered provider until now + [0, 20 days]; a jail never shortens.
    function jail(uint256 actorSeed, uint256 duration) external action("jail") {
        address a = _pick(actorSeed, _isRegistered);
        if (a == address(0)) {
            _skip();
            return;
        }
        uint256 before = registry.getProvider(a).jailedUntil;
        uint256 until = block.timestamp + bound(duration, 0, 20 days);
        registry.jail(a, until);
        if (registry.getProvider(a).jailedUntil != _max(before, until)) _violation("jail shortened or missed");
        _done("jail");
    }

    // ================================================================ governance

    /// @dev Retunes the slashable window (1 hour to 10 days) and the unbonding period (window to 14 days),
    ///      in the order the registry accepts (never window > unbonding in between). One call in eight first
    ///      tries an unbonding one second shorter than the window (must revert ParameterOutOfBounds).
    function retune(uint256 windowSeed, uint256 unbondingSeed) external action("retune") {
        uint256 newWindow = bound(windowSeed, 1 hours, 10 days);
        uint256 newUnbonding = bound(unbondingSeed, newWindow, 14 days);
        if (newUnbonding >= registry.unbondingPeriod()) {
            registry.setUnbondingPeriod(newUnbonding);
            _window = newWindow;
        } else {
            _window = newWindow;
            registry.setUnbondingPeriod(newUnbonding);
        }
        if (unbondingSeed % 8 == 3) {
            try registry.setUnbondingPeriod(_window - 1) {
                _violation("unbonding set below the window");
            } catch (bytes memory reason) {
                _expectSelector(reason, ICinderErrors.ParameterOutOfBounds.selector, "unbonding < window");
            }
        }
        _done("retune");
    }

    // ================================================================ time

    function warp(uint256 secondsAhead) external action("warp") {
        vm.warp(block.timestamp + bound(secondsAhead, 1 hours, 3 days));
        _done("warp");
    }

    // ================================================================ views for the invariants

    function actors() external view returns (address[] memory) {
        return _actors;
    }

    function jobCount() external view returns (uint256) {
        return _jobs.length;
    }

    function job(uint256 id) external view returns (Job memory) {
        return _jobs[id];
    }

    function window() external view returns (uint256) {
        return _window;
    }

    function openJobs(address provider) public view returns (uint256 count) {
        for (uint256 i; i < _jobs.length; ++i) {
            Job storage j = _jobs[i];
            if (j.provider == provider && !j.settled && block.timestamp < j.windowEnd) ++count;
        }
    }

    /// @notice Prints, per action, how often it was called and how often it changed state.
    function logCallSummary() external view {
        _logStats();
        console.log("hours elapsed", (block.timestamp - _START) / 1 hours);
        console.log("jobs", _jobs.length);
        console.log("withdrawals succeeded", withdrawalsSucceeded);
        console.log("withdrawals refused", withdrawalsRefused);
        console.log(
            "withdrawals tried after unbonding with a window open",
            withdrawalsTriedWithOpenWindowAfterUnbonding
        );
        console.log("withdrawals with an open window", withdrawalsWithOpenWindow);
    }

    // ================================================================ internal

    function _tryWithdraw(address a) internal {
        IProviderRegistry.ProviderRecord memory p = registry.getProvider(a);
        uint256 open = openJobs(a);
        if (open != 0 && block.timestamp >= p.unbondingEnds) ++withdrawalsTriedWithOpenWindowAfterUnbonding;
        uint256 before = token.balanceOf(a);
        vm.prank(a);
        try registry.withdrawBond() returns (uint256 amount) {
            if (block.timestamp < p.unbondingEnds) _violation("withdrew before unbonding ended");
            if (p.locked != 0) _violation("withdrew with collateral locked");
            if (amount != p.bond || token.balanceOf(a) != before + amount)
                _violation("withdrew other than the bond");
            IProviderRegistry.ProviderRecord memory q = registry.getProvider(a);
            if (q.status != IProviderRegistry.Status.None || q.bond != 0 || q.locked != 0)
                _violation("record not cleared");
            // A jail outlives the registration (exit + re-register must not shorten it).
            if (p.jailedUntil > block.timestamp && q.jailedUntil != p.jailedUntil)
                _violation("jail dropped on exit");
            if (open != 0) {
                ++withdrawalsWithOpenWindow;
                lastOpenWindowWithdrawal = string.concat(
                    vm.toString(open),
                    " open job(s), bond withdrawn ",
                    vm.toString(amount),
                    " at t=",
                    vm.toString(block.timestamp)
                );
            }
            ghostWithdrawn[a] += amount;
            ++withdrawalsSucceeded;
            _done("withdrawBond");
        } catch (bytes memory reason) {
            if (block.timestamp < p.unbondingEnds) {
                _expectSelector(reason, IProviderRegistry.UnbondingNotElapsed.selector, "early withdraw");
            } else if (p.openJobs != 0) {
                _expectSelector(reason, IProviderRegistry.JobsStillOpen.selector, "withdraw with open jobs");
            } else {
                _violation("withdraw refused with nothing pending");
            }
            ++withdrawalsRefused;
            _done("withdrawBond (refused)");
        }
    }

    function _settleClosedJobsOf(address a) internal {
        for (uint256 i; i < _jobs.length; ++i) {
            Job storage j = _jobs[i];
            if (j.provider == a && !j.settled && block.timestamp >= j.windowEnd) _settle(i);
        }
    }

    function _settle(uint256 id) internal {
        Job storage j = _jobs[id];
        uint256 lockedBefore = registry.getProvider(j.provider).locked;
        uint256 released = registry.releaseCollateral(j.provider, j.collateral, 1);
        if (released != _min(j.collateral, lockedBefore)) _violation("released != min(collateral, locked)");
        if (registry.getProvider(j.provider).locked != lockedBefore - released) _violation("release mis-booked");
        j.settled = true;
    }

    function _checkLockOnExiting(uint256 seed) internal {
        address a = _pick(seed, _isExiting);
        if (a == address(0) || registry.freeBond(a) == 0) return;
        try registry.lockCollateral(a, 1) {
            _violation("locked collateral of an exiting provider");
            _jobs.push(Job(a, 1, block.timestamp + _window, false));
        } catch (bytes memory reason) {
            _expectSelector(reason, IProviderRegistry.InvalidStatus.selector, "lock on exiting");
        }
    }

    function _openJobProvider(uint256 seed) internal view returns (address) {
        uint256 n = _jobs.length;
        for (uint256 i; i < n; ++i) {
            Job storage j = _jobs[((seed % n) + i) % n];
            if (!j.settled && block.timestamp < j.windowEnd && registry.getProvider(j.provider).bond != 0)
                return j.provider;
        }
        return address(0);
    }

    function _deposit(address a, uint256 amount) internal {
        ghostDeposited[a] += amount;
        ghostTotalDeposited += amount;
    }

    function _models() internal view returns (bytes32[] memory ids) {
        ids = new bytes32[](1);
        ids[0] = modelId;
    }

    function _prices() internal pure returns (uint256[] memory prices) {
        prices = new uint256[](1);
        prices[0] = 2e15; // $0.002 per unit
    }

    function _pick(uint256 seed, function(address) view returns (bool) able) internal view returns (address) {
        uint256 n = _actors.length;
        for (uint256 i; i < n; ++i) {
            address a = _actors[((seed % n) + i) % n];
            if (able(a)) return a;
        }
        return address(0);
    }

    function _status(address a) internal view returns (IProviderRegistry.Status) {
        return registry.getProvider(a).status;
    }

    function _isNone(address a) internal view returns (bool) {
        return _status(a) == IProviderRegistry.Status.None;
    }

    function _isActive(address a) internal view returns (bool) {
        return _status(a) == IProviderRegistry.Status.Active;
    }

    function _isExiting(address a) internal view returns (bool) {
        return _status(a) == IProviderRegistry.Status.Exiting;
    }

    function _isRegistered(address a) internal view returns (bool) {
        return _status(a) != IProviderRegistry.Status.None;
    }

    function _hasBond(address a) internal view returns (bool) {
        return registry.getProvider(a).bond != 0;
    }

    function _hasOpenJobs(address a) internal view returns (bool) {
        return registry.getProvider(a).openJobs != 0;
    }

    function _canTakeJob(address a) internal view returns (bool) {
        return registry.isEligible(a, modelId) && registry.freeBond(a) != 0;
    }

    function _max(uint256 x, uint256 y) internal pure returns (uint256) {
        return x > y ? x : y;
    }
}

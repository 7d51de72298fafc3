// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {IERC1155} from "@openzeppelin/contracts/token/ERC1155/IERC1155.sol";
import {ActorBase} from "./ActorBase.sol";
import {SystemGhost, Deployment} from "./SystemGhost.sol";
import {IVoucherMarket} from "../../../../contracts/interfaces/IVoucherMarket.sol";

/// @title VoucherBuyerActor
/// @notice Voucher buyers and holders: buy vouchers of the perpetual class or the expiring, capped one (for
///         themselves or as a gift to a requester; after expiry, past the cap or with a cost limit one unit short,
///         the purchase must fail), pass vouchers on to requesters, and reclaim the principal of expired vouchers
///         (too early: ClassNotExpired) — buyers and requesters alike, so vouchers refunded from a job that ran
///         across the expiry are reclaimed too.
/// @dev Single-call rules: a purchase takes exactly principal + premium (rounded up), escrows the principal and
///      sends the premium to the treasury; a reclaim pays back exactly the principal. USDC comes from the mock's
///      faucet when a buyer runs short (booked as endowment).
contract VoucherBuyerActor is ActorBase {
    struct Purchase {
        address buyer;
        address recipient;
        uint256 classId;
        uint256 vouchers;
        uint256 principal;
        uint256 cost;
        uint256 maxCost;
        bytes4 expected;
    }

    address[] internal _buyers;
    address[] internal _requesters;
    address[] internal _holders; // buyers, then requesters

    constructor(SystemGhost ghost_, Deployment memory d) ActorBase(ghost_, d) {
        _buyers = ghost_.actors().buyers;
        _requesters = ghost_.actors().requesters;
        for (uint256 i; i < _buyers.length; ++i) _holders.push(_buyers[i]);
        for (uint256 i; i < _requesters.length; ++i) _holders.push(_requesters[i]);
    }

    /// @notice A buyer buys 1 to 40 vouchers of class 1 or 1 to 2 000 of class 2, for itself or (half the calls)
    ///         for a requester; one call in eight sets its cost limit one unit below the cost (CostExceeded).
    function buy(uint256 actorSeed, uint256 classSeed, uint256 vouchers, uint256 modeSeed) external action("buy") {
        Purchase memory b;
        b.buyer = _buyers[actorSeed % _buyers.length];
        b.recipient = _mode(modeSeed, 2) == 0 ? b.buyer : _requesters[(modeSeed >> 8) % _requesters.length];
        b.classId = _mode(classSeed, 2) == 0 ? class1 : class2;
        IVoucherMarket.VoucherClass memory c = market.getClass(b.classId);
        b.vouchers = bound(vouchers, 1, b.classId == class1 ? 40 : 2_000);
        b.principal = c.unitPrice * b.vouchers;
        b.cost = b.principal + Math.mulDiv(b.principal, c.mintPremiumBps, BPS, Math.Rounding.Ceil);
        b.maxCost = _mode(modeSeed, 8) == 5 ? b.cost - 1 : b.cost;
        if (usdc.balanceOf(b.buyer) < b.cost) {
            usdc.mint(b.buyer, 100 * b.cost);
            ghost.bookFaucet(b.buyer, 100 * b.cost);
        }
        b.expected = _unlessPaused(address(market), _buyError(c, b));
        _buy(b);
    }

    function _buy(Purchase memory b) internal {
        uint256 escrowed = market.escrowed(b.classId);
        uint256 treasuryUsdc = usdc.balanceOf(treasury);
        uint256 held = market.balanceOf(b.recipient, b.classId);
        (bool ok, bytes memory ret) = _call(
            b.buyer,
            address(market),
            abi.encodeCall(IVoucherMarket.buy, (b.classId, b.vouchers, b.maxCost, b.recipient))
        );
        if (!_outcome(ok, ret, b.expected, "buy")) return;
        ghost.bookBuy(b.buyer, b.recipient, b.classId, b.vouchers, b.cost);
        _eq(abi.decode(ret, (uint256)), b.cost, "buy: cost");
        _eq(market.escrowed(b.classId), escrowed + b.principal, "buy: escrowed principal");
        _eq(usdc.balanceOf(treasury), treasuryUsdc + b.cost - b.principal, "buy: premium to treasury");
        _eq(market.balanceOf(b.recipient, b.classId), held + b.vouchers, "buy: vouchers minted");
    }

    /// @notice A buyer (or requester) passes part of its vouchers of a class to a requester.
    function transfer(
        uint256 fromSeed,
        uint256 toSeed,
        uint256 classSeed,
        uint256 vouchers
    ) external action("transfer") {
        uint256 classId = _mode(classSeed, 2) == 0 ? class1 : class2;
        address from;
        for (uint256 i; i < _holders.length && from == address(0); ++i) {
            address h = _holders[_at(fromSeed, i, _holders.length)];
            if (market.balanceOf(h, classId) != 0) from = h;
        }
        if (from == address(0)) {
            _skip();
            return;
        }
        address to = _requesters[toSeed % _requesters.length];
        if (to == from) to = _requesters[_at(toSeed, 1, _requesters.length)];
        vouchers = bound(vouchers, 1, market.balanceOf(from, classId));
        (bool ok, bytes memory ret) = _call(
            from,
            address(market),
            abi.encodeCall(IERC1155.safeTransferFrom, (from, to, classId, vouchers, ""))
        );
        if (!_outcome(ok, ret, 0, "transfer")) return;
        ghost.bookVoucherTransfer(from, to, classId, vouchers);
    }

    /// @notice A holder reclaims the principal of some expired class-2 vouchers. Before the expiry half the calls
    ///         wait for it (time passes for everyone) and the rest must fail (ClassNotExpired); one call in eight
    ///         tries the perpetual class 1, which never expires.
    function reclaim(uint256 actorSeed, uint256 vouchers, uint256 waitSeed) external action("reclaim") {
        uint256 classId = _mode(waitSeed, 8) == 7 ? class1 : class2;
        address a;
        for (uint256 i; i < _holders.length && a == address(0); ++i) {
            address h = _holders[_at(actorSeed, i, _holders.length)];
            if (market.balanceOf(h, classId) != 0) a = h;
        }
        if (a == address(0)) {
            _skip();
            return;
        }
        uint256 expiry = market.getClass(classId).expiry;
        if (expiry != 0 && _time() < expiry && _mode(waitSeed >> 8, 2) == 0) {
            ghost.advance(expiry + bound(waitSeed >> 16, 0, 6 hours));
        }
        vouchers = bound(vouchers, 1, market.balanceOf(a, classId));
        _reclaim(a, classId, vouchers, expiry != 0 && _time() >= expiry);
    }

    function _reclaim(address a, uint256 classId, uint256 vouchers, bool expired) internal {
        uint256 principal = market.getClass(classId).unitPrice * vouchers;
        uint256 balance = usdc.balanceOf(a);
        (bool ok, bytes memory ret) = _call(
            a,
            address(market),
            abi.encodeCall(IVoucherMarket.reclaim, (classId, vouchers))
        );
        if (!_outcome(ok, ret, expired ? bytes4(0) : IVoucherMarket.ClassNotExpired.selector, "reclaim")) return;
        ghost.bookReclaim(a, classId, vouchers, principal);
        _eq(usdc.balanceOf(a), balance + principal, "reclaim: principal paid back");
    }

    function _buyError(IVoucherMarket.VoucherClass memory c, Purchase memory b) internal view returns (bytes4) {
        if (c.expiry != 0 && _time() >= c.expiry) return IVoucherMarket.ClassExpired.selector;
        if (c.supplyCap != 0 && b.vouchers > c.supplyCap - c.minted)
            return IVoucherMarket.SupplyCapExceeded.selector;
        if (b.maxCost < b.cost) return IVoucherMarket.CostExceeded.selector;
        return 0;
    }
}

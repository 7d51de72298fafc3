// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IERC1155Errors} from "@openzeppelin/contracts/interfaces/draft-IERC6093.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {Test} from "./utils/Test.sol";
import {VoucherMarket} from "../../contracts/VoucherMarket.sol";
import {BurnMintEngine} from "../../contracts/BurnMintEngine.sol";
import {ProtocolToken} from "../../contracts/ProtocolToken.sol";
import {MockStablecoin} from "../../contracts/mocks/MockStablecoin.sol";
import {FeeOnTransferToken} from "../../contracts/mocks/FeeOnTransferToken.sol";
import {ReentrantCallback} from "../../contracts/mocks/ReentrantCallback.sol";
import {IBurnMintEngine} from "../../contracts/interfaces/IBurnMintEngine.sol";
import {IComputeCredit} from "../../contracts/interfaces/IComputeCredit.sol";
import {IStakingVault} from "../../contracts/interfaces/IStakingVault.sol";
import {IPriceOracle} from "../../contracts/interfaces/IPriceOracle.sol";
import {IProtocolToken} from "../../contracts/interfaces/IProtocolToken.sol";
import {IVoucherMarket} from "../../contracts/interfaces/IVoucherMarket.sol";
import {ICinderErrors} from "../../contracts/interfaces/ICinderErrors.sol";

/// @notice Fuzz tests of VoucherMarket's money paths, each one exact: a buy pulls principal + ⌈premium⌉ and
///         escrows the principal; a redemption splits the principal into provider pay + ⌈fee⌉, credited (owed)
///         without moving stablecoin, and reports it to the engine in 18-decimal USD; a withdrawal pays an
///         account exactly what it is owed, once; a job escrow takes ⌈units / unitsPerVoucher⌉ vouchers into
///         custody and returning them restores the holder; a reclaim after expiry returns the principal; caps
///         and fee-on-transfer coins are refused; burning more than held reverts with the documented error.
contract VoucherMarketTest is Test {
    uint256 internal constant START = 1_767_225_600 + 13 hours;
    bytes32 internal constant MODEL = keccak256("llama");

    VoucherMarket internal market;
    BurnMintEngine internal engine;
    address internal treasury = makeAddr("treasury");
    address internal buyer = makeAddr("buyer");
    address internal provider = makeAddr("provider");

    function setUp() public {
        vm.warp(START);
        ProtocolToken token = new ProtocolToken("Cinder", "CNDR", 1e26, 1e27, treasury, address(this));
        engine = new BurnMintEngine(
            IProtocolToken(address(token)),
            IComputeCredit(address(new ReentrantCallback())),
            IStakingVault(address(new ReentrantCallback())),
            IPriceOracle(address(new ReentrantCallback())),
            treasury,
            address(this),
            IBurnMintEngine.Config(25, 1_000_000e18, 100_000e18, 365, 5_000, 10_000e18)
        );
        market = new VoucherMarket("ipfs://{id}", engine, treasury, address(this), 0);
        engine.grantRole(engine.REPORTER_ROLE(), address(market));
        market.grantRole(market.REDEEMER_ROLE(), address(this));
    }

    function testFuzz_buyEscrowsPrincipalAndChargesCeilPremium(
        uint8 decimals,
        uint256 unitPrice,
        uint16 premiumBps,
        uint256 vouchers
    ) public {
        decimals = uint8(bound(decimals, 0, 18));
        unitPrice = bound(unitPrice, 1, 1e30);
        premiumBps = uint16(bound(premiumBps, 0, 1_000));
        vouchers = bound(vouchers, 1, 1e12);
        (MockStablecoin coin, uint256 id) = _class(decimals, unitPrice, premiumBps, 0, 0);
        uint256 principal = unitPrice * vouchers;
        uint256 premium = Math.mulDiv(principal, premiumBps, 10_000, Math.Rounding.Ceil);
        coin.mint(buyer, principal + premium);

        vm.prank(buyer);
        uint256 cost = market.buy(id, vouchers, principal + premium, buyer);

        vm.assertEq(cost, principal + premium, "cost");
        vm.assertEq(coin.balanceOf(buyer), 0, "buyer paid everything");
        vm.assertEq(coin.balanceOf(address(market)), principal, "market holds the principal");
        vm.assertEq(coin.balanceOf(treasury), premium, "treasury holds the premium");
        vm.assertEq(market.escrowed(id), principal, "escrowed");
        vm.assertEq(market.balanceOf(buyer, id), vouchers, "vouchers");
        // Premium never rounds in the buyer's favour: premium × 10 000 ≥ principal × bps.
        vm.assertGe(premium * 10_000, principal * premiumBps, "premium rounds up");
    }

    function testFuzz_redeemSplitsPrincipalExactlyAndReportsUsd(
        uint8 decimals,
        uint256 unitPrice,
        uint256 feeBps,
        uint256 bought,
        uint256 redeemed
    ) public {
        decimals = uint8(bound(decimals, 0, 18));
        unitPrice = bound(unitPrice, 1, 1e24);
        feeBps = bound(feeBps, 0, 1_000);
        bought = bound(bought, 1, 1e9);
        redeemed = bound(redeemed, 1, bought);
        (MockStablecoin coin, uint256 id) = _class(decimals, unitPrice, 0, 0, 0);
        _buy(coin, id, bought);
        market.setProtocolFeeBps(feeBps);
        vm.prank(buyer);
        market.setApprovalForAll(address(this), true);

        uint256 usd = market.redeem(buyer, id, redeemed, provider);

        uint256 principal = unitPrice * redeemed;
        uint256 fee = Math.mulDiv(principal, feeBps, 10_000, Math.Rounding.Ceil);
        vm.assertEq(market.owed(provider, coin), principal - fee, "provider owed principal - fee");
        vm.assertEq(market.owed(treasury, coin), fee, "treasury owed the fee");
        vm.assertEq(coin.balanceOf(provider) + coin.balanceOf(treasury), 0, "nothing pushed");
        vm.assertEq(market.escrowed(id), unitPrice * (bought - redeemed), "escrow left");
        vm.assertEq(coin.balanceOf(address(market)), market.escrowed(id) + principal, "balance = escrow + owed");
        vm.assertEq(usd, principal * 10 ** (18 - decimals), "returned the principal in 18-decimal USD");
        vm.assertEq(
            engine.epochLedger(engine.currentEpoch()).voucherRevenueUsd,
            usd,
            "revenue reported in 18-decimal USD"
        );

        // Anyone withdraws for each account; the money goes to the account, exactly once.
        address stranger = makeAddr("stranger");
        vm.startPrank(stranger);
        if (principal - fee != 0) vm.assertEq(market.withdraw(provider, coin), principal - fee, "provider payout");
        if (fee != 0) vm.assertEq(market.withdraw(treasury, coin), fee, "treasury payout");
        vm.stopPrank();
        vm.assertEq(coin.balanceOf(provider), principal - fee, "provider paid principal - fee");
        vm.assertEq(coin.balanceOf(treasury), fee, "treasury paid the fee");
        vm.assertEq(coin.balanceOf(stranger), 0, "the caller is never paid");
        vm.assertEq(coin.balanceOf(address(market)), market.escrowed(id), "balance = escrow once withdrawn");
        vm.expectRevert(ICinderErrors.ZeroAmount.selector);
        market.withdraw(provider, coin);
    }

    /// @notice A job escrow takes exactly ⌈units / unitsPerVoucher⌉ of the holder's vouchers into the caller's
    ///         custody (escrow and supply unchanged); settling redeems the used part and returns the rest, after
    ///         which the holder has lost exactly the used vouchers and balance == escrow + owed.
    function testFuzz_jobEscrowTakesCeilVouchersAndSettlesExactly(
        uint256 unitsPerVoucher,
        uint256 bought,
        uint256 units,
        uint256 used
    ) public {
        unitsPerVoucher = bound(unitsPerVoucher, 1, 1e9);
        bought = bound(bought, 1, 1e6);
        units = bound(units, 1, bought * unitsPerVoucher);
        MockStablecoin coin = new MockStablecoin("Stable", "USD", 6);
        uint256 id = market.createClass(MODEL, coin, unitsPerVoucher, 1_000_001, 0, 0, 0);
        vm.prank(buyer);
        coin.approve(address(market), type(uint256).max);
        _buy(coin, id, bought);
        vm.prank(buyer);
        market.setApprovalForAll(address(this), true);

        (bytes32 modelId, uint256 perVoucher, uint256 vouchers) = market.escrowForJob(buyer, id, units);
        uint256 expected = (units + unitsPerVoucher - 1) / unitsPerVoucher;
        vm.assertEq(modelId, MODEL, "model");
        vm.assertEq(perVoucher, unitsPerVoucher, "units per voucher");
        vm.assertEq(vouchers, expected, "vouchers = ceil(units / unitsPerVoucher)");
        vm.assertGe(vouchers * unitsPerVoucher, units, "covers every unit");
        vm.assertLt((vouchers - 1) * unitsPerVoucher, units, "not one voucher more");
        vm.assertEq(market.balanceOf(address(this), id), vouchers, "custody");
        vm.assertEq(market.balanceOf(buyer, id), bought - vouchers, "holder debited");
        vm.assertEq(market.totalSupply(id), bought, "custody is not redemption");

        used = bound(used, 0, vouchers);
        if (used != 0) market.redeem(address(this), id, used, provider);
        if (vouchers - used != 0) market.returnEscrow(buyer, id, vouchers - used);
        vm.assertEq(market.balanceOf(address(this), id), 0, "custody emptied");
        vm.assertEq(market.balanceOf(buyer, id), bought - used, "holder lost exactly the used vouchers");
        vm.assertEq(market.escrowed(id), 1_000_001 * (bought - used), "escrow");
        vm.assertEq(
            coin.balanceOf(address(market)),
            market.escrowed(id) + market.owed(provider, coin) + market.owed(treasury, coin),
            "balance = escrow + owed"
        );
    }

    function testFuzz_reclaimOnlyAfterExpiryReturnsPrincipal(
        uint256 unitPrice,
        uint256 lifetime,
        uint256 bought,
        uint256 reclaimed,
        uint256 early
    ) public {
        unitPrice = bound(unitPrice, 1, 1e24);
        lifetime = bound(lifetime, 1, 365 days);
        bought = bound(bought, 1, 1e9);
        reclaimed = bound(reclaimed, 1, bought);
        uint64 expiry = uint64(block.timestamp + lifetime);
        (MockStablecoin coin, uint256 id) = _class(6, unitPrice, 500, expiry, 0);
        _buy(coin, id, bought);

        vm.warp(bound(early, block.timestamp, expiry - 1));
        vm.prank(buyer);
        vm.expectRevert(abi.encodeWithSelector(IVoucherMarket.ClassNotExpired.selector, id, expiry));
        market.reclaim(id, reclaimed);

        vm.warp(expiry);
        vm.prank(buyer);
        market.reclaim(id, reclaimed);
        vm.assertEq(coin.balanceOf(buyer), unitPrice * reclaimed, "principal back, premium kept");
        vm.assertEq(market.escrowed(id), unitPrice * (bought - reclaimed), "escrow left");
        vm.assertEq(coin.balanceOf(address(market)), market.escrowed(id), "balance = escrow");
    }

    function testFuzz_supplyCapNeverExceeded(uint256 cap, uint256 first, uint256 second) public {
        cap = bound(cap, 1, 1e6);
        first = bound(first, 1, cap);
        second = bound(second, cap - first + 1, cap + 1e6);
        (MockStablecoin coin, uint256 id) = _class(6, 1e6, 200, 0, cap);
        _buy(coin, id, first);
        coin.mint(buyer, 1e6 * second * 2);
        vm.prank(buyer);
        vm.expectRevert(
            abi.encodeWithSelector(IVoucherMarket.SupplyCapExceeded.selector, id, second, cap - first)
        );
        market.buy(id, second, type(uint256).max, buyer);
        vm.assertEq(market.getClass(id).minted, first, "minted");
    }

    function testFuzz_feeOnTransferCoinRefused(uint256 feeBps, uint256 vouchers) public {
        feeBps = bound(feeBps, 1, 1_000);
        vouchers = bound(vouchers, 1, 1e6);
        FeeOnTransferToken coin = new FeeOnTransferToken(feeBps);
        uint256 id = market.createClass(MODEL, coin, 1_000, 1e6, 0, 0, 0);
        uint256 principal = 1e6 * vouchers;
        coin.mint(buyer, principal);
        vm.startPrank(buyer);
        coin.approve(address(market), type(uint256).max);
        uint256 received = principal - (principal * feeBps) / 10_000;
        vm.expectRevert(abi.encodeWithSelector(IVoucherMarket.TransferShortfall.selector, principal, received));
        market.buy(id, vouchers, principal, buyer);
        vm.stopPrank();
    }

    /// @notice IVoucherMarket documents `ERC1155InsufficientBalance` for redeeming more than held. When the
    ///         holder owns the class's whole supply, `_escrowed[classId] -= principal` runs before `_burn` and
    ///         underflows first: the call reverts with Panic(0x11) instead.
    function testFuzz_redeemMoreThanHeldRevertsWithDocumentedError(uint256 bought, uint256 extra) public {
        bought = bound(bought, 1, 1e6);
        extra = bound(extra, 1, 1e6);
        (MockStablecoin coin, uint256 id) = _class(6, 1e6, 0, 0, 0);
        _buy(coin, id, bought); // the buyer holds the whole supply
        vm.prank(buyer);
        market.setApprovalForAll(address(this), true);
        vm.expectRevert(
            abi.encodeWithSelector(
                IERC1155Errors.ERC1155InsufficientBalance.selector,
                buyer,
                bought,
                bought + extra,
                id
            )
        );
        market.redeem(buyer, id, bought + extra, provider);
    }

    /// @notice Same for `reclaim` (documented: `ERC1155InsufficientBalance`).
    function testFuzz_reclaimMoreThanHeldRevertsWithDocumentedError(uint256 bought, uint256 extra) public {
        bought = bound(bought, 1, 1e6);
        extra = bound(extra, 1, 1e6);
        (MockStablecoin coin, uint256 id) = _class(6, 1e6, 0, uint64(block.timestamp + 1 days), 0);
        _buy(coin, id, bought);
        vm.warp(block.timestamp + 1 days);
        vm.prank(buyer);
        vm.expectRevert(
            abi.encodeWithSelector(
                IERC1155Errors.ERC1155InsufficientBalance.selector,
                buyer,
                bought,
                bought + extra,
                id
            )
        );
        market.reclaim(id, bought + extra);
    }

    // ---------------------------------------------------------------- helpers

    function _class(
        uint8 decimals,
        uint256 unitPrice,
        uint16 premiumBps,
        uint64 expiry,
        uint256 cap
    ) internal returns (MockStablecoin coin, uint256 id) {
        coin = new MockStablecoin("Stable", "USD", decimals);
        id = market.createClass(MODEL, coin, 1_000, unitPrice, premiumBps, expiry, cap);
        vm.prank(buyer);
        coin.approve(address(market), type(uint256).max);
    }

    function _buy(MockStablecoin coin, uint256 id, uint256 vouchers) internal {
        (uint256 principal, uint256 premium) = market.quoteBuy(id, vouchers);
        coin.mint(buyer, principal + premium);
        vm.prank(buyer);
        market.buy(id, vouchers, principal + premium, buyer);
    }
}

// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {ERC1155} from "@openzeppelin/contracts/token/ERC1155/ERC1155.sol";
import {ERC1155Supply} from "@openzeppelin/contracts/token/ERC1155/extensions/ERC1155Supply.sol";
import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC20Metadata} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Metadata.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {GuardianPausable} from "./governance/GuardianPausable.sol";
import {IBurnMintEngine} from "./interfaces/IBurnMintEngine.sol";
import {IVoucherMarket} from "./interfaces/IVoucherMarket.sol";

/// @title VoucherMarket
/// @notice Fixed-price, stablecoin-denominated compute vouchers as ERC-1155 tokens (freely transferable, so a
///         secondary market can trade them). Principal is escrowed per class and leaves escrow only to pay a
///         provider for a settled job or to refund a holder after expiry; no admin path reaches it.
/// @dev Fee-on-transfer stablecoins are rejected (the escrow must receive exactly what it accounts); a
///      stablecoin that reverts makes the purchase revert with its own error.
contract VoucherMarket is IVoucherMarket, ERC1155Supply, GuardianPausable, ReentrancyGuardTransient {
    using SafeERC20 for IERC20;

    /// @notice Role allowed to redeem vouchers for settled jobs (the JobCoordinator).
    bytes32 public constant REDEEMER_ROLE = keccak256("REDEEMER_ROLE");

    uint256 private constant _BPS = 10_000;
    uint256 private constant _MAX_PREMIUM_BPS = 1_000;
    uint256 private constant _MAX_FEE_BPS = 1_000;

    IBurnMintEngine private immutable _ENGINE;

    address private _treasury;
    uint256 private _protocolFeeBps;
    uint256 private _classCount;
    mapping(uint256 classId => VoucherClass) private _classes;
    mapping(uint256 classId => uint256) private _escrowed;
    mapping(uint256 classId => uint256) private _usdScale; // 10^(18 − stablecoin decimals)
    mapping(address account => mapping(IERC20 stablecoin => uint256)) private _owed;

    /// @param uri_ ERC-1155 metadata URI template.
    /// @param engine_ The BurnMintEngine receiving voucher revenue reports (this contract needs its REPORTER_ROLE).
    /// @param treasury_ Receives premiums and fees.
    /// @param admin DEFAULT_ADMIN_ROLE holder (the timelock).
    /// @param protocolFeeBps_ Fee kept from redemptions (≤ 1 000 bps).
    constructor(
        string memory uri_,
        IBurnMintEngine engine_,
        address treasury_,
        address admin,
        uint256 protocolFeeBps_
    ) ERC1155(uri_) {
        require(address(engine_) != address(0) && treasury_ != address(0) && admin != address(0), ZeroAddress());
        _ENGINE = engine_;
        _treasury = treasury_;
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _setProtocolFeeBps(protocolFeeBps_);
    }

    // ---------------------------------------------------------------- governance

    /// @inheritdoc IVoucherMarket
    function createClass(
        bytes32 modelId,
        IERC20 stablecoin,
        uint256 unitsPerVoucher,
        uint256 unitPrice,
        uint16 mintPremiumBps,
        uint64 expiry,
        uint256 supplyCap
    ) external onlyRole(DEFAULT_ADMIN_ROLE) returns (uint256 classId) {
        require(modelId != bytes32(0), InvalidClass("modelId"));
        require(address(stablecoin) != address(0), InvalidClass("stablecoin"));
        require(unitsPerVoucher != 0, InvalidClass("unitsPerVoucher"));
        require(unitPrice != 0, InvalidClass("unitPrice"));
        require(mintPremiumBps <= _MAX_PREMIUM_BPS, InvalidClass("mintPremiumBps"));
        // Time: a class's optional expiry must lie in the future when it is listed.
        // solhint-disable-next-line not-rely-on-time
        require(expiry == 0 || expiry > block.timestamp, InvalidClass("expiry"));
        uint8 decimals = IERC20Metadata(address(stablecoin)).decimals();
        require(decimals <= 18, InvalidClass("decimals"));

        classId = ++_classCount;
        _classes[classId] = VoucherClass({
            modelId: modelId,
            stablecoin: stablecoin,
            unitsPerVoucher: unitsPerVoucher,
            unitPrice: unitPrice,
            mintPremiumBps: mintPremiumBps,
            expiry: expiry,
            supplyCap: supplyCap,
            minted: 0,
            active: true
        });
        _usdScale[classId] = 10 ** (18 - decimals);
        emit ClassCreated(
            classId,
            modelId,
            address(stablecoin),
            unitsPerVoucher,
            unitPrice,
            mintPremiumBps,
            expiry,
            supplyCap
        );
    }

    /// @inheritdoc IVoucherMarket
    function setClassActive(uint256 classId, bool active) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _existing(classId).active = active;
        emit ClassActivationChanged(classId, active);
    }

    /// @inheritdoc IVoucherMarket
    function setProtocolFeeBps(uint256 bps) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _setProtocolFeeBps(bps);
    }

    /// @inheritdoc IVoucherMarket
    function setTreasury(address newTreasury) external onlyRole(DEFAULT_ADMIN_ROLE) {
        require(newTreasury != address(0), ZeroAddress());
        emit TreasuryUpdated(_treasury, newTreasury);
        _treasury = newTreasury;
    }

    // ---------------------------------------------------------------- users

    /// @inheritdoc IVoucherMarket
    function buy(
        uint256 classId,
        uint256 vouchers,
        uint256 maxCost,
        address recipient
    ) external nonReentrant whenNotPaused returns (uint256 cost) {
        require(vouchers != 0, ZeroAmount());
        require(recipient != address(0), ZeroAddress());
        VoucherClass storage c = _existing(classId);
        require(c.active, ClassInactive(classId));
        // Time: vouchers of an expired class are no longer sold.
        // solhint-disable-next-line not-rely-on-time
        require(c.expiry == 0 || block.timestamp < c.expiry, ClassExpired(classId, c.expiry));
        if (c.supplyCap != 0) {
            uint256 remaining = c.supplyCap - c.minted;
            require(vouchers <= remaining, SupplyCapExceeded(classId, vouchers, remaining));
        }
        (uint256 principal, uint256 premium) = _quote(c, vouchers);
        cost = principal + premium;
        require(cost <= maxCost, CostExceeded(cost, maxCost));

        c.minted += vouchers;
        _escrowed[classId] += principal;
        emit VouchersBought(classId, msg.sender, recipient, vouchers, principal, premium);

        _pullExact(c.stablecoin, msg.sender, principal);
        if (premium != 0) c.stablecoin.safeTransferFrom(msg.sender, _treasury, premium);
        // Last: minting calls onERC1155Received on a contract recipient.
        _mint(recipient, classId, vouchers, "");
    }

    /// @inheritdoc IVoucherMarket
    function escrowForJob(
        address holder,
        uint256 classId,
        uint256 units
    )
        external
        nonReentrant
        onlyRole(REDEEMER_ROLE)
        returns (bytes32 modelId, uint256 unitsPerVoucher, uint256 vouchers)
    {
        require(units != 0, ZeroAmount());
        require(isApprovedForAll(holder, msg.sender), NotApproved(holder, msg.sender));
        VoucherClass storage c = _existing(classId);
        modelId = c.modelId;
        unitsPerVoucher = c.unitsPerVoucher;
        vouchers = Math.ceilDiv(units, unitsPerVoucher);
        // `_update`, not a safe transfer: the coordinator holds vouchers in custody and never needs a hook.
        _update(holder, msg.sender, _asSingletonArray(classId), _asSingletonArray(vouchers));
    }

    /// @inheritdoc IVoucherMarket
    function returnEscrow(address holder, uint256 classId, uint256 vouchers) external onlyRole(REDEEMER_ROLE) {
        require(holder != address(0), ZeroAddress());
        // No acceptance hook: the holder held these vouchers before, and a refund must never be refusable (a
        // reverting hook would block the job's settlement).
        _update(msg.sender, holder, _asSingletonArray(classId), _asSingletonArray(vouchers));
    }

    /// @inheritdoc IVoucherMarket
    function redeem(
        address holder,
        uint256 classId,
        uint256 vouchers,
        address provider
    ) external nonReentrant onlyRole(REDEEMER_ROLE) returns (uint256 usd) {
        require(vouchers != 0, ZeroAmount());
        require(provider != address(0), ZeroAddress());
        require(holder == msg.sender || isApprovedForAll(holder, msg.sender), NotApproved(holder, msg.sender));
        VoucherClass storage c = _existing(classId);
        uint256 principal = c.unitPrice * vouchers;
        // The fee rounds up (protocol's favour); paid + fee == principal exactly, so escrow never leaks.
        uint256 fee = Math.mulDiv(principal, _protocolFeeBps, _BPS, Math.Rounding.Ceil);
        uint256 paid = principal - fee;

        // Burn first: an over-large amount fails with ERC1155InsufficientBalance, not an escrow underflow.
        _burn(holder, classId, vouchers);
        _escrowed[classId] -= principal;
        // Credited, not pushed: a provider or treasury the stablecoin refuses (a blacklist) cannot block the
        // settlement of the job, and with it the requester's refund.
        IERC20 stablecoin = c.stablecoin;
        if (paid != 0) _owed[provider][stablecoin] += paid;
        if (fee != 0) _owed[_treasury][stablecoin] += fee;
        emit VouchersRedeemed(classId, holder, provider, vouchers, paid, fee);

        usd = principal * _usdScale[classId];
        _ENGINE.recordVoucherRevenue(usd);
    }

    /// @inheritdoc IVoucherMarket
    function withdraw(address account, IERC20 stablecoin) external nonReentrant returns (uint256 amount) {
        amount = _owed[account][stablecoin];
        require(amount != 0, ZeroAmount());
        _owed[account][stablecoin] = 0;
        emit Withdrawn(account, address(stablecoin), amount);
        stablecoin.safeTransfer(account, amount);
    }

    /// @inheritdoc IVoucherMarket
    function reclaim(uint256 classId, uint256 vouchers) external nonReentrant {
        require(vouchers != 0, ZeroAmount());
        VoucherClass storage c = _existing(classId);
        // Time: holders reclaim the principal of an expired class's vouchers.
        // solhint-disable-next-line not-rely-on-time
        require(c.expiry != 0 && block.timestamp >= c.expiry, ClassNotExpired(classId, c.expiry));
        uint256 principal = c.unitPrice * vouchers;

        _burn(msg.sender, classId, vouchers);
        _escrowed[classId] -= principal;
        emit VouchersReclaimed(classId, msg.sender, vouchers, principal);

        c.stablecoin.safeTransfer(msg.sender, principal);
    }

    // ---------------------------------------------------------------- views

    /// @inheritdoc IVoucherMarket
    function getClass(uint256 classId) external view returns (VoucherClass memory) {
        return _existing(classId);
    }

    /// @inheritdoc IVoucherMarket
    function classCount() external view returns (uint256) {
        return _classCount;
    }

    /// @inheritdoc IVoucherMarket
    function escrowed(uint256 classId) external view returns (uint256) {
        return _escrowed[classId];
    }

    /// @inheritdoc IVoucherMarket
    function quoteBuy(
        uint256 classId,
        uint256 vouchers
    ) external view returns (uint256 principal, uint256 premium) {
        return _quote(_existing(classId), vouchers);
    }

    /// @inheritdoc IVoucherMarket
    function owed(address account, IERC20 stablecoin) external view returns (uint256) {
        return _owed[account][stablecoin];
    }

    /// @inheritdoc IVoucherMarket
    function protocolFeeBps() external view returns (uint256) {
        return _protocolFeeBps;
    }

    /// @inheritdoc IVoucherMarket
    function treasury() external view returns (address) {
        return _treasury;
    }

    /// @notice The BurnMintEngine voucher revenue is reported to.
    function engine() external view returns (IBurnMintEngine) {
        return _ENGINE;
    }

    /// @inheritdoc ERC1155
    function supportsInterface(bytes4 interfaceId) public view override(ERC1155, AccessControl) returns (bool) {
        return super.supportsInterface(interfaceId);
    }

    // ---------------------------------------------------------------- internal

    function _asSingletonArray(uint256 element) private pure returns (uint256[] memory array) {
        array = new uint256[](1);
        array[0] = element;
    }

    function _existing(uint256 classId) private view returns (VoucherClass storage c) {
        c = _classes[classId];
        require(c.unitPrice != 0, UnknownClass(classId));
    }

    /// @dev Principal is exact; the premium rounds up.
    function _quote(VoucherClass storage c, uint256 vouchers) private view returns (uint256, uint256) {
        uint256 principal = c.unitPrice * vouchers;
        return (principal, Math.mulDiv(principal, c.mintPremiumBps, _BPS, Math.Rounding.Ceil));
    }

    /// @dev Pulls exactly `amount`, or reverts: the escrow must hold what it accounts.
    function _pullExact(IERC20 stablecoin, address from, uint256 amount) private {
        uint256 before = stablecoin.balanceOf(address(this));
        stablecoin.safeTransferFrom(from, address(this), amount);
        uint256 received = stablecoin.balanceOf(address(this)) - before;
        require(received == amount, TransferShortfall(amount, received));
    }

    function _setProtocolFeeBps(uint256 bps) private {
        require(bps <= _MAX_FEE_BPS, ParameterOutOfBounds("protocolFeeBps", bps, 0, _MAX_FEE_BPS));
        emit ParameterUpdated("protocolFeeBps", _protocolFeeBps, bps);
        _protocolFeeBps = bps;
    }
}

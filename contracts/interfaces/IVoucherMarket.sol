// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {ICinderErrors} from "./ICinderErrors.sol";

/// @title IVoucherMarket
/// @notice Fixed-price compute vouchers: ERC-1155 claims on inference, priced in a stablecoin, no oracle.
///         One voucher (one ERC-1155 unit) of a class is worth `unitsPerVoucher` model units (e.g. 1 000 output
///         tokens). Buying pays `unitPrice` per voucher into a per-class escrow plus a mint premium to the
///         treasury; redemption (a settled job) burns vouchers and pays the escrowed principal to the
///         provider minus the protocol fee; after expiry holders reclaim the principal.
/// @dev Escrow invariants: `escrowed(classId) == unitPrice × totalSupply(classId)` (vouchers in a job's custody
///      included), and the market's stablecoin balance == Σ escrowed + Σ owed, always.
interface IVoucherMarket is ICinderErrors {
    /// @notice A voucher class. Everything but `active` is fixed at creation: buyers rely on it.
    struct VoucherClass {
        bytes32 modelId;
        IERC20 stablecoin;
        uint256 unitsPerVoucher; // model units one voucher pays for
        uint256 unitPrice; // stablecoin (its own decimals) per voucher
        uint16 mintPremiumBps; // ≤ 1 000
        uint64 expiry; // 0: never; buying stops and reclaiming starts at `expiry`
        uint256 supplyCap; // most vouchers ever minted (0: no cap)
        uint256 minted; // vouchers minted so far
        bool active;
    }

    /// @notice Thrown when a class id does not exist.
    error UnknownClass(uint256 classId);
    /// @notice Thrown when creating a class with an invalid field.
    error InvalidClass(bytes32 field);
    /// @notice Thrown by `buy` on an inactive class.
    error ClassInactive(uint256 classId);
    /// @notice Thrown by `buy` at or after expiry.
    error ClassExpired(uint256 classId, uint256 expiry);
    /// @notice Thrown by `reclaim` before expiry (or for a class that never expires).
    error ClassNotExpired(uint256 classId, uint256 expiry);
    /// @notice Thrown by `buy` beyond the class's supply cap.
    error SupplyCapExceeded(uint256 classId, uint256 requested, uint256 remaining);
    /// @notice Thrown by `buy` when the cost exceeds the buyer's `maxCost`.
    error CostExceeded(uint256 cost, uint256 maxCost);
    /// @notice Thrown when the stablecoin delivered less than the amount transferred (fee-on-transfer tokens
    ///         are not supported).
    error TransferShortfall(uint256 expected, uint256 received);
    /// @notice Thrown by `redeem` when the caller may not move the holder's vouchers.
    error NotApproved(address holder, address operator);

    /// @notice Emitted when governance creates a class.
    event ClassCreated(
        uint256 indexed classId,
        bytes32 indexed modelId,
        address indexed stablecoin,
        uint256 unitsPerVoucher,
        uint256 unitPrice,
        uint16 mintPremiumBps,
        uint64 expiry,
        uint256 supplyCap
    );
    /// @notice Emitted when governance (de)activates a class.
    event ClassActivationChanged(uint256 indexed classId, bool active);
    /// @notice Emitted when `buyer` buys `vouchers` for `recipient`: `principal` escrowed, `premium` to treasury.
    event VouchersBought(
        uint256 indexed classId,
        address indexed buyer,
        address indexed recipient,
        uint256 vouchers,
        uint256 principal,
        uint256 premium
    );
    /// @notice Emitted when vouchers are redeemed for a settled job: `paid` to the provider, `fee` to treasury.
    event VouchersRedeemed(
        uint256 indexed classId,
        address indexed holder,
        address indexed provider,
        uint256 vouchers,
        uint256 paid,
        uint256 fee
    );
    /// @notice Emitted when `account`'s credited stablecoin is paid out.
    event Withdrawn(address indexed account, address indexed stablecoin, uint256 amount);
    /// @notice Emitted when a holder reclaims the principal of expired vouchers.
    event VouchersReclaimed(uint256 indexed classId, address indexed holder, uint256 vouchers, uint256 principal);
    /// @notice Emitted when a numeric parameter changes.
    event ParameterUpdated(bytes32 indexed parameter, uint256 previous, uint256 current);
    /// @notice Emitted when the treasury changes.
    event TreasuryUpdated(address previous, address current);

    /// @notice Creates a voucher class (active). Returns its id (sequential from 1).
    /// @dev Only DEFAULT_ADMIN_ROLE (the timelock). Reverts with {InvalidClass} for a zero model, stablecoin,
    ///      units or price, a premium above 1 000 bps, an expiry not in the future, or a stablecoin with more
    ///      than 18 decimals.
    function createClass(
        bytes32 modelId,
        IERC20 stablecoin,
        uint256 unitsPerVoucher,
        uint256 unitPrice,
        uint16 mintPremiumBps,
        uint64 expiry,
        uint256 supplyCap
    ) external returns (uint256 classId);

    /// @notice Activates or deactivates buying of a class (redemption and reclaim are never blocked).
    /// @dev Only DEFAULT_ADMIN_ROLE. Reverts with {UnknownClass}.
    function setClassActive(uint256 classId, bool active) external;

    /// @notice Buys `vouchers` of `classId` for `recipient`: pulls `unitPrice × vouchers` into escrow plus the
    ///         premium (rounded up) to the treasury, at most `maxCost` in total.
    /// @dev Reverts with {ZeroAmount}, {ZeroAddress}, {UnknownClass}, {ClassInactive}, {ClassExpired},
    ///      {SupplyCapExceeded}, {CostExceeded}, {TransferShortfall}, the stablecoin's own error, or
    ///      `EnforcedPause`.
    function buy(
        uint256 classId,
        uint256 vouchers,
        uint256 maxCost,
        address recipient
    ) external returns (uint256 cost);

    /// @notice Takes `holder`'s vouchers for a job of `units` model units into the caller's custody: enough whole
    ///         vouchers to pay for every unit (rounded up). Returns the class's model, its units per voucher and
    ///         the vouchers taken.
    /// @dev Only REDEEMER_ROLE (the JobCoordinator), for a holder that approved it (`setApprovalForAll`). Moves
    ///      without an acceptance hook. Reverts with {ZeroAmount}, {NotApproved}, {UnknownClass} or
    ///      `ERC1155InsufficientBalance`.
    function escrowForJob(
        address holder,
        uint256 classId,
        uint256 units
    ) external returns (bytes32 modelId, uint256 unitsPerVoucher, uint256 vouchers);

    /// @notice Returns `vouchers` from the caller's custody to `holder` (the unused part of a job's escrow).
    /// @dev Only REDEEMER_ROLE. Never calls an acceptance hook, so a refund cannot be refused. Reverts with
    ///      {ZeroAddress} or `ERC1155InsufficientBalance`.
    function returnEscrow(address holder, uint256 classId, uint256 vouchers) external;

    /// @notice Burns `vouchers` of `holder` (held by or approved to the caller) and credits their escrowed
    ///         principal to `provider`, minus `protocolFeeBps` (rounded up) credited to the treasury; both withdraw
    ///         with {withdraw}. Reports the principal to the engine as organic revenue and returns it in USD
    ///         (18 decimals).
    /// @dev Only REDEEMER_ROLE (the JobCoordinator). Reverts with {ZeroAmount}, {ZeroAddress}, {UnknownClass},
    ///      {NotApproved} or `ERC1155InsufficientBalance`.
    function redeem(
        address holder,
        uint256 classId,
        uint256 vouchers,
        address provider
    ) external returns (uint256 usd);

    /// @notice Pays `account` everything credited to it in `stablecoin` (provider earnings, treasury fees).
    ///         Anyone may trigger it; the money only ever goes to `account`. Never paused.
    /// @dev Reverts with {ZeroAmount} when nothing is owed, or the stablecoin's own error.
    function withdraw(address account, IERC20 stablecoin) external returns (uint256 amount);

    /// @notice After expiry, burns the caller's `vouchers` and returns their principal (the premium is not
    ///         refunded).
    /// @dev Reverts with {ZeroAmount}, {UnknownClass}, {ClassNotExpired} or `ERC1155InsufficientBalance`.
    function reclaim(uint256 classId, uint256 vouchers) external;

    /// @notice Sets the fee kept from redemptions. Only DEFAULT_ADMIN_ROLE; bounds 0–1 000 bps.
    function setProtocolFeeBps(uint256 bps) external;

    /// @notice Sets the treasury. Only DEFAULT_ADMIN_ROLE.
    function setTreasury(address treasury) external;

    /// @notice The class `classId`. Reverts with {UnknownClass}.
    function getClass(uint256 classId) external view returns (VoucherClass memory);

    /// @notice Number of classes created.
    function classCount() external view returns (uint256);

    /// @notice Stablecoin held in escrow for `classId`.
    function escrowed(uint256 classId) external view returns (uint256);

    /// @notice Principal and premium of buying `vouchers` of `classId` now.
    function quoteBuy(
        uint256 classId,
        uint256 vouchers
    ) external view returns (uint256 principal, uint256 premium);

    /// @notice Stablecoin credited to `account` (redeemed principal, fees) and not yet withdrawn.
    function owed(address account, IERC20 stablecoin) external view returns (uint256);

    /// @notice Fee kept from redemptions, in bps.
    function protocolFeeBps() external view returns (uint256);

    /// @notice The treasury.
    function treasury() external view returns (address);
}

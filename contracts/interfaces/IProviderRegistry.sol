// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IModelRegistry} from "./IModelRegistry.sol";
import {IProtocolToken} from "./IProtocolToken.sol";
import {ICinderErrors} from "./ICinderErrors.sol";

/// @title IProviderRegistry
/// @notice Inference providers and their bonds. A provider registers with a bond in the protocol token, an
///         attestation signer and per-model USD prices; exits through an unbonding period never shorter than
///         the slashable window; and can be slashed (locked and unbonding stake alike) and jailed only by the
///         settlement modules.
interface IProviderRegistry is ICinderErrors {
    /// @notice A provider's lifecycle: None → Active → Exiting → (withdrawn) None.
    enum Status {
        None,
        Active,
        Exiting
    }

    /// @notice A provider's record.
    struct ProviderRecord {
        Status status;
        address signer; // EIP-712 attestation key
        uint64 registeredAt;
        uint64 unbondingEnds; // set by requestExit
        uint64 jailedUntil;
        uint32 openJobs; // accepted jobs whose collateral is not yet released
        uint256 bond; // protocol tokens held, locked part included
        uint256 locked; // collateral locked for accepted jobs, ≤ bond
        string metadataURI;
    }

    /// @notice Thrown when a registration bond is below `minBond`.
    error BondTooSmall(uint256 bond, uint256 minBond);
    /// @notice Thrown by `register` for an address already registered (or exiting).
    error AlreadyRegistered(address provider);
    /// @notice Thrown when the caller or target is not in the status the call needs.
    error InvalidStatus(address provider, Status status);
    /// @notice Thrown when the model and price arrays differ in length, or exceed the per-provider limit.
    error InvalidOffer(uint256 models, uint256 prices);
    /// @notice Thrown when an offer names a model that is not active in the ModelRegistry.
    error ModelNotActive(bytes32 modelId);
    /// @notice Thrown by `withdrawBond` before the unbonding period ends.
    error UnbondingNotElapsed(address provider, uint256 unbondingEnds, uint256 currentTime);
    /// @notice Thrown by `withdrawBond` while any accepted job is not yet settled (its collateral not released).
    error JobsStillOpen(address provider, uint256 openJobs);
    /// @notice Thrown by `releaseCollateral` for a provider with no open job.
    error NoOpenJobs(address provider);
    /// @notice Thrown when locking more than the provider's free bond.
    error InsufficientFreeBond(address provider, uint256 free, uint256 needed);

    /// @notice Emitted when a provider registers.
    event ProviderRegistered(address indexed provider, uint256 bond, address signer, string metadataURI);
    /// @notice Emitted when a provider adds to its bond.
    event BondIncreased(address indexed provider, uint256 amount, uint256 bond);
    /// @notice Emitted when a provider sets (price > 0) or withdraws (price 0) its offer for a model.
    event OfferUpdated(address indexed provider, bytes32 indexed modelId, uint256 usdPricePerUnit);
    /// @notice Emitted when a provider rotates its attestation signer.
    event SignerUpdated(address indexed provider, address previous, address current);
    /// @notice Emitted when a provider changes its metadata URI.
    event MetadataUpdated(address indexed provider, string metadataURI);
    /// @notice Emitted when a provider starts unbonding.
    event ExitRequested(address indexed provider, uint256 unbondingEnds);
    /// @notice Emitted when an exited provider takes its bond back.
    event BondWithdrawn(address indexed provider, uint256 amount);
    /// @notice Emitted when collateral is locked for a job.
    event CollateralLocked(address indexed provider, uint256 amount, uint256 locked);
    /// @notice Emitted when collateral is released.
    event CollateralReleased(address indexed provider, uint256 amount, uint256 locked);
    /// @notice Emitted when a provider is slashed; `recipient` zero means burned.
    event Slashed(address indexed provider, address indexed recipient, uint256 amount, uint256 bond);
    /// @notice Emitted when a provider is jailed.
    event Jailed(address indexed provider, uint256 until);
    /// @notice Emitted when a numeric parameter changes.
    event ParameterUpdated(bytes32 indexed parameter, uint256 previous, uint256 current);
    /// @notice Emitted when the slashing-window source (the JobCoordinator) changes.
    event SlashingWindowSourceUpdated(address previous, address current);

    /// @notice Registers the caller with `bond` protocol tokens (pulled; allowance required), an attestation
    ///         signer, a metadata URI and USD prices (18 decimals, per unit) for active models.
    /// @dev Reverts with {BondTooSmall}, {ZeroAddress}, {AlreadyRegistered}, {InvalidOffer}, {ModelNotActive},
    ///      or `EnforcedPause`.
    function register(
        uint256 bond,
        string calldata metadataURI,
        address attestationSigner,
        bytes32[] calldata modelIds,
        uint256[] calldata usdPricePerUnit
    ) external;

    /// @notice Adds `amount` to the caller's bond. Only an Active provider.
    /// @dev Reverts with {ZeroAmount}, {InvalidStatus} or `EnforcedPause`.
    function increaseBond(uint256 amount) external;

    /// @notice Sets the caller's price per model (0 withdraws the offer). Only an Active provider.
    /// @dev Reverts with {InvalidStatus}, {InvalidOffer} or {ModelNotActive} (for a price > 0).
    function updateOffer(bytes32[] calldata modelIds, uint256[] calldata usdPricePerUnit) external;

    /// @notice Rotates the caller's attestation signer. Only an Active provider.
    /// @dev Reverts with {ZeroAddress} or {InvalidStatus}.
    function setSigner(address newSigner) external;

    /// @notice Changes the caller's metadata URI (endpoint, description). Only an Active provider.
    function setMetadataURI(string calldata metadataURI) external;

    /// @notice Starts unbonding: the caller takes no new jobs; its bond can be withdrawn after
    ///         max(unbondingPeriod, slashableWindow) once no collateral is locked. Slashing still reaches it.
    /// @dev Reverts with {InvalidStatus}.
    function requestExit() external;

    /// @notice Pays an exited provider its remaining bond and clears its record.
    /// @dev Reverts with {InvalidStatus}, {UnbondingNotElapsed} or {JobsStillOpen}. Never paused.
    function withdrawBond() external returns (uint256 amount);

    /// @notice Locks `amount` of `provider`'s free bond as collateral for one job, opening it: the provider cannot
    ///         withdraw its bond until every opened job is released.
    /// @dev Only COORDINATOR_ROLE. Reverts with {ZeroAmount}, {InvalidStatus} (not Active) or
    ///      {InsufficientFreeBond}.
    function lockCollateral(address provider, uint256 amount) external;

    /// @notice Closes `jobs` of `provider`'s open jobs, releasing up to `amount` of locked collateral (less when a
    ///         slash already reduced it). Each `lockCollateral` is matched by exactly one job closed here, when the
    ///         job can no longer lead to a slash; a batch settlement closes several at once. Returns what was
    ///         released.
    /// @dev Only COORDINATOR_ROLE. Reverts with {ZeroAmount} (no job) or {NoOpenJobs} (fewer open than `jobs`).
    function releaseCollateral(address provider, uint256 amount, uint256 jobs) external returns (uint256 released);

    /// @notice Takes up to `amount` of `provider`'s bond (never more than the bond; locked and unbonding
    ///         stake alike) and sends it to `recipient`, or burns it when `recipient` is zero.
    /// @dev Only SLASHER_ROLE (JobCoordinator, DisputeModule). Returns what was slashed.
    function slash(address provider, uint256 amount, address recipient) external returns (uint256 slashed);

    /// @notice Bars `provider` from new jobs until `until` (never shortens an existing jail; exiting and
    ///         registering again keeps it).
    /// @dev Only SLASHER_ROLE.
    function jail(address provider, uint256 until) external;

    /// @notice Sets the minimum registration bond. Only DEFAULT_ADMIN_ROLE; bounds (0, 1e27].
    function setMinBond(uint256 minBond) external;

    /// @notice Sets the unbonding period. Only DEFAULT_ADMIN_ROLE; bounds [slashableWindow, 365 days].
    function setUnbondingPeriod(uint256 period) external;

    /// @notice Sets the contract whose `slashableWindow()` bounds unbonding (the JobCoordinator).
    /// @dev Only DEFAULT_ADMIN_ROLE. Reverts with {ParameterOutOfBounds} when the current unbonding period is
    ///      shorter than the new source's window.
    function setSlashingWindowSource(address source) external;

    /// @notice `provider`'s record.
    function getProvider(address provider) external view returns (ProviderRecord memory);

    /// @notice `provider`'s USD price per unit of `modelId` (0: not offered).
    function priceOf(address provider, bytes32 modelId) external view returns (uint256);

    /// @notice The models `provider` currently offers.
    function offeredModels(address provider) external view returns (bytes32[] memory);

    /// @notice Bond not locked as collateral.
    function freeBond(address provider) external view returns (uint256);

    /// @notice Whether `provider` can take a new job for `modelId` now: Active, not jailed, bond at least
    ///         `minBond` (a slash below it benches the provider until it tops up), offering the model, and the
    ///         model active.
    function isEligible(address provider, bytes32 modelId) external view returns (bool);

    /// @notice `provider`'s price per unit of `modelId` when it is eligible for it (see {isEligible}), else 0.
    function eligiblePrice(address provider, bytes32 modelId) external view returns (uint256);

    /// @notice `provider`'s attestation signer (zero when not registered).
    function signerOf(address provider) external view returns (address);

    /// @notice The slashable window currently enforced: 0 before a source is set; capped at 365 days, and
    ///         365 days when the source cannot answer (so a broken source never blocks exits).
    function slashableWindow() external view returns (uint256);

    /// @notice Minimum registration bond.
    function minBond() external view returns (uint256);

    /// @notice Configured unbonding period.
    function unbondingPeriod() external view returns (uint256);

    /// @notice The bond token.
    function token() external view returns (IProtocolToken);

    /// @notice The ModelRegistry offers are checked against.
    function models() external view returns (IModelRegistry);
}

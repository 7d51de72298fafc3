// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {GuardianPausable} from "./governance/GuardianPausable.sol";
import {IModelRegistry} from "./interfaces/IModelRegistry.sol";
import {IProtocolToken} from "./interfaces/IProtocolToken.sol";
import {IProviderRegistry} from "./interfaces/IProviderRegistry.sol";
import {ISlashingWindow} from "./interfaces/ISlashingWindow.sol";

/// @title ProviderRegistry
/// @notice Provider bonds, offers and exits. Bonds are protocol tokens held here; the settlement modules lock
///         part of a bond per job, slash it for faults (to a recipient or burned) and jail providers.
/// @dev Exit safety: `withdrawBond` needs both the unbonding period (≥ the coordinator's slashable window,
///      checked when set and again at exit) and no open job (every `lockCollateral` matched by a
///      `releaseCollateral`), so a provider cannot leave while any of its results can still be challenged.
///      Open jobs are counted, not inferred from locked collateral, which a slash may cut below what the jobs
///      were given. Slashes never exceed the bond and reach Active and Exiting providers alike.
contract ProviderRegistry is IProviderRegistry, GuardianPausable, ReentrancyGuardTransient {
    using SafeERC20 for IERC20;
    using SafeCast for uint256;

    /// @notice Role allowed to lock and release job collateral (the JobCoordinator).
    bytes32 public constant COORDINATOR_ROLE = keccak256("COORDINATOR_ROLE");
    /// @notice Role allowed to slash and jail (the JobCoordinator for late results, the DisputeModule).
    bytes32 public constant SLASHER_ROLE = keccak256("SLASHER_ROLE");

    /// @notice The most models one provider may offer at once (bounds the gas of clearing a record).
    uint256 public constant MAX_MODELS = 32;

    uint256 private constant _MAX_MIN_BOND = 1e27;
    uint256 private constant _MAX_UNBONDING = 365 days;
    uint256 private constant _WINDOW_READ_GAS = 50_000;

    IProtocolToken private immutable _TOKEN;
    IModelRegistry private immutable _MODELS;

    uint256 private _minBond;
    uint256 private _unbondingPeriod;
    ISlashingWindow private _windowSource;

    mapping(address provider => ProviderRecord) private _providers;
    mapping(address provider => mapping(bytes32 modelId => uint256)) private _prices;
    mapping(address provider => bytes32[]) private _offered;

    /// @param token_ The protocol token (bonds).
    /// @param models_ The ModelRegistry.
    /// @param admin DEFAULT_ADMIN_ROLE holder (the timelock).
    /// @param minBond_ Minimum registration bond.
    /// @param unbondingPeriod_ Unbonding period (default 7 days).
    constructor(
        IProtocolToken token_,
        IModelRegistry models_,
        address admin,
        uint256 minBond_,
        uint256 unbondingPeriod_
    ) {
        require(
            address(token_) != address(0) && address(models_) != address(0) && admin != address(0),
            ZeroAddress()
        );
        _TOKEN = token_;
        _MODELS = models_;
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _setMinBond(minBond_);
        _setUnbondingPeriod(unbondingPeriod_);
    }

    // ---------------------------------------------------------------- providers

    /// @inheritdoc IProviderRegistry
    function register(
        uint256 bond,
        string calldata metadataURI,
        address attestationSigner,
        bytes32[] calldata modelIds,
        uint256[] calldata usdPricePerUnit
    ) external nonReentrant whenNotPaused {
        require(bond >= _minBond, BondTooSmall(bond, _minBond));
        require(attestationSigner != address(0), ZeroAddress());
        ProviderRecord storage p = _providers[msg.sender];
        require(p.status == Status.None, AlreadyRegistered(msg.sender));

        p.status = Status.Active;
        p.signer = attestationSigner;
        // Time: record-keeping only; no decision reads this timestamp.
        // solhint-disable-next-line not-rely-on-time
        p.registeredAt = uint64(block.timestamp);
        p.bond = bond;
        p.metadataURI = metadataURI;
        emit ProviderRegistered(msg.sender, bond, attestationSigner, metadataURI);
        _updateOffer(msg.sender, modelIds, usdPricePerUnit);

        IERC20(address(_TOKEN)).safeTransferFrom(msg.sender, address(this), bond);
    }

    /// @inheritdoc IProviderRegistry
    function increaseBond(uint256 amount) external nonReentrant whenNotPaused {
        require(amount != 0, ZeroAmount());
        ProviderRecord storage p = _active(msg.sender);
        p.bond += amount;
        emit BondIncreased(msg.sender, amount, p.bond);
        IERC20(address(_TOKEN)).safeTransferFrom(msg.sender, address(this), amount);
    }

    /// @inheritdoc IProviderRegistry
    function updateOffer(bytes32[] calldata modelIds, uint256[] calldata usdPricePerUnit) external {
        _active(msg.sender);
        _updateOffer(msg.sender, modelIds, usdPricePerUnit);
    }

    /// @inheritdoc IProviderRegistry
    function setSigner(address newSigner) external {
        require(newSigner != address(0), ZeroAddress());
        ProviderRecord storage p = _active(msg.sender);
        emit SignerUpdated(msg.sender, p.signer, newSigner);
        p.signer = newSigner;
    }

    /// @inheritdoc IProviderRegistry
    function setMetadataURI(string calldata metadataURI) external {
        _active(msg.sender).metadataURI = metadataURI;
        emit MetadataUpdated(msg.sender, metadataURI);
    }

    /// @inheritdoc IProviderRegistry
    function requestExit() external {
        ProviderRecord storage p = _active(msg.sender);
        p.status = Status.Exiting;
        // Time: unbonding lasts at least the slashable window (challenge window + dispute timeout) from the exit
        // request, so every result the provider submitted can still be challenged and slashed.
        // solhint-disable-next-line not-rely-on-time
        p.unbondingEnds = (block.timestamp + Math.max(_unbondingPeriod, slashableWindow())).toUint64();
        emit ExitRequested(msg.sender, p.unbondingEnds);
    }

    /// @inheritdoc IProviderRegistry
    function withdrawBond() external nonReentrant returns (uint256 amount) {
        ProviderRecord storage p = _providers[msg.sender];
        require(p.status == Status.Exiting, InvalidStatus(msg.sender, p.status));
        // Time: the bond leaves only once unbonding has elapsed (and no job is open, below).
        // solhint-disable not-rely-on-time
        require(
            block.timestamp >= p.unbondingEnds,
            UnbondingNotElapsed(msg.sender, p.unbondingEnds, block.timestamp)
        );
        // solhint-enable not-rely-on-time
        // Open jobs, not locked collateral: a slash may cut `locked` below what open jobs were given.
        require(p.openJobs == 0, JobsStillOpen(msg.sender, p.openJobs));

        amount = p.bond;
        bytes32[] storage offered = _offered[msg.sender];
        for (uint256 i = 0; i < offered.length; ++i) delete _prices[msg.sender][offered[i]];
        delete _offered[msg.sender];
        uint64 jailedUntil = p.jailedUntil;
        delete _providers[msg.sender];
        // A jail outlives the registration: exiting and registering again must not shorten it.
        // Time: keeps a jail that is still running across exit and re-registration.
        // solhint-disable-next-line not-rely-on-time
        if (jailedUntil > block.timestamp) p.jailedUntil = jailedUntil;
        emit BondWithdrawn(msg.sender, amount);

        if (amount != 0) IERC20(address(_TOKEN)).safeTransfer(msg.sender, amount);
    }

    // ---------------------------------------------------------------- settlement modules

    /// @inheritdoc IProviderRegistry
    function lockCollateral(address provider, uint256 amount) external onlyRole(COORDINATOR_ROLE) {
        require(amount != 0, ZeroAmount());
        ProviderRecord storage p = _active(provider);
        uint256 free = p.bond - p.locked;
        require(amount <= free, InsufficientFreeBond(provider, free, amount));
        p.locked += amount;
        p.openJobs += 1;
        emit CollateralLocked(provider, amount, p.locked);
    }

    /// @inheritdoc IProviderRegistry
    function releaseCollateral(
        address provider,
        uint256 amount,
        uint256 jobs
    ) external onlyRole(COORDINATOR_ROLE) returns (uint256 released) {
        require(jobs != 0, ZeroAmount());
        ProviderRecord storage p = _providers[provider];
        require(p.openJobs >= jobs, NoOpenJobs(provider));
        p.openJobs -= uint32(jobs);
        // A slash may already have cut the locked amount down to the remaining bond.
        released = Math.min(amount, p.locked);
        p.locked -= released;
        emit CollateralReleased(provider, released, p.locked);
    }

    /// @inheritdoc IProviderRegistry
    function slash(
        address provider,
        uint256 amount,
        address recipient
    ) external nonReentrant onlyRole(SLASHER_ROLE) returns (uint256 slashed) {
        ProviderRecord storage p = _providers[provider];
        slashed = Math.min(amount, p.bond);
        if (slashed == 0) return 0;
        p.bond -= slashed;
        if (p.locked > p.bond) p.locked = p.bond;
        emit Slashed(provider, recipient, slashed, p.bond);

        if (recipient == address(0)) _TOKEN.burn(slashed);
        else IERC20(address(_TOKEN)).safeTransfer(recipient, slashed);
    }

    /// @inheritdoc IProviderRegistry
    function jail(address provider, uint256 until) external onlyRole(SLASHER_ROLE) {
        ProviderRecord storage p = _providers[provider];
        require(p.status != Status.None, InvalidStatus(provider, p.status));
        if (until > p.jailedUntil) p.jailedUntil = until.toUint64();
        emit Jailed(provider, p.jailedUntil);
    }

    // ---------------------------------------------------------------- governance

    /// @inheritdoc IProviderRegistry
    function setMinBond(uint256 minBond_) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _setMinBond(minBond_);
    }

    /// @inheritdoc IProviderRegistry
    function setUnbondingPeriod(uint256 period) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _setUnbondingPeriod(period);
    }

    /// @inheritdoc IProviderRegistry
    function setSlashingWindowSource(address source) external onlyRole(DEFAULT_ADMIN_ROLE) {
        require(source != address(0), ZeroAddress());
        uint256 window = ISlashingWindow(source).slashableWindow();
        require(
            _unbondingPeriod >= window,
            ParameterOutOfBounds("unbondingPeriod", _unbondingPeriod, window, _MAX_UNBONDING)
        );
        emit SlashingWindowSourceUpdated(address(_windowSource), source);
        _windowSource = ISlashingWindow(source);
    }

    // ---------------------------------------------------------------- views

    /// @inheritdoc IProviderRegistry
    function getProvider(address provider) external view returns (ProviderRecord memory) {
        return _providers[provider];
    }

    /// @inheritdoc IProviderRegistry
    function priceOf(address provider, bytes32 modelId) external view returns (uint256) {
        return _prices[provider][modelId];
    }

    /// @inheritdoc IProviderRegistry
    function offeredModels(address provider) external view returns (bytes32[] memory) {
        return _offered[provider];
    }

    /// @inheritdoc IProviderRegistry
    function freeBond(address provider) external view returns (uint256) {
        ProviderRecord storage p = _providers[provider];
        return p.bond - p.locked;
    }

    /// @inheritdoc IProviderRegistry
    function isEligible(address provider, bytes32 modelId) external view returns (bool) {
        return eligiblePrice(provider, modelId) != 0;
    }

    /// @inheritdoc IProviderRegistry
    function eligiblePrice(address provider, bytes32 modelId) public view returns (uint256 price) {
        ProviderRecord storage p = _providers[provider];
        price = _prices[provider][modelId];
        // Time: a jailed provider takes no job until its jail term ends.
        // solhint-disable not-rely-on-time
        bool eligible =
            price != 0 &&
                p.status == Status.Active &&
                block.timestamp >= p.jailedUntil &&
                p.bond >= _minBond &&
                _MODELS.isActive(modelId);
        // solhint-enable not-rely-on-time
        if (!eligible) price = 0;
    }

    /// @inheritdoc IProviderRegistry
    function signerOf(address provider) external view returns (address) {
        return _providers[provider].signer;
    }

    /// @inheritdoc IProviderRegistry
    function slashableWindow() public view returns (uint256) {
        if (address(_windowSource) == address(0)) return 0;
        // Exits must never be blocked by the source: a window that cannot be read (a revert, or return data
        // that is not a uint256, which try/catch would not catch) or reads absurdly long counts as the longest
        // unbonding allowed. Hence the raw staticcall, with a gas cap so a faulty source cannot burn the
        // caller's gas either.
        // solhint-disable-next-line avoid-low-level-calls
        (bool ok, bytes memory ret) = address(_windowSource).staticcall{gas: _WINDOW_READ_GAS}(
            abi.encodeCall(ISlashingWindow.slashableWindow, ())
        );
        if (!ok || ret.length != 32) return _MAX_UNBONDING;
        return Math.min(abi.decode(ret, (uint256)), _MAX_UNBONDING);
    }

    /// @inheritdoc IProviderRegistry
    function minBond() external view returns (uint256) {
        return _minBond;
    }

    /// @inheritdoc IProviderRegistry
    function unbondingPeriod() external view returns (uint256) {
        return _unbondingPeriod;
    }

    /// @inheritdoc IProviderRegistry
    function token() external view returns (IProtocolToken) {
        return _TOKEN;
    }

    /// @inheritdoc IProviderRegistry
    function models() external view returns (IModelRegistry) {
        return _MODELS;
    }

    // ---------------------------------------------------------------- internal

    function _active(address provider) private view returns (ProviderRecord storage p) {
        p = _providers[provider];
        require(p.status == Status.Active, InvalidStatus(provider, p.status));
    }

    function _updateOffer(address provider, bytes32[] calldata modelIds, uint256[] calldata prices) private {
        require(modelIds.length == prices.length, InvalidOffer(modelIds.length, prices.length));
        bytes32[] storage offered = _offered[provider];
        for (uint256 i = 0; i < modelIds.length; ++i) {
            bytes32 modelId = modelIds[i];
            uint256 previous = _prices[provider][modelId];
            if (prices[i] != 0) {
                require(_MODELS.isActive(modelId), ModelNotActive(modelId));
                if (previous == 0) offered.push(modelId);
            } else if (previous != 0) {
                _removeOffered(offered, modelId);
            }
            _prices[provider][modelId] = prices[i];
            emit OfferUpdated(provider, modelId, prices[i]);
        }
        require(offered.length <= MAX_MODELS, InvalidOffer(offered.length, MAX_MODELS));
    }

    function _removeOffered(bytes32[] storage offered, bytes32 modelId) private {
        uint256 last = offered.length - 1;
        for (uint256 i = 0; i <= last; ++i) {
            if (offered[i] == modelId) {
                offered[i] = offered[last];
                offered.pop();
                return;
            }
        }
    }

    function _setMinBond(uint256 minBond_) private {
        require(
            minBond_ != 0 && minBond_ <= _MAX_MIN_BOND,
            ParameterOutOfBounds("minBond", minBond_, 1, _MAX_MIN_BOND)
        );
        emit ParameterUpdated("minBond", _minBond, minBond_);
        _minBond = minBond_;
    }

    function _setUnbondingPeriod(uint256 period) private {
        uint256 window = slashableWindow();
        require(
            period >= window && period <= _MAX_UNBONDING,
            ParameterOutOfBounds("unbondingPeriod", period, window, _MAX_UNBONDING)
        );
        emit ParameterUpdated("unbondingPeriod", _unbondingPeriod, period);
        _unbondingPeriod = period;
    }
}

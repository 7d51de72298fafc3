// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;
import {ICinderErrors} from "./ICinderErrors.sol";

/// @title IBurnMintEngine
/// @notice Burn-and-mint equilibrium (Akash BME, Render BME, Helium data credits): users burn tokens at the
///         oracle price for USD ComputeCredit; providers redeem credit for newly minted tokens; emissions halve
///         on a fixed schedule and are split between stakers and providers by work settled. Every epoch
///         (one UTC day) keeps a public ledger, so anyone can read how much of provider income was organic
///         demand and how much subsidy (`subsidyRatio`), and whether supply shrank (`netSupplyChange`).
interface IBurnMintEngine is ICinderErrors {
    /// @notice Everything the engine recorded for one epoch. USD amounts have 18 decimals.
    struct EpochLedger {
        uint256 organicCreditUsd; // USD of credit bought by burning tokens (gross of the spread)
        uint256 voucherRevenueUsd; // USD of voucher principal paid to providers, reported by the market
        uint256 subsidyMintedUsd; // USD of subsidised credit minted for DailyCredit-funded jobs
        uint256 workUsd; // USD of work providers settled, all payment sources
        uint256 subsidisedWorkUsd; // the part of workUsd paid from subsidy
        uint256 tokensBurned; // burned for credit
        uint256 tokensRedeemed; // minted to credit redeemers
        uint256 tokensEmitted; // emission minted for this epoch by `distribute`
        uint256 providerPool; // the providers' share of tokensEmitted, claimable pro rata to work
        bool distributed;
    }

    /// @notice Constructor configuration (all later changes through the timelock, within bounds).
    struct Config {
        uint256 mintSpreadBps; // kept from each credit purchase as protocol revenue (default 25)
        uint256 epochMintCap; // tokens mintable per epoch by redemptions + emissions (circuit breaker)
        uint256 emissionPerEpoch; // initial emission, immutable
        uint256 halvingEpochs; // emission halves every this many epochs, immutable
        uint256 stakerShareBps; // share of each emission streamed to the StakingVault
        uint256 subsidyBudgetUsd; // subsidised credit mintable per epoch
    }

    /// @notice Thrown when the output of a conversion is below the caller's minimum.
    error SlippageExceeded(uint256 amountOut, uint256 minAmountOut);
    /// @notice Thrown when a mint would exceed what the epoch's cap has left.
    error EpochMintCapExceeded(uint256 requested, uint256 remaining);
    /// @notice Thrown when subsidised credit would exceed the epoch's budget.
    error SubsidyBudgetExceeded(uint256 requested, uint256 remaining);
    /// @notice Thrown by `distribute` for an epoch that has not ended.
    error EpochNotFinished(uint256 epoch, uint256 currentEpoch);
    /// @notice Thrown by `distribute` for an epoch before emissions began.
    error EpochBeforeGenesis(uint256 epoch, uint256 genesisEpoch);
    /// @notice Thrown by `distribute` for an epoch already distributed.
    error AlreadyDistributed(uint256 epoch);
    /// @notice Thrown by `claimEmissions` for an epoch not yet distributed.
    error NotDistributed(uint256 epoch);
    /// @notice Thrown by `claimEmissions` for an epoch the provider already claimed.
    error AlreadyClaimed(uint256 epoch, address provider);

    /// @notice Emitted when `account` burns `tokensBurned` for `credits` (to `recipient`) at `price`;
    ///         `spread` credit went to the treasury.
    event CreditsMinted(
        address indexed account,
        address indexed recipient,
        uint256 tokensBurned,
        uint256 credits,
        uint256 spread,
        uint256 price
    );
    /// @notice Emitted when `account` burns `credits` for `tokensMinted` (to `recipient`) at `price`.
    event CreditsRedeemed(
        address indexed account,
        address indexed recipient,
        uint256 credits,
        uint256 tokensMinted,
        uint256 price
    );
    /// @notice Emitted when an epoch's emission is minted: `toStakers` streamed to the vault, `toProviders`
    ///         held for providers' claims.
    event EmissionDistributed(
        uint256 indexed epoch,
        address indexed caller,
        uint256 toStakers,
        uint256 toProviders
    );
    /// @notice Emitted when a provider claims its share of epoch emissions.
    event EmissionClaimed(address indexed provider, uint256 amount);
    /// @notice Emitted when the coordinator records `usd` of work settled by `provider`.
    event WorkRecorded(uint256 indexed epoch, address indexed provider, uint256 usd, bool subsidised);
    /// @notice Emitted when subsidised credit is minted to `provider`.
    event SubsidisedCreditsMinted(uint256 indexed epoch, address indexed provider, uint256 usd);
    /// @notice Emitted when unused subsidised credit minted in `epoch` is burned back into that epoch's budget.
    event SubsidisedCreditsReturned(uint256 indexed epoch, address indexed coordinator, uint256 usd);
    /// @notice Emitted when voucher revenue is reported.
    event VoucherRevenueRecorded(uint256 indexed epoch, address indexed reporter, uint256 usd);
    /// @notice Emitted when a numeric parameter changes.
    event ParameterUpdated(bytes32 indexed parameter, uint256 previous, uint256 current);
    /// @notice Emitted when an address parameter (oracle, treasury) changes.
    event AddressUpdated(bytes32 indexed parameter, address previous, address current);

    /// @notice Burns `tokenAmount` of the caller's tokens (ERC-20 allowance to the engine required) and
    ///         mints `tokenAmount × price × (1 − mintSpreadBps)` credit to `recipient`; the spread is minted
    ///         to the treasury. Rounds down the credit out and up the spread.
    /// @dev Reverts with {ZeroAmount}, {ZeroAddress}, {SlippageExceeded}, the oracle's error, or
    ///      `EnforcedPause`.
    function mintCredits(
        uint256 tokenAmount,
        uint256 minCreditsOut,
        address recipient
    ) external returns (uint256 credits);

    /// @notice Burns `creditAmount` of the caller's credit and mints `creditAmount / price` tokens (rounded
    ///         down) to `recipient`, within the epoch's mint cap.
    /// @dev Reverts with {ZeroAmount}, {ZeroAddress}, {SlippageExceeded}, {EpochMintCapExceeded} (which
    ///      carries the capacity left: retry smaller or next epoch), the token's `MaxSupplyExceeded`, the
    ///      oracle's error, or `EnforcedPause`.
    function redeem(
        uint256 creditAmount,
        uint256 minTokensOut,
        address recipient
    ) external returns (uint256 tokens);

    /// @notice Mints finished `epoch`'s emission (capped by maxSupply) and splits it: `stakerShareBps` to the
    ///         StakingVault as a streamed reward, the rest to the epoch's providers pro rata to their recorded
    ///         work (forgone, never minted, when no work was recorded). Callable by anyone, once per epoch.
    /// @dev Reverts with {EpochNotFinished}, {EpochBeforeGenesis}, {AlreadyDistributed} or
    ///      {EpochMintCapExceeded} (only possible for an epoch older than the previous one).
    function distribute(uint256 epoch) external returns (uint256 emitted);

    /// @notice Pays the caller its share of the provider pool of each listed epoch.
    /// @dev Reverts with {NotDistributed} or {AlreadyClaimed}.
    function claimEmissions(uint256[] calldata epochs) external returns (uint256 amount);

    /// @notice Records `usd` of work settled by `provider` in the current epoch.
    /// @dev Only COORDINATOR_ROLE. Reverts with {ZeroAmount} or {ZeroAddress}.
    function recordWork(address provider, uint256 usd, bool subsidised) external;

    /// @notice Mints `usd` of credit to `provider` for a DailyCredit-funded job, within the epoch's budget.
    /// @dev Only COORDINATOR_ROLE. Reverts with {ZeroAmount}, {ZeroAddress} or {SubsidyBudgetExceeded}.
    function mintSubsidisedCredits(address provider, uint256 usd) external;

    /// @notice Burns `usd` of the caller's credit that was minted as subsidy in `epoch` and not used (the unspent
    ///         part of a DailyCredit-funded job), giving it back to that epoch's budget: `subsidyMintedUsd` counts
    ///         only subsidy that reached providers.
    /// @dev Only COORDINATOR_ROLE. Reverts with {ZeroAmount}, {ParameterOutOfBounds} (more than `epoch`
    ///      minted) or `ERC20InsufficientBalance`.
    function returnSubsidisedCredits(uint256 epoch, uint256 usd) external;

    /// @notice Records `usd` of voucher principal paid to providers as organic revenue.
    /// @dev Only REPORTER_ROLE (the VoucherMarket). Reverts with {ZeroAmount}.
    function recordVoucherRevenue(uint256 usd) external;

    /// @notice Sets the spread kept from credit purchases. Only DEFAULT_ADMIN_ROLE; bounds 0–500 bps.
    function setMintSpreadBps(uint256 bps) external;

    /// @notice Sets the per-epoch mint cap from the next epoch on (the running epoch keeps its cap, so
    ///         mintedIn(e) ≤ cap of e always; the guardian's pause is the instant brake).
    ///         Only DEFAULT_ADMIN_ROLE; bounds: emissionPerEpoch to maxSupply.
    function setEpochMintCap(uint256 cap) external;

    /// @notice Sets the stakers' share of emissions. Only DEFAULT_ADMIN_ROLE; bounds 0–10 000 bps.
    function setStakerShareBps(uint256 bps) external;

    /// @notice Sets the per-epoch subsidy budget, at once: lowering it below what the running epoch already
    ///         minted stops further subsidy this epoch (nothing minted is undone). Only DEFAULT_ADMIN_ROLE;
    ///         bounds $0–$1e9.
    function setSubsidyBudgetUsd(uint256 usd) external;

    /// @notice Replaces the price oracle. Only DEFAULT_ADMIN_ROLE; must answer a price now.
    function setOracle(address oracle) external;

    /// @notice Replaces the treasury that receives the spread. Only DEFAULT_ADMIN_ROLE.
    function setTreasury(address treasury) external;

    /// @notice The current configuration (`epochMintCap`: the cap in force in the current epoch).
    function config() external view returns (Config memory);

    /// @notice The first epoch with emissions (the deployment's epoch).
    function genesisEpoch() external view returns (uint256);

    /// @notice The price oracle.
    function oracle() external view returns (address);

    /// @notice The treasury.
    function treasury() external view returns (address);

    /// @notice The current epoch (UTC day number).
    function currentEpoch() external view returns (uint256);

    /// @notice The scheduled emission of `epoch` (before the maxSupply cap).
    function emissionFor(uint256 epoch) external view returns (uint256);

    /// @notice The ledger of `epoch`.
    function epochLedger(uint256 epoch) external view returns (EpochLedger memory);

    /// @notice Organic USD of `epoch`: credit bought by burning tokens plus voucher revenue.
    function organicUsd(uint256 epoch) external view returns (uint256);

    /// @notice Subsidised USD / all USD of work paid to providers in `epoch`, in bps (0 without work).
    function subsidyRatio(uint256 epoch) external view returns (uint256);

    /// @notice Tokens redeemed + emitted − burned for `epoch` (negative: deflationary).
    function netSupplyChange(uint256 epoch) external view returns (int256);

    /// @notice Tokens minted during `epoch` (redemptions and distributions executed in it), held ≤ the cap.
    function mintedIn(uint256 epoch) external view returns (uint256);

    /// @notice Tokens redeemable in the current epoch, after the reserve kept for the previous epoch's
    ///         undistributed emission.
    function redeemCapacity() external view returns (uint256);

    /// @notice Subsidised credit still mintable in the current epoch.
    function subsidyRemaining() external view returns (uint256);

    /// @notice USD of work `provider` recorded in `epoch`.
    function providerWork(uint256 epoch, address provider) external view returns (uint256);

    /// @notice Tokens `provider` may still claim from `epoch`'s provider pool.
    function claimableEmission(uint256 epoch, address provider) external view returns (uint256);

    /// @notice Credit out and spread for burning `tokenAmount` now.
    function quoteMintCredits(uint256 tokenAmount) external view returns (uint256 credits, uint256 spread);

    /// @notice Tokens out for redeeming `creditAmount` now.
    function quoteRedeem(uint256 creditAmount) external view returns (uint256 tokens);
}

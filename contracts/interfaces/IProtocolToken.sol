// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {ICinderErrors} from "./ICinderErrors.sol";

/// @title IProtocolToken
/// @notice The Cinder protocol token: a fixed initial supply to the treasury, further mints only by
///         MINTER_ROLE holders (the BurnMintEngine) and never beyond `maxSupply`; anyone burns their own.
interface IProtocolToken is IERC20, ICinderErrors {
    /// @notice Thrown when a mint would push total supply above `maxSupply`.
    /// @param requested The amount asked for.
    /// @param available The amount that could still be minted.
    error MaxSupplyExceeded(uint256 requested, uint256 available);

    /// @notice Thrown at deployment when the initial supply is larger than the maximum supply.
    error InitialSupplyAboveMax(uint256 initialSupply, uint256 maxSupply);

    /// @notice The hard cap on total supply, fixed at deployment.
    function maxSupply() external view returns (uint256);

    /// @notice Mints `amount` tokens to `to`.
    /// @dev Only MINTER_ROLE. Reverts with {MaxSupplyExceeded} above the cap.
    function mint(address to, uint256 amount) external;

    /// @notice Burns `amount` of the caller's tokens.
    function burn(uint256 amount) external;

    /// @notice Burns `amount` of `account`'s tokens, spending the caller's ERC-20 allowance.
    function burnFrom(address account, uint256 amount) external;
}

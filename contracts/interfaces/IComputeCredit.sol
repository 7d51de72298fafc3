// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";

/// @title IComputeCredit
/// @notice USD-denominated compute credit (18 decimals, 1e18 = $1 of inference), the Akash ACT / Helium
///         data-credit analogue. Only the protocol moves it: the engine mints and burns, and a transfer must
///         have a protocol contract (PROTOCOL_ROLE, e.g. the job coordinator's escrow) on one side.
interface IComputeCredit is IERC20 {
    /// @notice Thrown when a transfer has no protocol contract on either side.
    error NonTransferable(address from, address to);

    /// @notice Mints `amount` credit to `to`.
    /// @dev Only ENGINE_ROLE.
    function mint(address to, uint256 amount) external;

    /// @notice Burns `amount` credit held by `from`.
    /// @dev Only ENGINE_ROLE (which burns only the balance of its own caller). Reverts with
    ///      `ERC20InsufficientBalance`.
    function burn(address from, uint256 amount) external;
}

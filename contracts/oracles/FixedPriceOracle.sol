// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {IPriceOracle} from "../interfaces/IPriceOracle.sol";
import {ICinderErrors} from "../interfaces/ICinderErrors.sol";

/// @title FixedPriceOracle
/// @notice A governance-set price for local networks and tests, confined to bounds fixed at deployment so a
///         compromised or careless admin cannot set an absurd price.
contract FixedPriceOracle is IPriceOracle, AccessControl, ICinderErrors {
    /// @notice Thrown at deployment when the bounds are empty or start at zero.
    error InvalidBounds(uint256 minPrice, uint256 maxPrice);
    /// @notice Thrown when a price outside [MIN_PRICE, MAX_PRICE] is set.
    error PriceOutOfBounds(uint256 price, uint256 minPrice, uint256 maxPrice);

    /// @notice Emitted when the price changes.
    event PriceUpdated(uint256 previous, uint256 current);

    /// @notice Lowest price governance may set (USD, 18 decimals).
    uint256 public immutable MIN_PRICE;
    /// @notice Highest price governance may set (USD, 18 decimals).
    uint256 public immutable MAX_PRICE;

    uint256 private _price;

    /// @param admin DEFAULT_ADMIN_ROLE holder (the timelock).
    /// @param initialPrice The starting price, within the bounds.
    /// @param minPrice Lower bound, > 0.
    /// @param maxPrice Upper bound, ≥ minPrice.
    constructor(address admin, uint256 initialPrice, uint256 minPrice, uint256 maxPrice) {
        require(admin != address(0), ZeroAddress());
        require(minPrice != 0 && minPrice <= maxPrice, InvalidBounds(minPrice, maxPrice));
        MIN_PRICE = minPrice;
        MAX_PRICE = maxPrice;
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _setPrice(initialPrice);
    }

    /// @inheritdoc IPriceOracle
    function price() external view returns (uint256) {
        return _price;
    }

    /// @notice Sets the price.
    /// @dev Only DEFAULT_ADMIN_ROLE. Reverts with {PriceOutOfBounds}.
    function setPrice(uint256 newPrice) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _setPrice(newPrice);
    }

    function _setPrice(uint256 newPrice) private {
        require(newPrice >= MIN_PRICE && newPrice <= MAX_PRICE, PriceOutOfBounds(newPrice, MIN_PRICE, MAX_PRICE));
        emit PriceUpdated(_price, newPrice);
        _price = newPrice;
    }
}

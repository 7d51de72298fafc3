// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @title ICinderErrors
/// @notice The errors every Cinder module shares, declared once.
interface ICinderErrors {
    /// @notice Thrown when an amount argument is zero, or an amount is too small to produce any output.
    error ZeroAmount();
    /// @notice Thrown when a required address argument is the zero address.
    error ZeroAddress();
    /// @notice Thrown when a governance parameter is set outside its bounds.
    error ParameterOutOfBounds(bytes32 parameter, uint256 value, uint256 min, uint256 max);
}

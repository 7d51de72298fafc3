// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// @notice Test double of a token that skims `feeBps` of every transfer (burned), and that can be switched to
///         revert every transfer, to test how protocol contracts handle non-standard stablecoins.
contract FeeOnTransferToken is ERC20 {
    /// @notice Thrown by every transfer while `frozen`.
    error TransfersFrozen();

    uint256 public feeBps;
    bool public frozen;

    constructor(uint256 feeBps_) ERC20("Fee Token", "FEE") {
        feeBps = feeBps_;
    }

    function decimals() public pure override returns (uint8) {
        return 6;
    }

    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }

    function setFeeBps(uint256 feeBps_) external {
        feeBps = feeBps_;
    }

    function setFrozen(bool frozen_) external {
        frozen = frozen_;
    }

    function _update(address from, address to, uint256 value) internal override {
        require(!frozen, TransfersFrozen());
        if (from == address(0) || to == address(0) || feeBps == 0) return super._update(from, to, value);
        uint256 fee = (value * feeBps) / 10_000;
        super._update(from, address(0), fee);
        super._update(from, to, value - fee);
    }
}

// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// @notice Test double of a malicious USDC-like stablecoin (6 decimals, anyone may mint). When armed, the next
///         transfer between two accounts (not a mint or burn) calls `callee` with `payload` after moving the
///         balance, and records the outcome instead of bubbling it, so a test can see that the re-entry failed
///         while the outer transfer still completed. One shot: it disarms itself before calling out.
contract ReentrantStablecoin is ERC20 {
    address public callee;
    bytes public payload;
    bool public armed;
    bool public attempted;
    bool public innerSucceeded;
    bytes public innerReturnData;

    constructor() ERC20("Reentrant USD", "rUSD") {}

    function decimals() public pure override returns (uint8) {
        return 6;
    }

    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }

    /// @notice Makes the next transfer call `target_` with `payload_`.
    function arm(address target_, bytes calldata payload_) external {
        callee = target_;
        payload = payload_;
        armed = true;
        attempted = false;
        innerSucceeded = false;
        delete innerReturnData;
    }

    function _update(address from, address to, uint256 value) internal override {
        super._update(from, to, value);
        if (!armed || from == address(0) || to == address(0)) return;
        armed = false;
        attempted = true;
        // Test double: a raw call into the target from inside a token transfer, recording the outcome, is the
        // mock's purpose (it shows the target's reentrancy guard holds).
        // solhint-disable-next-line avoid-low-level-calls
        (bool ok, bytes memory ret) = callee.call(payload);
        innerSucceeded = ok;
        innerReturnData = ret;
    }
}

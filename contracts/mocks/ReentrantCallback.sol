// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @notice Test double for reentrancy tests: stands in for a token, a vault, an oracle or any module that
///         could call back. Whatever is called on it, it first calls `callee` with `payload` when armed for
///         that selector (a zero trigger: every selector) and bubbles up that call's revert; it then answers
///         the value set for the selector, or `true` (so it passes as an ERC-20 `transfer`/`transferFrom`).
contract ReentrantCallback {
    address public callee;
    bytes public payload;
    bytes4 public trigger;

    mapping(bytes4 selector => bytes) private _answers;

    /// @notice Sets the call made back on incoming calls with selector `trigger_` (zero: all); a zero
    ///         callee disarms it.
    function arm(address callee_, bytes calldata payload_, bytes4 trigger_) external {
        callee = callee_;
        payload = payload_;
        trigger = trigger_;
    }

    /// @notice Sets the ABI-encoded return data for calls with `selector`.
    function setAnswer(bytes4 selector, bytes calldata answer) external {
        _answers[selector] = answer;
    }

    // Test double: a re-entering mock must take any call in its fallback, make a raw call and bubble its revert
    // data. It is not payable on purpose: nothing in Cinder sends ether, and a mock that accepted it would hide that.
    // solhint-disable avoid-low-level-calls, no-inline-assembly, no-complex-fallback, payable-fallback
    fallback(bytes calldata data) external returns (bytes memory) {
        bytes4 selector = data.length >= 4 ? bytes4(data[:4]) : bytes4(0);
        if (callee != address(0) && (trigger == bytes4(0) || trigger == selector)) {
            (bool ok, bytes memory ret) = callee.call(payload);
            if (!ok) {
                assembly {
                    revert(add(ret, 32), mload(ret))
                }
            }
        }
        bytes memory answer = _answers[selector];
        return answer.length != 0 ? answer : abi.encode(true);
    }
    // solhint-enable avoid-low-level-calls, no-inline-assembly, no-complex-fallback, payable-fallback
}

// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @notice The two `console.log` overloads Cinder's tests print with (forge decodes calls to this address
///         and shows them at -vv). Selectors match forge-std's console.
library console {
    address private constant _CONSOLE = 0x000000000000000000636F6e736F6c652e6c6f67;

    function log(string memory message) internal view {
        _send(abi.encodeWithSignature("log(string)", message));
    }

    function log(string memory message, uint256 value) internal view {
        _send(abi.encodeWithSignature("log(string,uint256)", message, value));
    }

    function _send(bytes memory payload) private view {
        address target = _CONSOLE;
        /// @solidity memory-safe-assembly
        assembly {
            pop(staticcall(gas(), target, add(payload, 32), mload(payload), 0, 0))
        }
    }
}

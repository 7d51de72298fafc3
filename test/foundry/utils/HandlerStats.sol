// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {TestBase} from "./Test.sol";
import {console} from "./console.sol";

/// @notice Call statistics and single-call violations shared by the invariant handlers: `calls` per action,
///         `done` when it changed state, and `violations` (rules a single call broke), which every invariant
///         suite asserts to be zero — needed because with `fail_on_revert = false` a wrong revert is silent.
abstract contract HandlerStats is TestBase {
    uint256 public violations;
    string public lastViolation;

    string[] internal _actionNames;
    mapping(string action => uint256) public calls;
    mapping(string action => uint256) public done;

    modifier action(string memory name) {
        if (calls[name] == 0) _actionNames.push(name);
        ++calls[name];
        _beforeAction();
        _;
    }

    /// @dev Runs before every action (e.g. to book a new UTC day); nothing by default.
    function _beforeAction() internal virtual {}

    /// @dev With HANDLER_NOOP_REVERTS=1 in the environment, a call that finds nothing to do reverts,
    ///      so forge's metrics table (show-metrics) counts no-ops in its "Reverts" column. Off by default.
    bool internal immutable _NOOP_REVERTS = vm.envOr("HANDLER_NOOP_REVERTS", uint256(0)) != 0;

    error NoOp();

    function _skip() internal view {
        if (_NOOP_REVERTS) revert NoOp();
    }

    function _done(string memory name) internal {
        if (calls[name] == 0 && done[name] == 0) _actionNames.push(name);
        ++done[name];
    }

    function _logStats() internal view {
        for (uint256 i; i < _actionNames.length; ++i) {
            string memory n = _actionNames[i];
            if (calls[n] != 0) console.log(string.concat(n, " calls"), calls[n]);
            console.log(string.concat(n, " done"), done[n]);
        }
    }

    function _expectSelector(bytes memory reason, bytes4 expected, string memory what) internal {
        if (reason.length < 4 || bytes4(reason) != expected) _violation(string.concat(what, ": wrong revert"));
    }

    function _violation(string memory what) internal {
        ++violations;
        lastViolation = what;
    }

    function _min(uint256 x, uint256 y) internal pure returns (uint256) {
        return x < y ? x : y;
    }
}

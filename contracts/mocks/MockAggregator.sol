// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {AggregatorV3Interface} from "../interfaces/IAggregatorV3.sol";

/// @notice Test double of a Chainlink aggregator: every field of the latest round is settable, so tests can
///         reproduce each failure mode (negative answer, stale or incomplete round, odd decimals).
contract MockAggregator is AggregatorV3Interface {
    uint8 private immutable _DECIMALS;
    uint80 private _roundId;
    int256 private _answer;
    uint256 private _startedAt;
    uint256 private _updatedAt;
    uint80 private _answeredInRound;

    constructor(uint8 decimals_) {
        _DECIMALS = decimals_;
    }

    function decimals() external view returns (uint8) {
        return _DECIMALS;
    }

    function description() external pure returns (string memory) {
        return "MOCK / USD";
    }

    /// @notice Publishes a complete round with `answer` at the current time.
    function setAnswer(int256 answer) external {
        _roundId += 1;
        _answer = answer;
        // Time: test double; stamps a round with the block time, as a real feed does.
        // solhint-disable not-rely-on-time
        _startedAt = block.timestamp;
        _updatedAt = block.timestamp;
        // solhint-enable not-rely-on-time
        _answeredInRound = _roundId;
    }

    /// @notice Overwrites every field of the latest round.
    function setRound(
        uint80 roundId,
        int256 answer,
        uint256 startedAt,
        uint256 updatedAt,
        uint80 answeredInRound
    ) external {
        (_roundId, _answer, _startedAt, _updatedAt, _answeredInRound) = (
            roundId,
            answer,
            startedAt,
            updatedAt,
            answeredInRound
        );
    }

    function latestRoundData() external view returns (uint80, int256, uint256, uint256, uint80) {
        return (_roundId, _answer, _startedAt, _updatedAt, _answeredInRound);
    }
}

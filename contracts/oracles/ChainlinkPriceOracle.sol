// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {AggregatorV3Interface} from "../interfaces/IAggregatorV3.sol";
import {IPriceOracle} from "../interfaces/IPriceOracle.sol";
import {ICinderErrors} from "../interfaces/ICinderErrors.sol";

/// @title ChainlinkPriceOracle
/// @notice Adapts a Chainlink `AggregatorV3Interface` feed to {IPriceOracle}: rejects non-positive answers,
///         incomplete rounds, timestamps in the future and answers older than `heartbeat`, and scales the
///         feed's decimals to 18.
contract ChainlinkPriceOracle is IPriceOracle, ICinderErrors {
    /// @notice Thrown at deployment for a heartbeat of zero or a feed with more than 36 decimals.
    error InvalidConfiguration(uint256 heartbeat, uint8 decimals);
    /// @notice Thrown when the feed answers zero or a negative price.
    error InvalidAnswer(int256 answer);
    /// @notice Thrown when the latest round is not complete (`updatedAt == 0` or `answeredInRound < roundId`).
    error IncompleteRound(uint80 roundId, uint80 answeredInRound, uint256 updatedAt);
    /// @notice Thrown when the answer is older than the heartbeat allows (or dated in the future).
    error StalePrice(uint256 updatedAt, uint256 heartbeat, uint256 currentTime);

    uint256 private constant _MAX_DECIMALS = 36;

    /// @notice The Chainlink feed.
    AggregatorV3Interface public immutable FEED;
    /// @notice The longest accepted age of an answer, in seconds.
    uint256 public immutable HEARTBEAT;
    uint8 private immutable _FEED_DECIMALS;

    /// @param feed The token/USD aggregator.
    /// @param heartbeat Maximum answer age in seconds (the feed's heartbeat plus a margin).
    constructor(AggregatorV3Interface feed, uint256 heartbeat) {
        require(address(feed) != address(0), ZeroAddress());
        uint8 feedDecimals = feed.decimals();
        require(heartbeat != 0 && feedDecimals <= _MAX_DECIMALS, InvalidConfiguration(heartbeat, feedDecimals));
        FEED = feed;
        HEARTBEAT = heartbeat;
        _FEED_DECIMALS = feedDecimals;
    }

    /// @inheritdoc IPriceOracle
    /// @dev Reverts with {InvalidAnswer} (also for an answer that scales to zero), {IncompleteRound} or
    ///      {StalePrice}. Feeds with more than 18 decimals are rounded down.
    function price() external view returns (uint256) {
        (uint80 roundId, int256 answer, , uint256 updatedAt, uint80 answeredInRound) = FEED.latestRoundData();
        require(answer > 0, InvalidAnswer(answer));
        require(
            updatedAt != 0 && answeredInRound >= roundId,
            IncompleteRound(roundId, answeredInRound, updatedAt)
        );
        // Time: the staleness check against the feed's heartbeat is what the clock is for here.
        // solhint-disable not-rely-on-time
        require(
            updatedAt <= block.timestamp && block.timestamp - updatedAt <= HEARTBEAT,
            StalePrice(updatedAt, HEARTBEAT, block.timestamp)
        );
        // solhint-enable not-rely-on-time
        // Cast safe: answer > 0 was checked above.
        uint256 value = uint256(answer);
        uint256 scaled =
            _FEED_DECIMALS < 18 ? value * 10 ** (18 - _FEED_DECIMALS) : value / 10 ** (_FEED_DECIMALS - 18);
        // A positive answer below one unit of 18 decimals would round to a zero price: refuse it too.
        require(scaled != 0, InvalidAnswer(answer));
        return scaled;
    }
}

// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

/// @title INotary
/// @notice The part of the Notary a community token needs to honour reward claims.
interface INotary {
    /// @notice Latest version of a period's record, with its rewards root and total (zeros when none).
    function latestRewards(uint256 communityId, uint256 periodId)
        external
        view
        returns (uint256 version, bytes32 rewardsRoot, uint256 totalRewards);
}

/// @title IPeriodListener
/// @notice What the Notary tells a community token when a period is first notarised.
interface IPeriodListener {
    /// @notice The first record of `periodId` was notarised.
    function openPeriod(uint256 periodId) external;
}

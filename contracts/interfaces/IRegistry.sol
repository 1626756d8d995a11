// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

/// @title IRegistry
/// @notice The part of the Registry other platform contracts read.
interface IRegistry {
    /// @notice The community token of community `communityId` (zero when there is none).
    function tokenOf(uint256 communityId) external view returns (address);

    /// @notice The platform's RewardModels contract.
    function rewardModels() external view returns (address);
}

// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

/// @title IRewardModels
/// @notice The part of RewardModels the Notary needs.
interface IRewardModels {
    /// @notice Whether a model with this id was registered.
    function exists(uint256 modelId) external view returns (bool);
}

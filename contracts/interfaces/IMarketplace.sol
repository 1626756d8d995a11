// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

/// @title IMarketplace
/// @notice What the Registry checks of a contract proposed as a community's marketplace.
interface IMarketplace {
    /// @notice The community token the marketplace works for.
    function token() external view returns (address);

    /// @notice The Registry id of the marketplace's community.
    function communityId() external view returns (uint256);
}

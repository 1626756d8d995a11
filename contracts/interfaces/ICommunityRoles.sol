// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

/// @title Role names shared by the platform's contracts
/// @notice On-chain roles carry the same names as the Keycloak realm roles (DESIGN §1).
library CommunityRoles {
    /// @dev Creates communities and wires the platform's contracts.
    bytes32 internal constant PLATFORM_ADMIN = keccak256("platform-admin");
    /// @dev Adds and removes members, publishes community tasks, resolves disputes.
    bytes32 internal constant COMMUNITY_ADMIN = keccak256("community-admin");
    /// @dev Sets fees, incentives and welcome bonuses; sells tokens to stakeholders; pauses.
    bytes32 internal constant TOKEN_ADMIN = keccak256("token-admin");
    /// @dev Registers reward models and notarises the oracle's period records.
    bytes32 internal constant ORACLE_ADMIN = keccak256("oracle-admin");
}

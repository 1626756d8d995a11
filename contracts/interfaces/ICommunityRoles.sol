// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

/// @title Role names shared by the platform's contracts
/// @notice On-chain roles carry the same names as the Keycloak realm roles (DESIGN §1); `claim-relayer` is a
/// machine role (the oracle's service account) with no Keycloak counterpart.
library CommunityRoles {
    /// @notice Who receives which role of a new community token (docs/security.md, "Trust model").
    /// @dev `governor` holds DEFAULT_ADMIN_ROLE (grants and revokes every other role, accepts a marketplace): a
    /// multisig or timelock. The others are the day-to-day keys; each holds one role only.
    struct Admins {
        address governor;
        address communityAdmin;
        address tokenAdmin;
        address oracleAdmin;
        address relayer;
    }

    /// @dev Creates communities and proposes their marketplaces.
    bytes32 internal constant PLATFORM_ADMIN = keccak256("platform-admin");
    /// @dev Adds and removes members, publishes community tasks, resolves disputes.
    bytes32 internal constant COMMUNITY_ADMIN = keccak256("community-admin");
    /// @dev Sets fees, incentives, incentive budgets and welcome bonuses; sells tokens to stakeholders; pauses.
    bytes32 internal constant TOKEN_ADMIN = keccak256("token-admin");
    /// @dev Registers reward models and notarises the oracle's period records.
    bytes32 internal constant ORACLE_ADMIN = keccak256("oracle-admin");
    /// @dev Submits members' reward claims on their behalf (the tokens always go to the member).
    bytes32 internal constant CLAIM_RELAYER = keccak256("claim-relayer");
}

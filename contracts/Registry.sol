// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {CommunityToken} from "./CommunityToken.sol";
import {CommunityRoles} from "./interfaces/ICommunityRoles.sol";
import {INotary} from "./interfaces/INotary.sol";
import {IRegistry} from "./interfaces/IRegistry.sol";

/// @title Registry
/// @notice The platform's entry point: the platform admin creates communities, each with its own
/// CommunityToken (and, once set, its marketplace), and the registry holds every address a client needs.
contract Registry is AccessControl, IRegistry {
    /// @notice A community and its contracts.
    struct Community {
        string name;
        address token;
        address marketplace;
        address admin;
        uint64 createdAt;
    }

    bytes32 public constant PLATFORM_ADMIN_ROLE = CommunityRoles.PLATFORM_ADMIN;

    /// @notice The Notary used by every community (set once by {setCore}).
    address public notary;
    /// @inheritdoc IRegistry
    address public rewardModels;

    Community[] private _communities;

    /// @notice The notary and reward models were already set.
    error RegistryCoreAlreadySet();
    /// @notice Communities can be created only after {setCore}.
    error RegistryCoreNotSet();
    /// @notice The community `communityId` does not exist.
    error RegistryUnknownCommunity(uint256 communityId);
    /// @notice Name and symbol must be non-empty and the admin non-zero.
    error RegistryInvalidCommunity();
    /// @notice A zero address was given where a contract is needed.
    error RegistryZeroAddress();

    /// @notice The notary and reward-model registry were set.
    event CoreSet(address notary, address rewardModels);
    /// @notice Community `communityId` was created with its token.
    event CommunityCreated(uint256 indexed communityId, string name, address token, address indexed admin);
    /// @notice The marketplace of community `communityId` changed.
    event MarketplaceSet(uint256 indexed communityId, address previous, address marketplace);

    /// @notice Grants the default admin and the platform-admin role to `platformAdmin`.
    constructor(address platformAdmin) {
        _grantRole(DEFAULT_ADMIN_ROLE, platformAdmin);
        _grantRole(PLATFORM_ADMIN_ROLE, platformAdmin);
    }

    /// @notice Sets, once, the Notary and the RewardModels contracts of the platform.
    /// @dev Emits a {CoreSet} event.
    function setCore(address notary_, address rewardModels_) external onlyRole(PLATFORM_ADMIN_ROLE) {
        if (notary != address(0)) revert RegistryCoreAlreadySet();
        if (notary_ == address(0) || rewardModels_ == address(0)) revert RegistryZeroAddress();
        notary = notary_;
        rewardModels = rewardModels_;
        emit CoreSet(notary_, rewardModels_);
    }

    /// @notice Creates a community and its token; `admin` receives the community's roles.
    /// @dev Community ids start at 1. Emits a {CommunityCreated} event.
    function createCommunity(string calldata name, string calldata symbol, address admin)
        external
        onlyRole(PLATFORM_ADMIN_ROLE)
        returns (uint256 communityId, address token)
    {
        if (notary == address(0)) revert RegistryCoreNotSet();
        if (bytes(name).length == 0 || bytes(symbol).length == 0 || admin == address(0)) {
            revert RegistryInvalidCommunity();
        }
        communityId = _communities.length + 1;
        token = address(new CommunityToken(name, symbol, communityId, address(this), INotary(notary), admin));
        _communities.push(Community(name, token, address(0), admin, uint64(block.timestamp)));
        emit CommunityCreated(communityId, name, token, admin);
    }

    /// @notice Sets the marketplace of a community and registers it with the community's token
    /// (unregistering the previous one).
    /// @dev Emits a {MarketplaceSet} event.
    function setMarketplace(uint256 communityId, address marketplace) external onlyRole(PLATFORM_ADMIN_ROLE) {
        if (marketplace == address(0)) revert RegistryZeroAddress();
        Community storage c = _community(communityId);
        address previous = c.marketplace;
        CommunityToken token = CommunityToken(c.token);
        if (previous != address(0)) token.setCommunityContract(previous, false);
        token.setCommunityContract(marketplace, true);
        c.marketplace = marketplace;
        emit MarketplaceSet(communityId, previous, marketplace);
    }

    /// @notice Number of communities (the highest community id).
    function communityCount() external view returns (uint256) {
        return _communities.length;
    }

    /// @notice Community `communityId`.
    function community(uint256 communityId) external view returns (Community memory) {
        return _community(communityId);
    }

    /// @inheritdoc IRegistry
    function tokenOf(uint256 communityId) external view returns (address) {
        if (communityId == 0 || communityId > _communities.length) return address(0);
        return _communities[communityId - 1].token;
    }

    function _community(uint256 communityId) private view returns (Community storage) {
        if (communityId == 0 || communityId > _communities.length) revert RegistryUnknownCommunity(communityId);
        return _communities[communityId - 1];
    }
}

// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {CommunityToken} from "./CommunityToken.sol";
import {CommunityRoles} from "./interfaces/ICommunityRoles.sol";
import {IMarketplace} from "./interfaces/IMarketplace.sol";
import {INotary} from "./interfaces/INotary.sol";
import {IRegistry} from "./interfaces/IRegistry.sol";

/// @title Registry
/// @notice The platform's entry point: the platform admin creates communities, each with its own
/// CommunityToken (and, once set, its marketplace), and the registry holds every address a client needs.
/// @dev A marketplace may pay from its community's treasury, so registering one takes two keys: the platform
/// admin proposes a contract built for that community's token, and the community's governor (the token's
/// DEFAULT_ADMIN_ROLE) accepts it. A replaced marketplace is retired, not cut off: it can still pay out the
/// escrow it holds, but never receive nor draw on the treasury.
contract Registry is AccessControl, IRegistry {
    /// @notice A community and its contracts; `admin` is the community's governor (its token's default admin).
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
    mapping(uint256 communityId => address marketplace) private _proposedMarketplace;

    /// @notice The notary and reward models were already set.
    error RegistryCoreAlreadySet();
    /// @notice Communities can be created only after {setCore}.
    error RegistryCoreNotSet();
    /// @notice The community `communityId` does not exist.
    error RegistryUnknownCommunity(uint256 communityId);
    /// @notice Name and symbol must be non-empty and every admin non-zero.
    error RegistryInvalidCommunity();
    /// @notice A zero address was given where a contract is needed.
    error RegistryZeroAddress();
    /// @notice `marketplace` is not a marketplace of community `communityId` (no code, or another token or id).
    error RegistryInvalidMarketplace(uint256 communityId, address marketplace);
    /// @notice `marketplace` is not the one the platform admin proposed for community `communityId`.
    error RegistryMarketplaceNotProposed(uint256 communityId, address marketplace);
    /// @notice Only the governor of community `communityId` (its token's default admin) may accept a marketplace.
    error RegistryNotCommunityGovernor(uint256 communityId, address account);

    /// @notice The notary and reward-model registry were set.
    event CoreSet(address notary, address rewardModels);
    /// @notice Community `communityId` was created with its token; `admin` is its governor.
    event CommunityCreated(uint256 indexed communityId, string name, address token, address indexed admin);
    /// @notice The platform admin proposed `marketplace` for community `communityId`; its governor must accept.
    event MarketplaceProposed(uint256 indexed communityId, address current, address marketplace);
    /// @notice The marketplace of community `communityId` changed; `previous` is retired.
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

    /// @notice Creates a community whose every role (governor included) goes to the one key `admin`: for a
    /// demo or a first setup; the governor then hands the roles to their own keys (docs/security.md).
    /// @dev Community ids start at 1. Emits a {CommunityCreated} event.
    function createCommunity(string calldata name, string calldata symbol, address admin)
        external
        onlyRole(PLATFORM_ADMIN_ROLE)
        returns (uint256 communityId, address token)
    {
        return _createCommunity(name, symbol, CommunityRoles.Admins(admin, admin, admin, admin, admin));
    }

    /// @notice Creates a community with its roles split among `admins`: the governor (a multisig or timelock)
    /// holds only the default admin role, and each day-to-day key only its own role.
    /// @dev Community ids start at 1. Emits a {CommunityCreated} event.
    function createCommunityWithAdmins(
        string calldata name,
        string calldata symbol,
        CommunityRoles.Admins calldata admins
    )
        external
        onlyRole(PLATFORM_ADMIN_ROLE)
        returns (uint256 communityId, address token)
    {
        return _createCommunity(name, symbol, admins);
    }

    /// @notice Proposes `marketplace`, a Marketplace deployed for the community's token, as the community's
    /// marketplace; it is registered only once the community's governor calls {acceptMarketplace}.
    /// @dev Emits a {MarketplaceProposed} event.
    function setMarketplace(uint256 communityId, address marketplace) external onlyRole(PLATFORM_ADMIN_ROLE) {
        if (marketplace == address(0)) revert RegistryZeroAddress();
        Community storage c = _community(communityId);
        _checkMarketplace(communityId, c.token, marketplace);
        _proposedMarketplace[communityId] = marketplace;
        emit MarketplaceProposed(communityId, c.marketplace, marketplace);
    }

    /// @notice The community's governor accepts the proposed `marketplace`: it is registered with the token, and
    /// the previous one is retired (it keeps paying out its escrow, never receives nor draws on the treasury).
    /// @dev Emits a {MarketplaceSet} event.
    function acceptMarketplace(uint256 communityId, address marketplace) external {
        Community storage c = _community(communityId);
        CommunityToken token = CommunityToken(c.token);
        if (!token.hasRole(token.DEFAULT_ADMIN_ROLE(), msg.sender)) {
            revert RegistryNotCommunityGovernor(communityId, msg.sender);
        }
        if (marketplace == address(0) || _proposedMarketplace[communityId] != marketplace) {
            revert RegistryMarketplaceNotProposed(communityId, marketplace);
        }
        delete _proposedMarketplace[communityId];
        address previous = c.marketplace;
        c.marketplace = marketplace;
        emit MarketplaceSet(communityId, previous, marketplace);
        if (previous != address(0)) token.setCommunityContract(previous, false);
        token.setCommunityContract(marketplace, true);
    }

    /// @notice The marketplace proposed for community `communityId` and not yet accepted (zero when none).
    function proposedMarketplace(uint256 communityId) external view returns (address) {
        return _proposedMarketplace[communityId];
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

    function _createCommunity(string calldata name, string calldata symbol, CommunityRoles.Admins memory admins)
        private
        returns (uint256 communityId, address token)
    {
        if (notary == address(0)) revert RegistryCoreNotSet();
        if (
            bytes(name).length == 0 || bytes(symbol).length == 0 || admins.governor == address(0)
                || admins.communityAdmin == address(0) || admins.tokenAdmin == address(0)
                || admins.oracleAdmin == address(0) || admins.relayer == address(0)
        ) {
            revert RegistryInvalidCommunity();
        }
        communityId = _communities.length + 1;
        token = address(new CommunityToken(name, symbol, communityId, address(this), INotary(notary), admins));
        _communities.push(Community(name, token, address(0), admins.governor, uint64(block.timestamp)));
        emit CommunityCreated(communityId, name, token, admins.governor);
    }

    /// @dev A contract whose `token()` and `communityId()` name this community. That alone does not prove it is
    /// the audited Marketplace: the governor checks its code before accepting (docs/security.md).
    function _checkMarketplace(uint256 communityId, address token, address marketplace) private view {
        if (marketplace.code.length == 0) revert RegistryInvalidMarketplace(communityId, marketplace);
        try IMarketplace(marketplace).token() returns (address marketToken) {
            if (marketToken != token) revert RegistryInvalidMarketplace(communityId, marketplace);
        } catch {
            revert RegistryInvalidMarketplace(communityId, marketplace);
        }
        try IMarketplace(marketplace).communityId() returns (uint256 marketCommunity) {
            if (marketCommunity != communityId) revert RegistryInvalidMarketplace(communityId, marketplace);
        } catch {
            revert RegistryInvalidMarketplace(communityId, marketplace);
        }
    }

    function _community(uint256 communityId) private view returns (Community storage) {
        if (communityId == 0 || communityId > _communities.length) revert RegistryUnknownCommunity(communityId);
        return _communities[communityId - 1];
    }
}

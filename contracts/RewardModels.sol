// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {CommunityRoles} from "./interfaces/ICommunityRoles.sol";
import {IRewardModels} from "./interfaces/IRewardModels.sol";

/// @title RewardModels
/// @notice Versioned reward models of the oracle. A model's parameters are stored in clear, as canonical
/// JSON, next to their hash, so that anyone can recompute a reward from the data and the chain alone.
/// A registered version never changes; a change of parameters is a new version of the same name.
contract RewardModels is AccessControl, IRewardModels {
    /// @notice A registered model version.
    struct Model {
        string name;
        string kind;
        uint256 version;
        string params;
        bytes32 paramsHash;
        uint64 registeredAt;
        address registeredBy;
    }

    bytes32 public constant ORACLE_ADMIN_ROLE = CommunityRoles.ORACLE_ADMIN;

    Model[] private _models;
    mapping(bytes32 nameHash => uint256 modelId) private _latestByName;

    /// @notice The model `modelId` does not exist.
    error RewardModelsUnknownModel(uint256 modelId);
    /// @notice Name, kind and parameters must all be non-empty.
    error RewardModelsEmptyField(string field);

    /// @notice A model version was registered. `params` is the canonical JSON of its parameters.
    event ModelRegistered(
        uint256 indexed modelId, string name, uint256 version, string kind, bytes32 paramsHash, string params
    );

    /// @notice Grants the default admin and the oracle-admin role to `admin`.
    constructor(address admin) {
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _grantRole(ORACLE_ADMIN_ROLE, admin);
    }

    /// @notice Registers a new version of the model `name`. Model ids start at 1.
    /// @dev `params` should be canonical JSON (sorted keys, no spaces, integers only); its keccak256 is stored.
    /// Emits a {ModelRegistered} event.
    /// @return modelId the id of the new version.
    function registerModel(string calldata name, string calldata kind, string calldata params)
        external
        onlyRole(ORACLE_ADMIN_ROLE)
        returns (uint256 modelId)
    {
        if (bytes(name).length == 0) revert RewardModelsEmptyField("name");
        if (bytes(kind).length == 0) revert RewardModelsEmptyField("kind");
        if (bytes(params).length == 0) revert RewardModelsEmptyField("params");
        bytes32 nameHash = keccak256(bytes(name));
        uint256 previous = _latestByName[nameHash];
        uint256 version = previous == 0 ? 1 : _models[previous - 1].version + 1;
        bytes32 paramsHash = keccak256(bytes(params));
        _models.push(Model(name, kind, version, params, paramsHash, uint64(block.timestamp), msg.sender));
        modelId = _models.length;
        _latestByName[nameHash] = modelId;
        emit ModelRegistered(modelId, name, version, kind, paramsHash, params);
    }

    /// @notice The model version `modelId`.
    function model(uint256 modelId) external view returns (Model memory) {
        if (!exists(modelId)) revert RewardModelsUnknownModel(modelId);
        return _models[modelId - 1];
    }

    /// @notice The id of the latest version of the model `name` (0 when none).
    function latestModelId(string calldata name) external view returns (uint256) {
        return _latestByName[keccak256(bytes(name))];
    }

    /// @notice Number of registered model versions (the highest model id).
    function modelCount() external view returns (uint256) {
        return _models.length;
    }

    /// @inheritdoc IRewardModels
    function exists(uint256 modelId) public view returns (bool) {
        return modelId != 0 && modelId <= _models.length;
    }
}

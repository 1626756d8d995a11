// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";
import {CommunityRoles} from "./interfaces/ICommunityRoles.sol";
import {INotary, IPeriodListener} from "./interfaces/INotary.sol";
import {IRegistry} from "./interfaces/IRegistry.sol";
import {IRewardModels} from "./interfaces/IRewardModels.sol";

/// @title Notary
/// @notice Append-only record of the oracle's settlement periods. For each community and period
/// (`periodId` = local date as YYYYMMDD) the oracle notarises the Merkle root of the members' salted
/// device-day commitments, the root of the rewards tree, the hash of the community aggregates and the
/// reward model used. A correction is a new version that names the old one and a reason; nothing is
/// overwritten. The cost of a record does not depend on the number of members.
contract Notary is INotary {
    /// @notice One version of a period record, packed into five storage slots.
    struct PeriodRecord {
        bytes32 dataRoot;
        bytes32 rewardsRoot;
        bytes32 aggregatesHash;
        uint128 totalRewards;
        uint64 leafCount;
        uint64 publishedAt;
        address publisher;
        uint64 modelId;
        uint32 version;
    }

    /// @notice The closing record of a community poll (the living lab's one-member-one-vote ballots).
    struct PollRecord {
        bytes32 ballotsRoot;
        bytes32 tallyHash;
        uint64 ballotCount;
        uint64 publishedAt;
        address publisher;
    }

    bytes32 public constant ORACLE_ADMIN_ROLE = CommunityRoles.ORACLE_ADMIN;
    bytes32 public constant COMMUNITY_ADMIN_ROLE = CommunityRoles.COMMUNITY_ADMIN;

    /// @notice The platform registry, which knows each community's token (and so its oracle admins).
    IRegistry public immutable registry;
    /// @notice The registry of reward models a record may reference.
    IRewardModels public immutable rewardModels;

    mapping(uint256 communityId => mapping(uint256 periodId => PeriodRecord[])) private _records;
    mapping(uint256 communityId => mapping(uint256 pollId => PollRecord)) private _polls;

    /// @notice The community `communityId` does not exist.
    error NotaryUnknownCommunity(uint256 communityId);
    /// @notice `account` is not an oracle admin of community `communityId`.
    error NotaryUnauthorized(uint256 communityId, address account);
    /// @notice `periodId` is not a date written as YYYYMMDD.
    error NotaryInvalidPeriod(uint256 periodId);
    /// @notice The period was already notarised: publish a correction instead.
    error NotaryPeriodExists(uint256 communityId, uint256 periodId, uint256 version);
    /// @notice The period was never notarised, so there is nothing to correct or read.
    error NotaryPeriodNotFound(uint256 communityId, uint256 periodId);
    /// @notice The record version does not exist.
    error NotaryVersionNotFound(uint256 communityId, uint256 periodId, uint256 version);
    /// @notice The reward model is not registered in RewardModels.
    error NotaryUnknownModel(uint256 modelId);
    /// @notice A record with rewards must have a rewards root, and one with leaves a data root.
    error NotaryMissingRoot(string root);
    /// @notice A value does not fit its packed field.
    error NotaryValueTooLarge(string field, uint256 value);
    /// @notice A correction must say why it was made.
    error NotaryEmptyReason();
    /// @notice `account` is not a community admin of community `communityId`.
    error NotaryNotCommunityAdmin(uint256 communityId, address account);
    /// @notice The poll's result was already notarised; a poll's result is never replaced.
    error NotaryPollExists(uint256 communityId, uint256 pollId);
    /// @notice The poll's result was never notarised.
    error NotaryPollNotFound(uint256 communityId, uint256 pollId);
    /// @notice A poll result needs its tally hash, and a ballots root when it counts ballots.
    error NotaryEmptyPoll(uint256 communityId, uint256 pollId);

    /// @notice A period record (first version or correction) was notarised.
    event PeriodNotarised(
        uint256 indexed communityId,
        uint256 indexed periodId,
        uint256 version,
        bytes32 dataRoot,
        bytes32 rewardsRoot,
        bytes32 aggregatesHash,
        uint256 indexed modelId,
        uint256 totalRewards,
        uint256 leafCount
    );

    /// @notice Version `version` of a period corrects `previousVersion` for `reason`.
    event PeriodCorrected(
        uint256 indexed communityId, uint256 indexed periodId, uint256 version, uint256 previousVersion, string reason
    );

    /// @notice The result of poll `pollId` of a community was notarised.
    event PollNotarised(
        uint256 indexed communityId, uint256 indexed pollId, bytes32 ballotsRoot, bytes32 tallyHash, uint256 ballotCount
    );

    /// @notice Binds the notary to the platform registry and the reward-model registry.
    constructor(IRegistry registry_, IRewardModels rewardModels_) {
        registry = registry_;
        rewardModels = rewardModels_;
    }

    /// @notice Notarises the first version of a period record and opens the period's claims on the token.
    /// @dev The caller must hold `oracle-admin` on the community's token. Emits a {PeriodNotarised} event.
    /// @return version always 1.
    function notarise(
        uint256 communityId,
        uint256 periodId,
        bytes32 dataRoot,
        bytes32 rewardsRoot,
        bytes32 aggregatesHash,
        uint256 modelId,
        uint256 totalRewards,
        uint256 leafCount
    ) external returns (uint256 version) {
        uint256 existing = _records[communityId][periodId].length;
        if (existing != 0) revert NotaryPeriodExists(communityId, periodId, existing);
        version = _append(communityId, periodId, dataRoot, rewardsRoot, aggregatesHash, modelId, totalRewards, leafCount);
        IPeriodListener(registry.tokenOf(communityId)).openPeriod(periodId);
    }

    /// @notice Notarises a correction of a period: a new version; earlier versions stay readable.
    /// @dev The caller must hold `oracle-admin` on the community's token.
    /// Emits a {PeriodNotarised} and a {PeriodCorrected} event.
    /// @return version the new version number.
    function correct(
        uint256 communityId,
        uint256 periodId,
        bytes32 dataRoot,
        bytes32 rewardsRoot,
        bytes32 aggregatesHash,
        uint256 modelId,
        uint256 totalRewards,
        uint256 leafCount,
        string calldata reason
    ) external returns (uint256 version) {
        uint256 previous = _records[communityId][periodId].length;
        if (previous == 0) revert NotaryPeriodNotFound(communityId, periodId);
        if (bytes(reason).length == 0) revert NotaryEmptyReason();
        version = _append(communityId, periodId, dataRoot, rewardsRoot, aggregatesHash, modelId, totalRewards, leafCount);
        emit PeriodCorrected(communityId, periodId, version, previous, reason);
    }

    /// @notice The latest version of a period (0 when it was never notarised).
    function latestVersion(uint256 communityId, uint256 periodId) external view returns (uint256) {
        return _records[communityId][periodId].length;
    }

    /// @notice Version `version` (from 1) of a period record.
    function record(uint256 communityId, uint256 periodId, uint256 version)
        external
        view
        returns (PeriodRecord memory)
    {
        return _record(communityId, periodId, version);
    }

    /// @notice The latest version of a period record.
    function latest(uint256 communityId, uint256 periodId) external view returns (PeriodRecord memory) {
        uint256 count = _records[communityId][periodId].length;
        if (count == 0) revert NotaryPeriodNotFound(communityId, periodId);
        return _records[communityId][periodId][count - 1];
    }

    /// @inheritdoc INotary
    function latestRewards(uint256 communityId, uint256 periodId)
        external
        view
        returns (uint256 version, bytes32 rewardsRoot, uint256 totalRewards)
    {
        PeriodRecord[] storage versions = _records[communityId][periodId];
        version = versions.length;
        if (version == 0) return (0, bytes32(0), 0);
        PeriodRecord storage rec = versions[version - 1];
        return (version, rec.rewardsRoot, rec.totalRewards);
    }

    /// @notice Whether a device-day commitment `(deviceKey, readingsHash)` is a leaf of the data tree of a version.
    /// @dev Leaves follow OpenZeppelin's StandardMerkleTree with encoding `["bytes32","bytes32"]`.
    function verifyDataLeaf(
        uint256 communityId,
        uint256 periodId,
        uint256 version,
        bytes32 deviceKey,
        bytes32 readingsHash,
        bytes32[] calldata proof
    ) external view returns (bool) {
        bytes32 leaf = keccak256(bytes.concat(keccak256(abi.encode(deviceKey, readingsHash))));
        return MerkleProof.verifyCalldata(proof, _record(communityId, periodId, version).dataRoot, leaf);
    }

    /// @notice Whether `(account, amount)` is a leaf of the rewards tree of a version.
    /// @dev Leaves follow OpenZeppelin's StandardMerkleTree with encoding `["address","uint256"]`.
    function verifyRewardLeaf(
        uint256 communityId,
        uint256 periodId,
        uint256 version,
        address account,
        uint256 amount,
        bytes32[] calldata proof
    ) external view returns (bool) {
        bytes32 leaf = keccak256(bytes.concat(keccak256(abi.encode(account, amount))));
        return MerkleProof.verifyCalldata(proof, _record(communityId, periodId, version).rewardsRoot, leaf);
    }

    /// @notice Notarises the closing record of a community poll: the Merkle root of its salted ballot leaves,
    /// the hash of its tally and the number of ballots counted. Once per poll; nothing is overwritten.
    /// @dev The caller must hold `community-admin` on the community's token. Leaves follow OpenZeppelin's
    /// StandardMerkleTree with encoding `["bytes32","uint256"]` (ballot key, choice); docs/living-lab.md.
    /// Emits a {PollNotarised} event.
    function notarisePoll(uint256 communityId, uint256 pollId, bytes32 ballotsRoot, bytes32 tallyHash, uint256 ballotCount)
        external
    {
        address token = registry.tokenOf(communityId);
        if (token == address(0)) revert NotaryUnknownCommunity(communityId);
        if (!IAccessControl(token).hasRole(COMMUNITY_ADMIN_ROLE, msg.sender)) {
            revert NotaryNotCommunityAdmin(communityId, msg.sender);
        }
        if (_polls[communityId][pollId].publishedAt != 0) revert NotaryPollExists(communityId, pollId);
        if (tallyHash == bytes32(0) || (ballotCount != 0 && ballotsRoot == bytes32(0))) {
            revert NotaryEmptyPoll(communityId, pollId);
        }
        if (ballotCount > type(uint64).max) revert NotaryValueTooLarge("ballotCount", ballotCount);
        _polls[communityId][pollId] = PollRecord({
            ballotsRoot: ballotsRoot,
            tallyHash: tallyHash,
            ballotCount: uint64(ballotCount),
            publishedAt: uint64(block.timestamp),
            publisher: msg.sender
        });
        emit PollNotarised(communityId, pollId, ballotsRoot, tallyHash, ballotCount);
    }

    /// @notice The notarised result of a poll.
    function pollRecord(uint256 communityId, uint256 pollId) external view returns (PollRecord memory) {
        PollRecord memory rec = _polls[communityId][pollId];
        if (rec.publishedAt == 0) revert NotaryPollNotFound(communityId, pollId);
        return rec;
    }

    /// @notice Whether the ballot `(ballotKey, choice)` is a leaf of a poll's notarised ballots tree.
    /// @dev `ballotKey = keccak256(abi.encode(salt, voter, pollId))`; the salt stays with the voter and the API.
    function verifyBallotLeaf(
        uint256 communityId,
        uint256 pollId,
        bytes32 ballotKey,
        uint256 choice,
        bytes32[] calldata proof
    ) external view returns (bool) {
        PollRecord storage rec = _polls[communityId][pollId];
        if (rec.publishedAt == 0) revert NotaryPollNotFound(communityId, pollId);
        bytes32 leaf = keccak256(bytes.concat(keccak256(abi.encode(ballotKey, choice))));
        return MerkleProof.verifyCalldata(proof, rec.ballotsRoot, leaf);
    }

    function _append(
        uint256 communityId,
        uint256 periodId,
        bytes32 dataRoot,
        bytes32 rewardsRoot,
        bytes32 aggregatesHash,
        uint256 modelId,
        uint256 totalRewards,
        uint256 leafCount
    ) private returns (uint256 version) {
        _checkPublisher(communityId);
        if (!_isDate(periodId)) revert NotaryInvalidPeriod(periodId);
        if (!rewardModels.exists(modelId)) revert NotaryUnknownModel(modelId);
        if (totalRewards != 0 && rewardsRoot == bytes32(0)) revert NotaryMissingRoot("rewardsRoot");
        if (leafCount != 0 && dataRoot == bytes32(0)) revert NotaryMissingRoot("dataRoot");
        // 2^96 - 1 units (79 billion tokens) per period: the token packs each account's claim into 96 bits.
        if (totalRewards > type(uint96).max) revert NotaryValueTooLarge("totalRewards", totalRewards);
        if (leafCount > type(uint64).max) revert NotaryValueTooLarge("leafCount", leafCount);
        if (modelId > type(uint64).max) revert NotaryValueTooLarge("modelId", modelId);
        version = _records[communityId][periodId].length + 1;
        _records[communityId][periodId].push(
            PeriodRecord({
                dataRoot: dataRoot,
                rewardsRoot: rewardsRoot,
                aggregatesHash: aggregatesHash,
                totalRewards: uint128(totalRewards),
                leafCount: uint64(leafCount),
                publishedAt: uint64(block.timestamp),
                publisher: msg.sender,
                modelId: uint64(modelId),
                version: uint32(version)
            })
        );
        emit PeriodNotarised(
            communityId, periodId, version, dataRoot, rewardsRoot, aggregatesHash, modelId, totalRewards, leafCount
        );
    }

    function _checkPublisher(uint256 communityId) private view {
        address token = registry.tokenOf(communityId);
        if (token == address(0)) revert NotaryUnknownCommunity(communityId);
        if (!IAccessControl(token).hasRole(ORACLE_ADMIN_ROLE, msg.sender)) {
            revert NotaryUnauthorized(communityId, msg.sender);
        }
    }

    function _record(uint256 communityId, uint256 periodId, uint256 version)
        private
        view
        returns (PeriodRecord storage)
    {
        PeriodRecord[] storage versions = _records[communityId][periodId];
        if (version == 0 || version > versions.length) revert NotaryVersionNotFound(communityId, periodId, version);
        return versions[version - 1];
    }

    /// @dev A plausible calendar date YYYYMMDD between the years 2000 and 2999 (day-of-month checked loosely).
    function _isDate(uint256 periodId) private pure returns (bool) {
        uint256 year = periodId / 10000;
        uint256 month = (periodId / 100) % 100;
        uint256 day = periodId % 100;
        return year >= 2000 && year <= 2999 && month >= 1 && month <= 12 && day >= 1 && day <= 31;
    }
}

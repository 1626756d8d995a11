// What the verifier reads from the chain, through any JSON-RPC endpoint. The ABIs are written by hand from
// contracts/Notary.sol and contracts/RewardModels.sol: an auditor needs no artefact of this repository.
import { Contract, FetchRequest, Interface, JsonRpcProvider, Network } from 'ethers';

export const NOTARY_ABI = [
  'function record(uint256 communityId, uint256 periodId, uint256 version) view returns ' +
    '(tuple(bytes32 dataRoot, bytes32 rewardsRoot, bytes32 aggregatesHash, uint128 totalRewards, uint64 leafCount, ' +
    'uint64 publishedAt, address publisher, uint64 modelId, uint32 version))',
  'function latestVersion(uint256 communityId, uint256 periodId) view returns (uint256)',
  'function verifyDataLeaf(uint256 communityId, uint256 periodId, uint256 version, bytes32 deviceKey, ' +
    'bytes32 readingsHash, bytes32[] proof) view returns (bool)',
  'function verifyRewardLeaf(uint256 communityId, uint256 periodId, uint256 version, address account, ' +
    'uint256 amount, bytes32[] proof) view returns (bool)',
  'event PeriodNotarised(uint256 indexed communityId, uint256 indexed periodId, uint256 version, bytes32 dataRoot, ' +
    'bytes32 rewardsRoot, bytes32 aggregatesHash, uint256 indexed modelId, uint256 totalRewards, uint256 leafCount)',
];

export const REWARD_MODELS_ABI = [
  'function model(uint256 modelId) view returns (tuple(string name, string kind, uint256 version, string params, ' +
    'bytes32 paramsHash, uint64 registeredAt, address registeredBy))',
];

export const notaryInterface = new Interface(NOTARY_ABI);

/** A provider that never guesses the network (the `chain` check asks for it) and gives up on a dead node. */
export function connect(url) {
  const request = new FetchRequest(url);
  request.timeout = 30000;
  const network = Network.from(1n); // a placeholder: nothing network-specific is used
  const provider = new JsonRpcProvider(request, network, { staticNetwork: network, batchMaxCount: 1 });
  return provider;
}

export function contracts(provider, addresses) {
  return {
    notary: new Contract(addresses.Notary, NOTARY_ABI, provider),
    models: new Contract(addresses.RewardModels, REWARD_MODELS_ABI, provider),
  };
}

// With every member's bundle of one period (`--period`), what no single bundle can show: the members' own
// values add up to the community aggregates, the rewards are exactly the split of docs/rewards.md (not "the floor
// or one more"), and the two trees rebuilt from all the leaves have the notarised roots. Run only after every
// bundle passed its own checks (so each bundle's record, aggregates and model are those on chain).
import { StandardMerkleTree } from '@openzeppelin/merkle-tree';
import { getAddress } from 'ethers';
import { CheckFailed } from './checks.mjs';
import { parseParams } from './json.mjs';
import { hourly, largestRemainder, memberSeries, uncappedReward } from './rewards.mjs';

const ZERO = `0x${'00'.repeat(32)}`;
const fail = (detail) => {
  throw new CheckFailed(detail);
};
const canon = (x) => JSON.stringify(x, (_, v) => (typeof v === 'bigint' ? v.toString() : v));
const sameList = (mine, theirs) => mine.length === theirs.length && mine.every((x, k) => x === BigInt(theirs[k]));

export const PERIOD_CHECKS = [
  [
    'period-bundles',
    async ({ bundles }) => {
      const first = bundles[0];
      for (const key of [
        'chainId',
        'contracts',
        'communityId',
        'periodId',
        'notarisation',
        'model',
        'record',
        'aggregates',
      ]) {
        const odd = bundles.find((b) => canon(b[key]) !== canon(first[key]));
        if (odd) fail(`the bundle of ${odd.member.account} has another ${key}`);
      }
      const accounts = new Set(bundles.map((b) => getAddress(b.member.account)));
      if (accounts.size !== bundles.length) fail('two bundles are of the same member');
      return `${bundles.length} bundles of community ${first.communityId}, period ${first.periodId}, version ${first.notarisation.version}`;
    },
  ],
  [
    'period-roots',
    async ({ bundles }) => {
      const { record } = bundles[0];
      const data = bundles.flatMap((b) => b.devices.map((d) => [d.leaf[0], d.leaf[1]]));
      if (data.length !== Number(record.leafCount))
        fail(`the bundles hold ${data.length} device leaves, the record ${record.leafCount}`);
      const dataRoot = data.length ? StandardMerkleTree.of(data, ['bytes32', 'bytes32']).root : ZERO;
      if (dataRoot !== String(record.dataRoot).toLowerCase()) fail(`the device leaves build ${dataRoot}, not dataRoot`);
      const rewards = bundles
        .filter((b) => b.reward)
        .map((b) => [getAddress(b.member.account), BigInt(b.reward.amount)]);
      const rewardsRoot = rewards.length ? StandardMerkleTree.of(rewards, ['address', 'uint256']).root : ZERO;
      if (rewardsRoot !== String(record.rewardsRoot).toLowerCase())
        fail(`the reward leaves build ${rewardsRoot}, not rewardsRoot`);
      return `both trees rebuilt from ${data.length} device and ${rewards.length} reward leaves`;
    },
  ],
  [
    'period-aggregates',
    async ({ bundles }) => {
      const agg = bundles[0].aggregates;
      const n = agg.communityLoad.length;
      const zeros = (k) => Array.from({ length: k }, () => 0n);
      const [L, P, I, W] = [zeros(n), zeros(n), zeros(agg.hourlyShared.length), zeros(agg.hourlyShared.length)];
      for (const b of bundles) {
        const s = memberSeries(b.devices, n);
        s.L.forEach((x, t) => (L[t] += x));
        s.P.forEach((x, t) => (P[t] -= x));
        hourly(s.inj).forEach((x, h) => (I[h] += x));
        hourly(s.wdr).forEach((x, h) => (W[h] += x));
      }
      const S = I.map((x, h) => (x < W[h] ? x : W[h]));
      const wrong = [
        ['communityLoad', L],
        ['communityProduction', P],
        ['hourlyInjection', I],
        ['hourlyWithdrawal', W],
        ['hourlyShared', S],
      ].filter(([name, mine]) => !sameList(mine, agg[name]));
      if (wrong.length) fail(`the members' values do not add up to ${wrong.map(([name]) => name).join(', ')}`);
      return "the members' values add up to the community aggregates";
    },
  ],
  [
    'period-rewards',
    async ({ bundles }) => {
      const { model, aggregates, record } = bundles[0];
      const params = parseParams(model.params);
      const u = new Map();
      for (const b of bundles) {
        const { u: ui } = uncappedReward({
          kind: model.kind,
          params,
          member: b.member,
          devices: b.devices,
          aggregates,
        });
        u.set(getAddress(b.member.account), ui);
      }
      const U = [...u.values()].reduce((a, b) => a + b, 0n);
      if (U !== BigInt(aggregates.uncappedTotal))
        fail(`the members' rewards add up to ${U}, uncappedTotal is ${aggregates.uncappedTotal}`);
      const split = largestRemainder(u, params.max_per_period);
      for (const b of bundles) {
        const account = getAddress(b.member.account);
        const amount = b.reward ? BigInt(b.reward.amount) : 0n;
        if (amount !== split.get(account)) fail(`${account} is paid ${amount}, the split gives ${split.get(account)}`);
      }
      const total = [...split.values()].reduce((a, b) => a + b, 0n);
      if (total !== BigInt(record.totalRewards))
        fail(`the rewards add up to ${total}, totalRewards is ${record.totalRewards}`);
      return `${bundles.length} rewards are exactly the split of ${U > params.max_per_period ? `the cap ${params.max_per_period}` : `${U}`}`;
    },
  ],
];

// With every member's bundle of one period (`--period`), what no single bundle can show: the members' own
// values add up to the community aggregates, the rewards are exactly the split of docs/rewards.md (not "the floor
// or one more"), and the two trees rebuilt from all the leaves have the notarised roots. Run only after every
// bundle passed its own checks (so each bundle's record, aggregates and model are those on chain).
import { StandardMerkleTree } from '@openzeppelin/merkle-tree';
import { getAddress } from 'ethers';
import { CheckFailed } from './checks.mjs';
import { parseParams } from './json.mjs';
import { hourly, largestRemainder, memberSeries, uncappedReward } from './rewards.mjs';
import { eventReward } from './flex.mjs';

const ZERO = `0x${'00'.repeat(32)}`;
const fail = (detail) => {
  throw new CheckFailed(detail);
};
const canon = (x) => JSON.stringify(x, (_, v) => (typeof v === 'bigint' ? v.toString() : v));
const sameList = (mine, theirs) => mine.length === theirs.length && mine.every((x, k) => x === BigInt(theirs[k]));
/** The community part of a bundle's flexibility section (docs/proofs.md §8), the same in every member's bundle. */
const flexCommunity = (f) =>
  f ? { model: f.model, uncappedTotal: f.uncappedTotal, total: f.total, eventLeaves: f.eventLeaves, periodLeaf: f.periodLeaf } : null;
const flexReward = (b) => (b.flexibility ? BigInt(b.flexibility.reward) : 0n);

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
      const flex = canon(flexCommunity(first.flexibility));
      const odd = bundles.find((b) => canon(flexCommunity(b.flexibility)) !== flex);
      if (odd) fail(`the bundle of ${odd.member.account} has other flexibility totals`);
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
      // With flexibility (§8) the data tree also holds every (event, member) leaf and one period leaf.
      const flex = bundles.flatMap((b) => (b.flexibility?.events ?? []).map((e) => [e.leaf[0], e.leaf[1]]));
      if (bundles[0].flexibility) flex.push([...bundles[0].flexibility.periodLeaf]);
      data.push(...flex);
      if (data.length !== Number(record.leafCount))
        fail(`the bundles hold ${data.length} data leaves, the record ${record.leafCount}`);
      const dataRoot = data.length ? StandardMerkleTree.of(data, ['bytes32', 'bytes32']).root : ZERO;
      if (dataRoot !== String(record.dataRoot).toLowerCase()) fail(`the data leaves build ${dataRoot}, not dataRoot`);
      const rewards = bundles
        .filter((b) => b.reward)
        .map((b) => [getAddress(b.member.account), BigInt(b.reward.amount)]);
      const rewardsRoot = rewards.length ? StandardMerkleTree.of(rewards, ['address', 'uint256']).root : ZERO;
      if (rewardsRoot !== String(record.rewardsRoot).toLowerCase())
        fail(`the reward leaves build ${rewardsRoot}, not rewardsRoot`);
      const kinds = flex.length ? `${data.length - flex.length} device, ${flex.length} flexibility` : `${data.length} device`;
      return `both trees rebuilt from ${kinds} and ${rewards.length} reward leaves`;
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
      const flexSplit = flexibilitySplit(bundles);
      for (const b of bundles) {
        const account = getAddress(b.member.account);
        // A leaf is the energy reward plus the flexibility reward (§8).
        const amount = (b.reward ? BigInt(b.reward.amount) : 0n) - flexReward(b);
        if (amount !== split.get(account)) fail(`${account} is paid ${amount}, the split gives ${split.get(account)}`);
        if (flexReward(b) !== (flexSplit.get(account) ?? 0n))
          fail(`${account}'s flexibility reward is ${flexReward(b)}, the split gives ${flexSplit.get(account)}`);
      }
      const total = [...split.values(), ...flexSplit.values()].reduce((a, b) => a + b, 0n);
      if (total !== BigInt(record.totalRewards))
        fail(`the rewards add up to ${total}, totalRewards is ${record.totalRewards}`);
      return `${bundles.length} rewards are exactly the split of ${U > params.max_per_period ? `the cap ${params.max_per_period}` : `${U}`}`;
    },
  ],
];

/** Every member's flexibility reward: its events' rewards summed, Σ equal to the period leaf's uncappedTotal,
 * split over the flexibility budget as energy rewards are (largest remainders, ties to the lower address). */
function flexibilitySplit(bundles) {
  const f = bundles[0].flexibility;
  if (!f) return new Map();
  const params = parseParams(f.model.params);
  const u = new Map();
  for (const b of bundles) {
    const events = b.flexibility.events;
    const mine = events.reduce((a, e) => a + eventReward(params, e.dispatched.map(BigInt), e.delivered.map(BigInt)), 0n);
    u.set(getAddress(b.member.account), mine);
  }
  const U = [...u.values()].reduce((a, b) => a + b, 0n);
  if (U !== BigInt(f.uncappedTotal))
    fail(`the members' flexibility rewards add up to ${U}, the flexibility uncappedTotal is ${f.uncappedTotal}`);
  const split = largestRemainder(u, params.max_per_period);
  const total = [...split.values()].reduce((a, b) => a + b, 0n);
  if (total !== BigInt(f.total)) fail(`the flexibility rewards add up to ${total}, the period leaf says ${f.total}`);
  return split;
}

// The checks of docs/proofs.md §6, in order. Each returns a one-line detail when it holds and throws a
// CheckFailed when it does not; the run stops at the first failure.
import { StandardMerkleTree } from '@openzeppelin/merkle-tree';
import { getAddress, keccak256, toUtf8Bytes } from 'ethers';
import { clean } from './clean.mjs';
import { aggregatesHash, deviceKey, imputedMask, readingsHash } from './encoding.mjs';
import { notaryInterface } from './chain.mjs';
import { parseParams } from './json.mjs';
import { periodGrid } from './period.mjs';
import { allowedAmounts, uncappedReward } from './rewards.mjs';
import { FLEX_KIND, checkFlexParams, delivered, eventLeaf, eventReward, periodLeaf } from './flex.mjs';

export const FORMAT = 'lec-proof-bundle';
export const VERSION = 1;

/** A check that does not hold; `check` names another check when that one is the failing one (as `lec verify`
 * decides an event's delivery rule, a `flex-reward` matter, inside its loop over the event leaves). */
export class CheckFailed extends Error {
  constructor(detail, check = null) {
    super(detail);
    this.check = check;
  }
}

const fail = (detail, check = null) => {
  throw new CheckFailed(detail, check);
};

/** Only a bundle of a period with demand-response events has a `flexibility` section (docs/proofs.md §8). */
const hasFlex = ({ bundle }) => Boolean(bundle.flexibility);
const same = (a, b) => String(a).toLowerCase() === String(b).toLowerCase();
const hex = (x) => String(x).toLowerCase();

/** A contract call that reverts is a failed check, not a crash: a forged version or model id is not on chain. */
async function call(what, fn) {
  try {
    return await fn();
  } catch (err) {
    if (err?.code === 'CALL_EXCEPTION') fail(`${what} reverted on chain${err.reason ? `: ${err.reason}` : ''}`);
    throw err;
  }
}

/** The checks, each `[name, async (ctx) => detail, applies?]` (a check whose `applies(ctx)` is false is not run);
 * ctx carries the bundle, the chain and what earlier checks read. */
export const CHECKS = [
  [
    'format',
    async ({ bundle }) => {
      if (bundle?.format !== FORMAT || bundle?.version !== VERSION) fail(`not a ${FORMAT} v${VERSION} file`);
      return `${FORMAT} v${VERSION}`;
    },
  ],
  [
    'chain',
    async ({ bundle, provider }) => {
      const id = BigInt(await provider.send('eth_chainId', []));
      if (id !== BigInt(bundle.chainId)) fail(`the node is chain ${id}, the bundle says ${bundle.chainId}`);
      return `chain id ${id}`;
    },
  ],
  [
    'transaction',
    async ({ bundle, provider }) => {
      const { txHash, block, version } = bundle.notarisation;
      const receipt = await provider.getTransactionReceipt(txHash);
      if (!receipt) fail(`no transaction ${txHash} on this chain`);
      if (receipt.status !== 1) fail(`transaction ${txHash} reverted`);
      if (!same(receipt.to, bundle.contracts.Notary))
        fail(`transaction ${txHash} was sent to ${receipt.to}, not the Notary`);
      if (receipt.blockNumber !== Number(block))
        fail(`transaction ${txHash} is in block ${receipt.blockNumber}, not ${block}`);
      const event = receipt.logs
        .filter((log) => same(log.address, bundle.contracts.Notary))
        .map((log) => {
          try {
            return notaryInterface.parseLog(log);
          } catch {
            return null;
          }
        })
        .find(
          (e) =>
            e?.name === 'PeriodNotarised' &&
            e.args.communityId === BigInt(bundle.communityId) &&
            e.args.periodId === BigInt(bundle.periodId) &&
            e.args.version === BigInt(version),
        );
      if (!event)
        fail(
          `transaction ${txHash} has no PeriodNotarised event for community ${bundle.communityId}, period ${bundle.periodId}, version ${version}`,
        );
      return `${txHash} in block ${block} notarised version ${version}`;
    },
  ],
  [
    'record',
    async (ctx) => {
      const { bundle, notary } = ctx;
      const v = bundle.notarisation.version;
      const rec = await call(`Notary.record(${bundle.communityId}, ${bundle.periodId}, ${v})`, () =>
        notary.record(bundle.communityId, bundle.periodId, v),
      );
      ctx.record = rec;
      const mine = bundle.record;
      const diff = [];
      for (const key of ['dataRoot', 'rewardsRoot', 'aggregatesHash']) if (!same(rec[key], mine[key])) diff.push(key);
      if (rec.totalRewards !== BigInt(mine.totalRewards)) diff.push('totalRewards');
      if (rec.leafCount !== BigInt(mine.leafCount)) diff.push('leafCount');
      if (diff.length) fail(`${diff.join(', ')} differ from version ${v} on chain`);
      return `roots match version ${v} on chain`;
    },
  ],
  [
    'latest-version',
    async ({ bundle, notary }) => {
      const latest = await notary.latestVersion(bundle.communityId, bundle.periodId);
      const v = BigInt(bundle.notarisation.version);
      if (latest !== v) fail(`version ${v} was superseded: the latest is ${latest}`);
      return `version ${v} is the latest`;
    },
  ],
  [
    'model',
    async (ctx) => {
      const { bundle, record, models } = ctx;
      const m = bundle.model;
      if (record.modelId !== BigInt(m.id)) fail(`the record uses model ${record.modelId}, the bundle says ${m.id}`);
      const onChain = await call(`RewardModels.model(${m.id})`, () => models.model(m.id));
      if (onChain.kind !== m.kind) fail(`model ${m.id} is of kind ${onChain.kind}, the bundle says ${m.kind}`);
      if (onChain.params !== m.params) fail(`model ${m.id}'s parameters on chain differ from the bundle's`);
      const hash = keccak256(toUtf8Bytes(onChain.params));
      if (!same(hash, onChain.paramsHash)) fail(`model ${m.id}'s parameters do not hash to its paramsHash`);
      if (!same(hash, m.paramsHash)) fail(`the bundle's paramsHash is not keccak256 of model ${m.id}'s parameters`);
      ctx.params = parseParams(onChain.params);
      return `model ${m.id} (${onChain.kind}, version ${onChain.version}) parameters match`;
    },
  ],
  [
    'aggregates',
    async ({ bundle, record }) => {
      const h = aggregatesHash(bundle.periodId, bundle.aggregates);
      if (!same(h, record.aggregatesHash)) fail(`the aggregates hash to ${h}, the record has ${record.aggregatesHash}`);
      return 'community aggregates hash to the notarised aggregatesHash';
    },
  ],
  [
    'cleaning',
    async ({ bundle }) => {
      const { start, quarters } = periodGrid(bundle.periodId);
      for (const d of bundle.devices) {
        const { allowed, imputed } = clean(d.raw.timestamps, d.raw.values, start, quarters);
        if (d.values.length !== quarters) fail(`${d.deviceId}: ${d.values.length} values, the day has ${quarters}`);
        const bad = d.values.findIndex((v, t) => !allowed[t].includes(BigInt(v)));
        if (bad >= 0) {
          fail(
            `${d.deviceId}: quarter hour ${bad} is committed as ${d.values[bad]}, the readings clean to ${allowed[bad].join(' or ')}`,
          );
        }
        const mask = imputedMask(imputed);
        if (!same(mask, d.imputedMask)) fail(`${d.deviceId}: imputed mask ${d.imputedMask}, the readings give ${mask}`);
      }
      return `${bundle.devices.length} device(s): raw readings clean to the committed values`;
    },
  ],
  [
    'data-leaf',
    async ({ bundle, record, notary }) => {
      const { communityId, periodId, notarisation } = bundle;
      // start and step follow from periodId (docs/proofs.md §1): the bundle's copies are not trusted.
      const { start, step } = periodGrid(periodId);
      for (const d of bundle.devices) {
        const key = deviceKey(d.salt, d.deviceId);
        const rh = readingsHash(d.salt, periodId, start, step, d.values, d.imputedMask);
        if (!same(key, d.leaf[0]) || !same(rh, d.leaf[1]))
          fail(`${d.deviceId}: salt and values do not give the bundle's leaf`);
        if (!StandardMerkleTree.verify(record.dataRoot, ['bytes32', 'bytes32'], [key, rh], d.proof)) {
          fail(`${d.deviceId}: the proof does not reach dataRoot`);
        }
        const onChain = await notary.verifyDataLeaf(communityId, periodId, notarisation.version, key, rh, d.proof);
        if (!onChain) fail(`${d.deviceId}: Notary.verifyDataLeaf refuses the leaf`);
      }
      return `${bundle.devices.length} device leaf(s) proven against dataRoot, locally and by the Notary`;
    },
  ],
  [
    'flex-model',
    async (ctx) => {
      const { bundle, models } = ctx;
      const m = bundle.flexibility.model;
      const onChain = await call(`RewardModels.model(${m.id})`, () => models.model(m.id));
      if (onChain.kind !== FLEX_KIND) fail(`model ${m.id} is of kind ${onChain.kind}, not ${FLEX_KIND}`);
      if (onChain.params !== m.params) fail(`model ${m.id}'s parameters on chain differ from the bundle's`);
      const hash = keccak256(toUtf8Bytes(onChain.params));
      if (!same(hash, onChain.paramsHash)) fail(`model ${m.id}'s parameters do not hash to its paramsHash`);
      if (!same(m.paramsHash ?? '', onChain.paramsHash))
        fail(`the bundle's flexibility paramsHash is not model ${m.id}'s paramsHash`);
      try {
        ctx.flexParams = checkFlexParams(parseParams(onChain.params));
      } catch (err) {
        fail(`model ${m.id} is not a valid flexibility model: ${err.message}`);
      }
      ctx.flexModelId = BigInt(m.id);
      ctx.flexParamsHash = onChain.paramsHash;
      return `flexibility model ${m.id} (version ${onChain.version}) parameters match`;
    },
    hasFlex,
  ],
  [
    'flex-leaf',
    async (ctx) => {
      const { bundle, record, notary, flexModelId, flexParamsHash } = ctx;
      const { communityId, periodId, notarisation } = bundle;
      const f = bundle.flexibility;
      const proven = async (leaf, proof, what) => {
        if (!StandardMerkleTree.verify(record.dataRoot, ['bytes32', 'bytes32'], leaf, proof))
          fail(`${what} is not in the notarised data tree`);
        if (!(await notary.verifyDataLeaf(communityId, periodId, notarisation.version, leaf[0], leaf[1], proof)))
          fail(`Notary.verifyDataLeaf refuses ${what}`);
      };
      const again = periodLeaf(periodId, flexModelId, flexParamsHash, f.uncappedTotal, f.total, f.eventLeaves);
      if (f.periodLeaf.length !== 2 || !same(again[0], f.periodLeaf[0]) || !same(again[1], f.periodLeaf[1]))
        fail("the flexibility totals do not give the bundle's flexibility period leaf");
      await proven(again, f.periodProof, 'the flexibility period leaf');
      let uncapped = 0n;
      for (const e of f.events) {
        const series = ['baseline', 'metered', 'dispatched', 'delivered'].map((k) => e[k].map(BigInt));
        if (new Set(series.map((x) => x.length)).size !== 1)
          fail(`event ${e.event}: baseline, metered, dispatched and delivered differ in length`);
        const leaf = eventLeaf(e.salt, e.event, bundle.member.account, periodId, e.start, flexModelId, ...series);
        if (e.leaf.length !== 2 || !same(leaf[0], e.leaf[0]) || !same(leaf[1], e.leaf[1]))
          fail(`salt and series of event ${e.event} do not give the bundle's leaf`);
        await proven(leaf, e.proof, `the leaf of event ${e.event}`);
        const [baseline, metered, dispatched, given] = series;
        const rule = delivered(baseline, metered, dispatched);
        if (rule.some((x, t) => x !== given[t]))
          fail(`event ${e.event}: the delivery is not min(max(baseline − metered, 0), dispatched)`, 'flex-reward');
        uncapped += eventReward(ctx.flexParams, dispatched, given);
      }
      ctx.flexUncapped = uncapped;
      return `${f.events.length} event leaf(s) and the flexibility period leaf proven against dataRoot`;
    },
    hasFlex,
  ],
  [
    'flex-reward',
    async (ctx) => {
      const { bundle, flexParams, flexUncapped } = ctx;
      const f = bundle.flexibility;
      const amount = BigInt(f.reward);
      const U = BigInt(f.uncappedTotal);
      const { capped, amounts } = allowedAmounts(flexUncapped, U, flexParams.max_per_period);
      if (!amounts.includes(amount)) {
        fail(
          `recomputed ${amounts.join(' or ')}${capped ? ` (capped: ${flexUncapped} of ${U} scaled to ${flexParams.max_per_period})` : ''}, the bundle says ${amount}`,
        );
      }
      const leafAmount = bundle.reward ? BigInt(bundle.reward.amount) : 0n;
      if (amount > leafAmount) fail(`the reward leaf (${leafAmount}) is below the flexibility reward ${amount}`);
      ctx.flexAmount = amount;
      return `recomputed flexibility reward ${amount} token units`;
    },
    hasFlex,
  ],
  [
    'reward',
    async (ctx) => {
      const { bundle, params } = ctx;
      if (!('max_per_period' in params)) fail('the model has no max_per_period');
      const { u } = uncappedReward({
        kind: bundle.model.kind,
        params,
        member: bundle.member,
        devices: bundle.devices,
        aggregates: bundle.aggregates,
      });
      const leafAmount = bundle.reward ? BigInt(bundle.reward.amount) : 0n;
      ctx.amount = leafAmount;
      // With flexibility (§8) the leaf is energy + flexibility reward: the energy part is what is left.
      const flex = ctx.flexAmount ?? 0n;
      const amount = leafAmount - flex;
      const U = BigInt(bundle.aggregates.uncappedTotal);
      const { capped, amounts } = allowedAmounts(u, U, params.max_per_period);
      if (!amounts.includes(amount)) {
        fail(
          `recomputed ${amounts.join(' or ')}${capped ? ` (capped: ${u} of ${U} scaled to ${params.max_per_period})` : ''}, the leaf says ${amount}${bundle.flexibility ? ` after its flexibility reward ${flex}` : ''}`,
        );
      }
      const parts = bundle.flexibility ? ` (${amount} energy + ${flex} flexibility)` : '';
      return capped
        ? `capped reward ${leafAmount} token units${parts}: ${u} of ${U} scaled to ${params.max_per_period} (floor ${amounts[0]})`
        : `recomputed reward ${leafAmount} token units${parts}`;
    },
  ],
  [
    'reward-leaf',
    async ({ bundle, record, notary, amount }) => {
      if (!bundle.reward) {
        if (amount !== 0n) fail('the bundle has no reward leaf');
        return 'no reward leaf: the member earned nothing this period';
      }
      const account = getAddress(bundle.member.account);
      const leaf = bundle.reward.leaf;
      if (!same(leaf[0], account) || BigInt(leaf[1]) !== amount)
        fail('the reward leaf is not (member account, amount)');
      if (
        !StandardMerkleTree.verify(record.rewardsRoot, ['address', 'uint256'], [account, amount], bundle.reward.proof)
      ) {
        fail('the proof does not reach rewardsRoot');
      }
      const { communityId, periodId, notarisation } = bundle;
      const onChain = await notary.verifyRewardLeaf(
        communityId,
        periodId,
        notarisation.version,
        account,
        amount,
        bundle.reward.proof,
      );
      if (!onChain) fail('Notary.verifyRewardLeaf refuses the leaf');
      return 'reward leaf proven against rewardsRoot, locally and by the Notary';
    },
  ],
];

export const CHECK_NAMES = CHECKS.map(([name]) => name);

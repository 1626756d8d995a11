// Flexibility (demand response) in the period's notarisation, from docs/proofs.md §8: the event and period
// leaves of the data tree, the delivery rule and a member's flexibility reward. Every amount is a BigInt.
import { AbiCoder, getAddress, keccak256 } from 'ethers';

const abi = AbiCoder.defaultAbiCoder();

export const FLEX_KIND = 'flexibility';
export const FLEX_KEYS = ['rate', 'min_performance_bps', 'max_per_period'];
const BPS = 10000n;
const WH_PER_KWH = 1000n;

/** (flexKey, flexHash) of one member's delivery in one event. */
export function eventLeaf(salt, event, account, periodId, start, modelId, baseline, metered, dispatched, delivered) {
  const key = keccak256(abi.encode(['bytes32', 'string', 'address'], [salt, event, getAddress(account)]));
  const hash = keccak256(
    abi.encode(
      ['bytes32', 'uint256', 'uint256', 'uint256', 'int64[]', 'int64[]', 'int64[]', 'int64[]'],
      [salt, BigInt(periodId), BigInt(start), BigInt(modelId), baseline, metered, dispatched, delivered],
    ),
  );
  return [key, hash];
}

/** (periodKey, periodHash): the one unsalted flexibility leaf of a period with events. */
export function periodLeaf(periodId, modelId, paramsHash, uncappedTotal, total, eventLeaves) {
  const key = keccak256(abi.encode(['string', 'uint256'], ['lec-flex-period', BigInt(periodId)]));
  const hash = keccak256(
    abi.encode(
      ['uint256', 'uint256', 'bytes32', 'uint256', 'uint256', 'uint256'],
      [BigInt(periodId), BigInt(modelId), paramsHash, BigInt(uncappedTotal), BigInt(total), BigInt(eventLeaves)],
    ),
  );
  return [key, hash];
}

const max0 = (x) => (x > 0n ? x : 0n);
const min = (x, y) => (x < y ? x : y);
const sum = (xs) => xs.reduce((a, b) => a + b, 0n);

/** Per quarter hour: min(max(baseline − metered, 0), max(dispatched, 0)), in Wh. */
export function delivered(baseline, metered, dispatched) {
  return baseline.map((b, t) => min(max0(b - metered[t]), max0(dispatched[t])));
}

/** One event's reward before the budget: rate · Σ delivered // 1000 when something was dispatched and
 * Σ delivered · 10 000 ≥ min_performance_bps · Σ dispatched, else 0. */
export function eventReward(params, dispatched, deliveredWh) {
  const asked = sum(dispatched);
  if (asked <= 0n) return 0n;
  const got = sum(deliveredWh);
  if (got * BPS < params.min_performance_bps * asked) return 0n;
  // got >= 0 here (the delivery rule is checked first), so BigInt's truncation is the floor.
  return (params.rate * got) / WH_PER_KWH;
}

/** The flexibility model's parameters (BigInts from parseParams): exactly the three keys, the floor a share. */
export function checkFlexParams(params) {
  const missing = FLEX_KEYS.filter((k) => !(k in params));
  const unknown = Object.keys(params).filter((k) => !FLEX_KEYS.includes(k));
  if (missing.length || unknown.length)
    throw new Error(`missing ${missing.join(', ') || 'nothing'}, unknown ${unknown.join(', ') || 'none'}`);
  if (params.min_performance_bps > BPS) throw new Error('min_performance_bps is above 10 000 basis points');
  return params;
}

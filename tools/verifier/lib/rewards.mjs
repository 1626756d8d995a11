// The reward of one member, from docs/rewards.md. Every quantity is a BigInt and every division a floor
// (BigInt division truncates, and every dividend here is non-negative).
import { MISSING } from './encoding.mjs';

const max0 = (x) => (x > 0n ? x : 0n);
const min = (x, y) => (x < y ? x : y);

/** A committed value as a BigInt, a missing quarter hour as 0 ("nothing is paid for what was not measured"). */
const wh = (v) => {
  const x = BigInt(v);
  return x === MISSING ? 0n : x;
};

/**
 * The member's per-quarter-hour series from its devices' committed values (the report's sign convention):
 * load L(t) >= 0 and production P(t) >= 0 (battery netted in: charge adds to L, discharge to P), and the grid
 * exchange inj(t), wdr(t): the exchange meter's readings when the member has one, else max(P-L,0), max(L-P,0).
 * A member with only exchange meters gets L = withdrawal, P = injection.
 */
export function memberSeries(devices, n) {
  const zeros = () => Array.from({ length: n }, () => 0n);
  const L = zeros();
  const P = zeros();
  const xInj = zeros();
  const xWdr = zeros();
  let hasExchange = false;
  let hasOwn = false; // a load, production or storage meter
  for (const d of devices) {
    if (d.values.length !== n) throw new Error(`device ${d.deviceId} has ${d.values.length} values, the period ${n}`);
    const v = d.values.map(wh);
    switch (d.quantity) {
      case 'load':
        hasOwn = true;
        v.forEach((x, t) => (L[t] += x));
        break;
      case 'production':
        hasOwn = true;
        v.forEach((x, t) => (P[t] += -x));
        break;
      case 'storage':
        hasOwn = true;
        v.forEach((x, t) => {
          L[t] += max0(x);
          P[t] += max0(-x);
        });
        break;
      case 'exchange':
        hasExchange = true;
        v.forEach((x, t) => {
          xWdr[t] += max0(x);
          xInj[t] += max0(-x);
        });
        break;
      default:
        break; // weather and anything else carry no energy
    }
  }
  if (hasExchange && !hasOwn) {
    for (let t = 0; t < n; t++) {
      L[t] = xWdr[t];
      P[t] = xInj[t];
    }
  }
  const inj = hasExchange ? xInj : L.map((l, t) => max0(P[t] - l));
  const wdr = hasExchange ? xWdr : L.map((l, t) => max0(l - P[t]));
  return { L, P, inj, wdr };
}

/** Sums of 4 consecutive quarter hours (clock hours; 23, 24 or 25 of them). */
export function hourly(series) {
  const out = [];
  for (let t = 0; t < series.length; t += 4) out.push(series.slice(t, t + 4).reduce((a, b) => a + b, 0n));
  return out;
}

/** The common terms of docs/rewards.md for one member. */
export function terms(series, agg) {
  const { L, P, inj, wdr } = series;
  const S = agg.hourlyShared.map(BigInt);
  const I = agg.hourlyInjection.map(BigInt);
  const W = agg.hourlyWithdrawal.map(BigInt);
  const injH = hourly(inj);
  const wdrH = hourly(wdr);
  if (injH.length !== S.length || I.length !== S.length || W.length !== S.length) {
    throw new Error(`the member has ${injH.length} hours, the aggregates ${S.length}`);
  }
  let sc = 0n;
  for (let t = 0; t < L.length; t++) sc += min(L[t], P[t]);
  let sp = 0n;
  let sw = 0n;
  for (let h = 0; h < S.length; h++) {
    if (I[h] !== 0n) sp += (1000n * S[h] * injH[h]) / I[h];
    if (W[h] !== 0n) sw += (1000n * S[h] * wdrH[h]) / W[h];
  }
  const E = L.reduce((a, b) => a + b, 0n);
  const peak = L.reduce((a, b) => (b > a ? b : a), 0n);
  const n = BigInt(L.length);
  const PAR = E === 0n ? 0n : (10000n * n * peak) / E;
  const sharedTotal = S.reduce((a, b) => a + b, 0n);
  return { sc, sp, sw, E, PAR, sharedTotal };
}

const param = (params, name) => {
  if (!(name in params)) throw new Error(`the model has no parameter ${name}`);
  return BigInt(params[name]);
};

function selfConsumption(t, p) {
  return (param(p, 'a') * 1000n * t.sc + param(p, 'b') * t.sp + param(p, 'c') * t.sw) / 1000000n;
}

function noPeaks(t, p) {
  if (t.E === 0n) return 0n;
  const ref = param(p, 'par_ref_bps');
  return (param(p, 'rate') * t.E * max0(ref - t.PAR)) / (1000n * ref);
}

/** u_i: the member's reward before the budget cap, bonus included, 0 when inactive. */
export function uncappedReward({ kind, params, member, devices, aggregates }) {
  if (!member.active) return { u: 0n, terms: null };
  const n = aggregates.communityLoad.length;
  const t = terms(memberSeries(devices, n), aggregates);
  let r;
  if (kind === 'self-consumption') r = selfConsumption(t, params);
  else if (kind === 'no-peaks') r = noPeaks(t, params);
  else if (kind === 'combined') {
    r =
      (param(params, 'w_sc_bps') * selfConsumption(t, params) + param(params, 'w_peak_bps') * noPeaks(t, params)) /
      10000n;
  } else throw new Error(`unknown model kind ${kind}`);
  if (t.sharedTotal > 0n) {
    const bonus = params[`bonus_${member.profile}`];
    if (bonus !== undefined) r += BigInt(bonus);
  }
  return { u: r, terms: t };
}

/**
 * The amounts the rules allow for this member: [u] when U <= max_per_period, else the floor of the capped share
 * cap*u/U and one unit more (the largest-remainder unit depends on the other members' remainders).
 */
export function allowedAmounts(u, uncappedTotal, maxPerPeriod) {
  const U = BigInt(uncappedTotal);
  const cap = BigInt(maxPerPeriod);
  if (U <= cap) return { capped: false, amounts: [u] };
  const floor = (cap * u) / U;
  return { capped: true, amounts: [floor, floor + 1n] };
}

/**
 * The whole period's split (for an auditor holding every member's bundle): each member's u_i when the total is
 * within the cap, else the largest-remainder split of the cap — floor(cap*u_i/U) each, and the units left over one
 * each to the largest remainders cap*u_i mod U, ties by ascending account address (as a number).
 */
export function largestRemainder(uByAccount, maxPerPeriod) {
  const cap = BigInt(maxPerPeriod);
  const U = [...uByAccount.values()].reduce((a, b) => a + b, 0n);
  if (U <= cap) return new Map(uByAccount);
  const out = new Map();
  const remainders = [];
  let given = 0n;
  for (const [account, u] of uByAccount) {
    const share = (cap * u) / U;
    out.set(account, share);
    given += share;
    remainders.push([account, (cap * u) % U]);
  }
  remainders.sort(([a, ra], [b, rb]) => (ra !== rb ? (ra > rb ? -1 : 1) : BigInt(a) < BigInt(b) ? -1 : 1));
  for (let k = 0n; k < cap - given; k++) {
    const [account] = remainders[Number(k)];
    out.set(account, out.get(account) + 1n);
  }
  return out;
}

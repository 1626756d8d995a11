#!/usr/bin/env node
// The auditor's second verifier of a LEC proof bundle, written from docs/proofs.md and docs/rewards.md only.
// Usage: node tools/verifier/verify.mjs BUNDLE.json [MORE.json …] [--period] [--rpc URL] [--json]   (README.md beside it)
import { readFileSync } from 'node:fs';
import { contracts, connect } from './lib/chain.mjs';
import { CHECKS, CheckFailed } from './lib/checks.mjs';
import { parseJson } from './lib/json.mjs';
import { PERIOD_CHECKS } from './lib/period-checks.mjs';

const USAGE = 'usage: node tools/verifier/verify.mjs BUNDLE.json [MORE.json …] [--period] [--rpc URL] [--json]';

function parseArgs(argv) {
  const opts = { rpc: process.env.LEC_RPC_URL || 'http://127.0.0.1:8545', json: false, period: false, files: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--json') opts.json = true;
    else if (a === '--period') opts.period = true;
    else if (a === '--rpc') {
      if (i + 1 >= argv.length) throw new Error("option '--rpc' needs a URL");
      opts.rpc = argv[++i];
    } else if (a.startsWith('--rpc=')) opts.rpc = a.slice(6);
    else if (a === '--help' || a === '-h') opts.help = true;
    else if (a.startsWith('-')) throw new Error(`unknown option ${a}`);
    else opts.files.push(a);
  }
  if (!opts.help && opts.files.length === 0) throw new Error('missing BUNDLE.json');
  return opts;
}

/** A node that does not answer is not a failed check: nothing could be verified. */
function unreachable(err) {
  const text = `${err?.code ?? ''} ${err?.message ?? ''} ${err?.cause?.code ?? ''} ${err?.error?.code ?? ''}`;
  return /ECONNREFUSED|ENOTFOUND|EAI_AGAIN|ECONNRESET|ETIMEDOUT|TIMEOUT|NETWORK_ERROR|fetch failed|bad response|socket hang up/i.test(
    text,
  );
}

/** Run the checks in order; stop at the first that fails. */
export async function verify(bundle, rpc) {
  const provider = connect(rpc);
  try {
    return await runChecks(CHECKS, { bundle, provider }, rpc);
  } finally {
    provider.destroy();
  }
}

/** Run `list` in order against `ctx`; stop at the first check that fails. */
async function runChecks(list, ctx, rpc) {
  const checks = [];
  for (const [name, check, applies] of list) {
    if (name === 'record') Object.assign(ctx, contracts(ctx.provider, ctx.bundle.contracts));
    try {
      if (applies && !applies(ctx)) continue;
      checks.push({ name, ok: true, detail: await check(ctx) });
    } catch (err) {
      if (err instanceof CheckFailed) {
        const failed = err.check ?? name;
        checks.push({ name: failed, ok: false, detail: err.message });
        return { ok: false, checks, failed, error: null };
      }
      if (unreachable(err)) {
        const error = `Cannot reach the chain node at ${rpc} (${err.shortMessage ?? err.message}): check --rpc`;
        return { ok: false, checks, failed: null, error };
      }
      // Anything else (a field missing or of the wrong type, a contract that answers nonsense) fails the check.
      checks.push({ name, ok: false, detail: `cannot check: ${err.shortMessage ?? err.message}` });
      return { ok: false, checks, failed: name, error: null };
    }
  }
  return { ok: true, checks, failed: null, error: null };
}

async function main() {
  let opts;
  try {
    opts = parseArgs(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`${err.message}\n${USAGE}\n`);
    return 2;
  }
  if (opts.help) {
    const names = (list) => list.map(([n]) => n).join(', ');
    process.stdout.write(`${USAGE}\nChecks, in order: ${names(CHECKS)}; with --period then ${names(PERIOD_CHECKS)}.\n`);
    process.stdout.write('See tools/verifier/README.md.\n');
    return 0;
  }
  // Several bundles (all the members of a period, say) are verified one after the other in one process.
  const many = opts.files.length > 1;
  let status = 0;
  const bundles = [];
  for (const file of opts.files) {
    let result;
    try {
      const bundle = parseJson(readFileSync(file, 'utf8'));
      result = await verify(bundle, opts.rpc);
      bundles.push(bundle);
    } catch (err) {
      if (!(err instanceof SyntaxError || err.code === 'ENOENT' || err.code === 'EISDIR')) throw err;
      result = { ok: false, checks: [], failed: null, error: `${file} is not a JSON bundle (${err.message})` };
    }
    if (many && !opts.json) process.stdout.write(`== ${file}\n`);
    status = Math.max(status, report(result, opts.json, many ? file : null));
  }
  if (opts.period) {
    // The period checks need every bundle to hold on its own first (then each one's record is the chain's).
    const result =
      status === 0
        ? await runChecks(PERIOD_CHECKS, { bundles }, opts.rpc)
        : { ok: false, checks: [], failed: null, error: 'a bundle failed its own checks: the period is not checked' };
    if (!opts.json) process.stdout.write('== the period, from all the bundles\n');
    status = Math.max(status, report(result, opts.json, 'period'));
  }
  return status;
}

function report(result, json, file) {
  if (json) {
    const { ok, checks, failed, error } = result;
    const out = { ...(file === null ? {} : { bundle: file }), ok, checks, failed, ...(error ? { error } : {}) };
    process.stdout.write(`${JSON.stringify(out)}\n`);
  } else {
    for (const c of result.checks) process.stdout.write(`${c.ok ? 'ok  ' : 'FAIL'} ${c.name.padEnd(17)} ${c.detail}\n`);
    if (result.ok && file === 'period')
      process.stdout.write('All period checks hold: every leaf, aggregate and reward is accounted for.\n');
    else if (result.ok)
      process.stdout.write("All checks hold: the member's data and reward match what is notarised on chain.\n");
    else if (result.error) process.stderr.write(`Error: ${result.error}\n`);
    else process.stderr.write(`Verification failed at check '${result.failed}': ${result.checks.at(-1).detail}.\n`);
  }
  return result.ok ? 0 : 1;
}

process.exitCode = await main();

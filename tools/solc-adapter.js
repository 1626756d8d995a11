#!/usr/bin/env node
// Answers the command line of a native solc with solc-js (wasm), so that tools expecting a
// native binary (ape-solidity through py-solc-x, forge, slither through crytic-compile) compile
// offline with the npm package. Only the flags those tools use are implemented.
'use strict';
const fs = require('fs');
const path = require('path');
const solc = require('solc');

function parseArgs(argv) {
  const opts = { basePath: null, includePaths: [], allowPaths: [], standardJson: false, version: false, files: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const takeValue = () => {
      if (a.includes('=')) return a.slice(a.indexOf('=') + 1);
      i += 1;
      return argv[i];
    };
    if (a === '--version' || a === '-v') opts.version = true;
    else if (a === '--standard-json') opts.standardJson = true;
    else if (a.startsWith('--base-path')) opts.basePath = takeValue();
    else if (a.startsWith('--include-path')) opts.includePaths.push(takeValue());
    else if (a.startsWith('--allow-paths')) opts.allowPaths.push(...takeValue().split(','));
    else if (a === '--no-color' || a === '--pretty-json') continue;
    else if (a.startsWith('-')) {
      process.stderr.write(`solc-adapter: unsupported option ${a}\n`);
      process.exit(2);
    } else opts.files.push(a);
  }
  return opts;
}

function nativeVersion() {
  // solc-js reports e.g. 0.8.28+commit.7893614a.Emscripten.clang; tools parse the native form.
  return solc.version().replace(/\.Emscripten\.clang$/, '.Linux.g++');
}

function makeImportCallback(roots) {
  return function findImports(importPath) {
    const candidates = path.isAbsolute(importPath) ? [importPath] : roots.map((r) => path.resolve(r, importPath));
    for (const candidate of candidates) {
      if (fs.existsSync(candidate) && fs.statSync(candidate).isFile()) {
        return { contents: fs.readFileSync(candidate, 'utf8') };
      }
    }
    return { error: `File not found: ${importPath} (searched ${roots.join(', ')})` };
  };
}

function main() {
  const opts = parseArgs(process.argv.slice(2));
  if (opts.version) {
    process.stdout.write(`solc, the solidity compiler commandline interface\nVersion: ${nativeVersion()}\n`);
    return;
  }
  if (!opts.standardJson) {
    process.stderr.write('solc-adapter: only --version and --standard-json are supported\n');
    process.exit(2);
  }
  const input = fs.readFileSync(0, 'utf8');
  const roots = [opts.basePath || process.cwd(), ...opts.includePaths, ...opts.allowPaths, process.cwd()];
  const output = solc.compile(input, { import: makeImportCallback(roots) });
  process.stdout.write(output);
}

main();

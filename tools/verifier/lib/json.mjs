// A JSON parser that keeps every integer exactly: a bundle carries token amounts above 2**53
// (record.totalRewards, aggregates.uncappedTotal), which JSON.parse would round.
// Integers within Number.MAX_SAFE_INTEGER are Numbers, larger ones BigInts; numbers with a fraction or an
// exponent are Numbers. NaN, Infinity and -Infinity (Python's json writes them) are accepted as Numbers.

export function parseJson(text) {
  let i = 0;
  const fail = (what) => {
    throw new SyntaxError(`${what} at character ${i}`);
  };
  const ws = () => {
    while (i < text.length && ' \t\n\r'.includes(text[i])) i++;
  };
  const literal = (word, value) => {
    if (text.startsWith(word, i)) {
      i += word.length;
      return value;
    }
    return fail(`unexpected ${JSON.stringify(text[i] ?? 'end of text')}`);
  };
  const string = () => {
    const begin = i;
    i++; // opening quote
    while (i < text.length && text[i] !== '"') i += text[i] === '\\' ? 2 : 1;
    if (i >= text.length) fail('unterminated string');
    i++;
    return JSON.parse(text.slice(begin, i));
  };
  const number = () => {
    const m = /^-?(?:0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(text.slice(i, i + 400));
    if (!m) fail('bad number');
    i += m[0].length;
    if (m[1] === undefined && m[2] === undefined) {
      const big = BigInt(m[0]);
      return big <= BigInt(Number.MAX_SAFE_INTEGER) && big >= -BigInt(Number.MAX_SAFE_INTEGER) ? Number(big) : big;
    }
    return Number(m[0]);
  };
  const value = () => {
    ws();
    const c = text[i];
    if (c === '{') {
      i++;
      const out = {};
      ws();
      if (text[i] === '}') {
        i++;
        return out;
      }
      for (;;) {
        ws();
        if (text[i] !== '"') fail('expected a key');
        const key = string();
        ws();
        if (text[i] !== ':') fail("expected ':'");
        i++;
        out[key] = value();
        ws();
        if (text[i] === ',') i++;
        else if (text[i] === '}') {
          i++;
          return out;
        } else fail("expected ',' or '}'");
      }
    }
    if (c === '[') {
      i++;
      const out = [];
      ws();
      if (text[i] === ']') {
        i++;
        return out;
      }
      for (;;) {
        out.push(value());
        ws();
        if (text[i] === ',') i++;
        else if (text[i] === ']') {
          i++;
          return out;
        } else fail("expected ',' or ']'");
      }
    }
    if (c === '"') return string();
    if (c === 't') return literal('true', true);
    if (c === 'f') return literal('false', false);
    if (c === 'n') return literal('null', null);
    if (c === 'N') return literal('NaN', NaN);
    if (c === 'I') return literal('Infinity', Infinity);
    if (c === '-' && text[i + 1] === 'I') return literal('-Infinity', -Infinity);
    return number();
  };
  const out = value();
  ws();
  if (i !== text.length) fail('trailing characters');
  return out;
}

/** The reward model's canonical parameters: a flat JSON object of non-negative integers, as BigInts. */
export function parseParams(text) {
  const params = parseJson(text);
  if (params === null || typeof params !== 'object' || Array.isArray(params))
    throw new Error('parameters are not a JSON object');
  const out = {};
  for (const [k, v] of Object.entries(params)) {
    if (!(typeof v === 'bigint' || Number.isInteger(v)) || v < 0)
      throw new Error(`parameter ${k} is not a non-negative integer`);
    out[k] = BigInt(v);
  }
  return out;
}

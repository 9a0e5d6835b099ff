import fc from 'fast-check';
import { parseJson, quoteUnsafeIntegers } from './payload-reader';

/** What parseJson promises: JSON.parse, with unsafe integers as their exact digits. */
function expected(value: unknown): unknown {
  if (typeof value === 'number' && Number.isInteger(value) && !Number.isSafeInteger(value)) {
    const text = JSON.stringify(value);
    return /e/i.test(text) ? value : text;
  }
  if (Array.isArray(value)) {
    return value.map(expected);
  }
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, expected(v)]));
  }
  return value;
}

describe(parseJson.name, () => {
  it.each([
    ['9007199254740993', '9007199254740993'],
    ['-9007199254740993', '-9007199254740993'],
    ['9007199254740992', '9007199254740992'],
    ['12345678901234567890123', '12345678901234567890123'],
  ])('keeps the exact digits of %s', (literal, digits) => {
    expect(parseJson(`{"data":{"id":${literal}}}`)).toEqual({ data: { id: digits } });
    expect(parseJson(`[${literal},${literal}]`)).toEqual([digits, digits]);
    expect(parseJson(literal)).toBe(digits);
  });

  it('leaves safe integers, fractions, exponents and strings alone', () => {
    expect(parseJson('[9007199254740991,-9007199254740991,1e400,12345678901234567.5,1]')).toEqual([
      9007199254740991,
      -9007199254740991,
      Infinity,
      Number('12345678901234567.5'),
      1,
    ]);
    expect(parseJson('{"a":"9007199254740993","b":"\\"9007199254740993"}')).toEqual({
      a: '9007199254740993',
      b: '"9007199254740993',
    });
  });

  it('is not fooled by escapes, quotes and digits inside strings and keys', () => {
    const text =
      '{"x\\\\":9007199254740993,"\\"12345678901234567890\\"":"\\\\","k":[" \\\\\\" 99999999999999999 ",' +
      '99999999999999999],"\\u0022":12345678901234567890}';
    expect(parseJson(text)).toEqual({
      'x\\': '9007199254740993',
      '"12345678901234567890"': '\\',
      k: [' \\" 99999999999999999 ', '99999999999999999'],
      '"': '12345678901234567890',
    });
  });

  it('answers JSON.parse for any JSON value, unsafe integers aside', () => {
    fc.assert(
      fc.property(
        fc.jsonValue({
          depthSize: 'small',
          maxDepth: 4,
        }),
        fc.bigInt({ min: -(10n ** 25n), max: 10n ** 25n }),
        (value, big) => {
          const text = JSON.stringify(value);
          expect(parseJson(text)).toEqual(expected(JSON.parse(text)));
          // The same with an exact big integer put beside it.
          const withBig = `[${text},${big}]`;
          const parsed = parseJson(withBig) as unknown[];
          const safe =
            big >= BigInt(Number.MIN_SAFE_INTEGER) && big <= BigInt(Number.MAX_SAFE_INTEGER);
          expect(parsed[1]).toEqual(safe ? Number(big) : big.toString());
        },
      ),
      { numRuns: 500 },
    );
  });

  it('keeps the text as is when nothing is unsafe, and fails as JSON.parse does', () => {
    const text = '{"id": 1234567890123456, "at": "99999999999999999999"}';
    expect(quoteUnsafeIntegers(text)).toBe(text);
    expect(() => parseJson('{"id": 99999999999999999999')).toThrow(SyntaxError);
  });
});

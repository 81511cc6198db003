import { valuesAgree } from '../../src/activities/engine/validation-check';

describe('valuesAgree on integers: exact', () => {
  it.each([
    ['300000', '300000'],
    [300000, '300000'],
    ['-7', -7],
    ['0', 0],
  ])('%j equals %j', (expected, actual) => {
    expect(valuesAgree(expected, actual, 0)).toBe(true);
  });

  it('tells apart integers above 2^53 that differ by one, as ClickHouse sends them (strings)', () => {
    expect(2 ** 53 + 1 === 2 ** 53).toBe(true); // the trap: as numbers they would compare equal
    expect(valuesAgree('9007199254740993', '9007199254740992', 0)).toBe(false);
    expect(valuesAgree('18446744073709551615', '18446744073709551614', 1e-9)).toBe(false);
  });

  it('agrees on equal integers above 2^53', () => {
    expect(valuesAgree('18446744073709551615', '18446744073709551615', 0)).toBe(true);
  });

  it('ignores the tolerance for integers: off by one in a billion is still a mismatch', () => {
    expect(valuesAgree('1000000000', '1000000001', 1e-6)).toBe(false);
  });
});

describe('valuesAgree on floats: within a relative tolerance', () => {
  it('agrees on sums that differ only in the last bits from summation order', () => {
    expect(0.1 + 0.2).not.toBe(0.3);
    expect(valuesAgree(0.1 + 0.2, 0.3, 1e-9)).toBe(true);
    expect(valuesAgree('149876.12345678901', '149876.12345678897', 1e-9)).toBe(true);
  });

  it('refuses a difference larger than the tolerance, relative to the larger value', () => {
    expect(valuesAgree('100.0', '100.2', 1e-3)).toBe(false);
    expect(valuesAgree('100.0', '100.09', 1e-3)).toBe(true);
    expect(valuesAgree('1e12', '1.000000001e12', 1e-9)).toBe(true);
    expect(valuesAgree('1e12', '1.00000001e12', 1e-9)).toBe(false);
  });

  it('compares an integer with a float by value', () => {
    expect(valuesAgree('3', '3.0', 0)).toBe(true);
    expect(valuesAgree('3', '3.5', 0.1)).toBe(false);
  });

  it('with zero tolerance, agrees only on equal values', () => {
    expect(valuesAgree('0.5', '0.5', 0)).toBe(true);
    expect(valuesAgree('0.5', '0.5000001', 0)).toBe(false);
    expect(valuesAgree('0', '0.0', 0)).toBe(true);
  });

  it('never agrees on a value that is not a number', () => {
    expect(valuesAgree('nan', 'nan', 1)).toBe(false);
    expect(valuesAgree('1.5', 'abc', 1)).toBe(false);
  });
});

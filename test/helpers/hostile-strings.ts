/** A small deterministic PRNG (mulberry32), so the generated cases are the same on every run. */
function prng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Hostile strings: fixed classics plus generated ones, each with a marker (`Zq9`) that the renderer never
 * emits, and each with at least one character outside the plain-name alphabet.
 */
export function hostileStrings(): string[] {
  const fixed = [
    "Zq9'; DROP TABLE events; --",
    'Zq9`; DROP TABLE events; --',
    'Zq9" OR 1=1',
    'Zq9 events',
    'Zq9;events',
    'Zq9\\`',
    'Zq9{x:Identifier}',
    'Zq9/* */',
    'Zq9\nSELECT 1',
    'Zq9.events',
    'Zq9\u0000',
    'Zq9é',
  ];
  const alphabet = [...'\'"`; \n\t\\{}()-*/.,:aZ0_%?'];
  const random = prng(20240229);
  const generated = Array.from({ length: 200 }, () => {
    const length = 1 + Math.floor(random() * 12);
    let s = 'Zq9';
    for (let i = 0; i < length; i++) s += alphabet[Math.floor(random() * alphabet.length)];
    return /^[A-Za-z0-9_]*$/.test(s) ? `${s}'` : s;
  });
  return [...fixed, ...generated];
}

/** `undefined` when `render` throws an error matching `refusal`, else what it did instead. */
export function notRefused(render: () => unknown, refusal: RegExp): string | undefined {
  try {
    return `rendered ${JSON.stringify(render())}`;
  } catch (err) {
    return refusal.test((err as Error).message) ? undefined : `threw ${(err as Error).message}`;
  }
}

/**
 * Polls `read` until `accept` holds or `ms` pass, and returns the last value read: the test then asserts on it, so a
 * condition that never comes fails with what was seen. The default bound is generous (a loaded CI machine is several
 * times slower than a quiet one) and below mocha's 30 s test timeout; a bound costs time only when the test fails.
 */
export async function eventually<T>(read: () => T, accept: (v: T) => boolean, ms = 20_000): Promise<T> {
  const until = Date.now() + ms;
  let value = read();
  while (!accept(value) && Date.now() < until) {
    await new Promise((r) => setTimeout(r, 100));
    value = read();
  }
  return value;
}

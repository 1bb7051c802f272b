/**
 * Records keyed by data. Labels, column names and vocabulary tokens come from files anyone may write, and a key such
 * as "__proto__", "constructor" or "toString" must be an ordinary key: assigning `record["__proto__"]` on a plain
 * object changes its prototype instead of adding the key, and reading `record["constructor"]` finds Object's. So
 * code keeps such collections in a Map, builds the JSON records it writes (events, config.json, CLI output) with
 * `recordOf`, and reads records, built here or parsed from JSON, with `ownValue` / `mapOfRecord`: own keys only.
 */

/**
 * A record of `entries`, in their order, every key an own property ("__proto__" included): the same object
 * JSON.parse gives for its JSON text.
 */
export function recordOf<T>(entries: Iterable<readonly [string, T]>): Record<string, T> {
  return Object.fromEntries(entries);
}

/** `record[key]` when `key` is the record's own key (never something inherited from Object.prototype). */
export function ownValue<T>(record: Readonly<Record<string, T>> | undefined, key: string): T | undefined {
  return record !== undefined && Object.prototype.hasOwnProperty.call(record, key) ? record[key] : undefined;
}

/** The own entries of a record as a Map. */
export function mapOfRecord<T>(record: Readonly<Record<string, T>>): Map<string, T> {
  return new Map(Object.entries(record));
}

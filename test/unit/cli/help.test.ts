/**
 * `bertft help` and every subcommand's `--help`, taken from the CLI's own command table: each exits 0, every line fits
 * the help width, every flag is listed with at least two spaces before its description (or alone on its line, the
 * description below it), and each flag's whole description is there.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { runCli } from '../../../src/cli/main';
import type { CliIo } from '../../../src/cli/output';
import { COMMANDS } from '../../../src/cli/commands';
import { HELP_WIDTH, wrapText } from '../../../src/cli/help';
import { packageVersion } from '../../../src/core/util/package-version';
import type { FlagSpec } from '../../../src/cli/args';

async function cli(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const io: CliIo & { out: string; err: string } = {
    out: '',
    err: '',
    stderrIsTTY: false,
    stdout: (t: string) => {
      io.out += t;
    },
    stderr: (t: string) => {
      io.err += t;
    },
  };
  const code = await runCli(argv, io);
  return { code, out: io.out, err: io.err };
}

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const words = (s: string) => s.split(/\s+/).filter((w) => w !== '');

function assertWidth(out: string, what: string): void {
  for (const line of out.split('\n')) {
    assert.ok(line.length <= HELP_WIDTH, `${what}: a line of ${line.length} > ${HELP_WIDTH} characters: "${line}"`);
  }
}

/** The lines of one flag's entry: its own line, then the continuation lines indented past the flag column. */
function flagEntry(lines: readonly string[], spec: FlagSpec): { head: string; continuation: string[] } {
  const at = lines.findIndex((l) => new RegExp(`^  --${escape(spec.name)}( |$)`).test(l));
  assert.ok(at >= 0, `--${spec.name} is listed`);
  const continuation: string[] = [];
  for (let i = at + 1; i < lines.length && /^ {3,}\S/.test(lines[i]) && !/^ {2}--/.test(lines[i]); i++) {
    continuation.push(lines[i]);
  }
  return { head: lines[at], continuation };
}

for (const [command, spec] of Object.entries(COMMANDS)) {
  test(`bertft ${command} --help: exit 0, lines of at most ${HELP_WIDTH} characters, flag column apart`, async () => {
    const r = await cli(command, '--help');
    assert.equal(r.code, 0, r.err);
    assert.equal(r.err, '');
    assertWidth(r.out, `${command} --help`);
    assert.match(r.out, new RegExp(`^Usage: bertft ${command} \\[flags\\]\n`));
    assert.deepEqual(words(r.out.split('\n\n')[0]).slice(4), words(spec.summary), 'the whole summary');

    const lines = r.out.split('\n');
    const columns = new Set<number>();
    for (const flag of spec.flags) {
      const { head, continuation } = flagEntry(lines, flag);
      // The flag with its value list, then either the end of the line or two spaces and the description.
      const usage = /^ {2}(--\S+(?: <[^>]+>)?)(?: {2,}(\S.*))?$/.exec(head);
      assert.ok(usage, `--${flag.name}: the flag and its description are two columns apart: "${head}"`);
      const choices = flag.choices ? ` <${flag.choices.join('|')}>` : '';
      if (flag.choices) assert.equal(usage[1], `--${flag.name}${choices}`, 'the value list whole');
      const described = [usage[2] ?? '', ...continuation.map((l) => l.trim())].join(' ');
      assert.deepEqual(words(described), words(flag.help), `--${flag.name}: its whole description`);
      if (usage[2] === undefined) assert.ok(continuation.length > 0, `--${flag.name}: description below the flag`);
      const starts = [
        ...(usage[2] === undefined ? [] : [head.indexOf(usage[2], usage[1].length + 2)]),
        ...continuation.map((l) => l.length - l.trimStart().length),
      ];
      for (const s of starts) columns.add(s);
    }
    assert.equal(columns.size, 1, `every description starts in one column (${[...columns].join(', ')})`);
  });
}

test('bertft train --help: the --truncation value list does not run into its description (#18)', async () => {
  const r = await cli('train', '--help');
  assert.doesNotMatch(r.out, /<head\|head\+tail\|window>\S/);
  assert.match(r.out, /--truncation <head\|head\+tail\|window>(\n {3,}| {2,})how long texts are cut/);
});

test('bertft help: every command with its whole summary, within the width', async () => {
  const r = await cli('help');
  assert.equal(r.code, 0);
  assertWidth(r.out, 'help');
  const flat = words(r.out).join(' ');
  for (const [command, spec] of Object.entries(COMMANDS)) {
    assert.match(r.out, new RegExp(`^  ${command} {2,}\\S`, 'm'), `${command} and its summary two columns apart`);
    assert.ok(flat.includes(`${command} ${words(spec.summary).join(' ')}`), `${command}: the whole summary`);
  }
});

test('bertft --version (and -v, version) prints the version of package.json', async () => {
  const manifest = path.resolve(__dirname, '..', '..', '..', '..', 'package.json');
  const { version } = JSON.parse(fs.readFileSync(manifest, 'utf8')) as { version: string };
  assert.equal(packageVersion(), version);
  for (const argv of [['--version'], ['-v'], ['version']]) {
    const r = await cli(...argv);
    assert.equal(r.code, 0);
    assert.equal(r.out, `${version}\n`);
  }
});

test('wrapText: lines within the width, words kept whole and in order', () => {
  const text = 'optimizer steps per engine call, in one ONNX Loop (default 1; more saves host/device round trips)';
  for (const width of [12, 20, 46, 80]) {
    const lines = wrapText(text, width);
    for (const line of lines) assert.ok(line.length <= width, `${width}: "${line}"`);
    assert.equal(lines.join(' '), text);
  }
  assert.deepEqual(wrapText('a verylongword b', 5), ['a', 'verylongword', 'b']);
  assert.deepEqual(wrapText('', 10), []);
});

test('no command lists a flag twice', () => {
  for (const [name, spec] of Object.entries(COMMANDS)) {
    const names = spec.flags.map((f: FlagSpec) => f.name);
    const twice = names.filter((n, i) => names.indexOf(n) !== i);
    assert.deepEqual(twice, [], `bertft ${name} lists ${twice.join(', ')} twice`);
  }
});

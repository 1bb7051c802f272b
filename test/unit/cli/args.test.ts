import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseArgs, UsageError, type FlagSpec } from '../../../src/cli/args';
import { runCli } from '../../../src/cli/main';
import type { CliIo } from '../../../src/cli/output';
import { COMMANDS, trainOverridesFromArgs } from '../../../src/cli/commands';

function capture(): CliIo & { out: string; err: string } {
  const io = {
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
  return io;
}

async function cli(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const io = capture();
  const code = await runCli(argv, io);
  return { code, out: io.out, err: io.err };
}

const specs: FlagSpec[] = [
  { name: 'lr', kind: 'number', above: 0, help: '' },
  { name: 'epochs', kind: 'int', min: 1, help: '' },
  { name: 'json', kind: 'boolean', help: '' },
  { name: 'text', kind: 'repeat', help: '' },
  { name: 'metric', kind: 'string', choices: ['loss', 'accuracy'], help: '' },
];

test('parseArgs: values, --name=value, switches and repeatable flags', () => {
  const a = parseArgs(
    ['--lr', '5e-5', '--epochs=3', '--json', '--text', 'a b', '--text=c', '--metric', 'accuracy'],
    specs,
    'x',
  );
  assert.equal(a.flags.get('lr'), 5e-5);
  assert.equal(a.flags.get('epochs'), 3);
  assert.equal(a.flags.get('json'), true);
  assert.deepEqual(a.flags.get('text'), ['a b', 'c']);
  assert.equal(a.flags.get('metric'), 'accuracy');
  assert.deepEqual(parseArgs(['--json=false'], specs, 'x').flags.get('json'), false);
});

test('parseArgs: every mistake is a UsageError naming the flag', () => {
  const cases: [string[], RegExp][] = [
    [['--nope', '1'], /Unknown flag --nope/],
    [['--lr'], /--lr needs a value/],
    [['--lr', '--json'], /--lr needs a value/],
    [['--lr', 'fast'], /--lr must be a number \(got "fast"\)/],
    [['--lr', '0'], /--lr must be greater than 0/],
    [['--epochs', '2.5'], /--epochs must be a whole number/],
    [['--epochs', '0'], /--epochs must be at least 1/],
    [['--epochs='], /--epochs must be a whole number/],
    [['--metric', 'f1'], /--metric must be one of loss, accuracy/],
    [['--json=yes'], /--json is a switch/],
  ];
  for (const [argv, pattern] of cases) {
    assert.throws(
      () => parseArgs(argv, specs, 'x'),
      (e: unknown) => e instanceof UsageError && pattern.test(e.message),
      argv.join(' '),
    );
  }
});

test('bertft: usage errors exit 1 with the flag named and a fix', async () => {
  const cases: [string[], RegExp][] = [
    [['frobnicate'], /Unknown command "frobnicate"/],
    [['train', '--data', 'x.csv', '--out', 'r', '--bogus'], /Unknown flag --bogus for `bertft train`/],
    [['train', '--data'], /--data needs a value/],
    [['train', '--data', 'x.csv', '--out', 'r', '--lr', 'abc'], /--lr must be a number/],
    [['train', '--data', 'x.csv', '--out', 'r', '--epochs', '-1'], /--epochs must be greater than 0/],
    [['train', '--data', 'x.csv', '--out', 'r', '--batch-size', '0'], /--batch-size must be at least 1/],
    [['train', '--data', 'x.csv', '--out', 'r', '--max-length', '100000'], /--max-length must be at most 8192/],
    [
      ['train', '--data', 'x.csv', '--out', 'r', '--truncation', 'tail'],
      /--truncation must be one of head, head\+tail, window/,
    ],
    [['train', '--data', 'x.csv', '--out', 'r', '--metric', 'f1'], /--metric must be one of loss, accuracy, macro_f1/],
    [['train', '--data', 'x.csv', '--out', 'r', '--device', 'tpu'], /--device must be one of/],
    [['train', '--data', 'x.csv', '--out', 'r', '--warmup-ratio', '2'], /--warmup-ratio must be at most 1/],
    [['train', '--data', 'x.csv', 'extra'], /Unexpected argument "extra"/],
    [['predict', '--model'], /--model needs a value/],
    [['eval', '--model', 'm', '--text', 'hi'], /Unknown flag --text for `bertft eval`/],
    [['check', '--max-length', 'long'], /--max-length must be a whole number/],
  ];
  for (const [argv, pattern] of cases) {
    const r = await cli(...argv);
    assert.equal(r.code, 1, argv.join(' '));
    assert.match(r.err, pattern, argv.join(' '));
    assert.match(r.err, /Fix: /, argv.join(' '));
  }
});

test("bertft: help prints the commands and each command's flags", async () => {
  const r = await cli('help');
  assert.equal(r.code, 0);
  for (const c of Object.keys(COMMANDS)) assert.match(r.out, new RegExp(`\\b${c}\\b`));
  const t = await cli('train', '--help');
  assert.equal(t.code, 0);
  assert.match(t.out, /--early-stopping <n>/);
  assert.equal((await cli()).code, 1);
});

test('train flags map to overrides; unset flags stay undefined for the preset to fill', () => {
  const args = parseArgs(
    ['--data', 'd.csv', '--out', 'o', '--lr', '1e-3', '--early-stopping', '2', '--class-weights', '--no-dropout'],
    COMMANDS.train.flags,
    'train',
  );
  const o = trainOverridesFromArgs(args);
  assert.equal(o.data, 'd.csv');
  assert.equal(o.lr, 1e-3);
  assert.equal(o.earlyStoppingPatience, 2);
  assert.equal(o.classWeights, true);
  assert.equal(o.dropout, false);
  assert.equal(o.epochs, undefined);
  assert.equal(o.resume, false);
  assert.equal(o.groupByLength, undefined);
  const grouping = (flag: string) =>
    trainOverridesFromArgs(parseArgs(['--data', 'd.csv', '--out', 'o', flag], COMMANDS.train.flags, 'train'))
      .groupByLength;
  assert.deepEqual([grouping('--group-by-length'), grouping('--group-by-length=false')], [true, false]);
  assert.throws(() => trainOverridesFromArgs(parseArgs(['--out', 'o'], COMMANDS.train.flags, 'train')), /needs --data/);
});

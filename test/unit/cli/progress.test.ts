import { test } from 'node:test';
import assert from 'node:assert/strict';
import { progressLine, TrainReporter } from '../../../src/cli/progress';
import type { CliIo } from '../../../src/cli/output';
import type { TrainerEvent } from '../../../src/trainer/protocol';
import { deviceFallback, type StartedEvent } from '../../../src/core/run/events';

function io(tty: boolean): CliIo & { out: string; err: string } {
  const o = {
    out: '',
    err: '',
    stderrIsTTY: tty,
    stdout: (t: string) => {
      o.out += t;
    },
    stderr: (t: string) => {
      o.err += t;
    },
  };
  return o;
}

const step = (n: number): TrainerEvent => ({
  event: 'step',
  time: '',
  step: n,
  total_steps: 10,
  epoch: n / 10,
  loss: 0.5,
  lr: 1e-4,
  grad_norm: 1,
  examples_per_s: 12.34,
  eta_s: 75,
});
const done: TrainerEvent = {
  event: 'done',
  time: '',
  stopped: false,
  best_step: 10,
  best_metric: 0.25,
  metric_name: 'loss',
  best_dir: '/r/best',
  run_dir: '/r',
  final_step: 10,
};

test('progress line', () => {
  assert.equal(
    progressLine(5, 10, 0.5, 75, 12.34),
    '[############............]  50% step 5/10  loss 0.5000  12.3 ex/s  eta 1m 15s',
  );
});

test('TTY: the bar is redrawn in place on stderr (throttled), whole lines follow below it; stdout stays empty', () => {
  let clock = 0;
  const t = io(true);
  const r = new TrainReporter(t, false, () => clock);
  r.report(step(1));
  clock += 10;
  r.report(step(2)); // within 100 ms: skipped
  clock += 200;
  r.report(step(3));
  r.report(done);
  assert.equal(t.out, '');
  assert.equal((t.err.match(/\r\[/g) ?? []).length, 2);
  assert.match(t.err, /step 3\/10/);
  assert.doesNotMatch(t.err, /step 2\/10/);
  // eslint-disable-next-line no-control-regex -- the escape sequence that clears the bar's line is what this checks
  assert.match(t.err, /\x1b\[K\nDone at step 10\. Best loss 0\.2500 at step 10: \/r\/best\n$/);
});

test('not a TTY: no bar at all; --json: every event verbatim on stdout, nothing on stderr', () => {
  const plain = io(false);
  const r = new TrainReporter(plain, false);
  r.report(step(1));
  r.report(done);
  assert.doesNotMatch(plain.err, /\[#|\r/);
  assert.match(plain.err, /^Done at step 10/);
  const json = io(true);
  const j = new TrainReporter(json, true);
  j.report(step(1));
  j.report(done);
  assert.equal(json.err, '');
  assert.deepEqual(
    json.out
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as unknown),
    [step(1), done],
  );
});

test("log lines: warnings and notices reach the user, the engine's own choices only the log", () => {
  const log = (message: string, extra: { level?: 'info' | 'warn'; notice?: boolean } = {}): TrainerEvent => ({
    event: 'log',
    time: '',
    level: extra.level ?? 'info',
    message,
    ...(extra.notice ? { notice: true } : {}),
  });
  const t = io(false);
  const r = new TrainReporter(t, false);
  r.report(log('engine: running on cpu with 2 threads'));
  r.report(log('engine: updating the parameters and AdamW moments in place'));
  r.report(log('Seed screening: candidate 1 of 3 (train seed 42), 1 epoch.', { notice: true }));
  r.report(log('3 rows have an empty text', { level: 'warn' }));
  assert.deepEqual(t.err.trim().split('\n'), [
    'Seed screening: candidate 1 of 3 (train seed 42), 1 epoch.',
    'warning: 3 rows have an empty text',
  ]);
  assert.equal(t.out, '');
});

test('a device asked for by name and not got is said with why; auto and a device that worked are not', () => {
  const notes = [
    'engine: not using cuda: the CUDA provider library is not installed (run "bertft gpu --install-cuda")',
    'engine: running on cpu with 2 threads',
  ];
  const started = (asked: string, device: string): StartedEvent => ({
    event: 'started',
    time: '',
    run_dir: '/r',
    pid: 1,
    config: { device: asked, model: 'random:tiny' },
    device,
    device_notes: device === 'cpu' && asked !== 'cpu' ? notes : ['engine: running on cpu with 2 threads'],
    dataset: { train_rows: 8, valid_rows: 2, labels: ['a', 'b'], label_counts: {}, files: [] },
    total_steps: 10,
  });
  assert.deepEqual(deviceFallback(started('cuda', 'cpu')), {
    asked: 'cuda',
    reasons: ['not using cuda: the CUDA provider library is not installed (run "bertft gpu --install-cuda")'],
  });
  assert.equal(deviceFallback(started('auto', 'cpu')), undefined, 'auto takes the first device that works');
  assert.equal(deviceFallback(started('cpu', 'cpu')), undefined);
  // The CLI says the refusal under its "Training on" line, whichever was asked.
  const t = io(false);
  new TrainReporter(t, false).report(started('cuda', 'cpu'));
  assert.match(t.err, /Training on cpu: 8 train \/ 2 validation rows[^\n]*\nRun: \/r\nengine: not using cuda: /);
});

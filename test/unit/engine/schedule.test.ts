/**
 * The learning-rate schedules against HF transformers' formulas (get_linear / get_cosine / get_constant_schedule_with_
 * warmup, written out below as transformers writes them) and, where Debian's torch is installed, against
 * torch.optim.lr_scheduler.LambdaLR driven by those lambdas.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { LR_SCHEDULES, lrFactor, scheduleLr, type LrSchedule } from '../../../src/core/train/schedule';
import { PYTHON, torchAvailable } from '../../helpers/parity';

/** transformers.optimization's lr_lambda of each schedule, transcribed. */
function hfLambda(schedule: LrSchedule, warmup: number, total: number): (step: number) => number {
  return (step) => {
    if (step < warmup) return step / Math.max(1, warmup);
    if (schedule === 'constant_with_warmup') return 1;
    if (schedule === 'linear') return Math.max(0, (total - step) / Math.max(1, total - warmup));
    const progress = (step - warmup) / Math.max(1, total - warmup);
    return Math.max(0, 0.5 * (1 + Math.cos(Math.PI * 0.5 * 2 * progress)));
  };
}

test('each schedule equals the HF formula at every step, before, during and after warmup', () => {
  for (const schedule of LR_SCHEDULES) {
    for (const [warmup, total] of [
      [0, 7],
      [3, 20],
      [10, 10],
      [5, 4],
    ]) {
      const hf = hfLambda(schedule, warmup, total);
      for (let step = 0; step <= total + 3; step++) {
        assert.equal(lrFactor(schedule, step, warmup, total), hf(step), `${schedule} ${warmup}/${total} at ${step}`);
      }
    }
  }
});

test('known values: linear halves midway, cosine is 0.5 midway and 0 at the end, constant stays at the peak', () => {
  assert.equal(scheduleLr('linear', 0, 1e-3, 4, 104), 0);
  assert.equal(scheduleLr('linear', 2, 1e-3, 4, 104), 5e-4);
  assert.equal(scheduleLr('linear', 54, 1e-3, 4, 104), 5e-4);
  assert.equal(scheduleLr('cosine', 2, 1e-3, 4, 104), 5e-4);
  assert.ok(Math.abs(scheduleLr('cosine', 54, 1e-3, 4, 104) - 5e-4) < 1e-18);
  assert.ok(Math.abs(scheduleLr('cosine', 29, 1e-3, 4, 104) - 1e-3 * 0.5 * (1 + Math.SQRT1_2)) < 1e-15);
  assert.ok(scheduleLr('cosine', 104, 1e-3, 4, 104) < 1e-19);
  assert.equal(scheduleLr('constant_with_warmup', 2, 1e-3, 4, 104), 5e-4);
  assert.equal(scheduleLr('constant_with_warmup', 4, 1e-3, 4, 104), 1e-3);
  assert.equal(scheduleLr('constant_with_warmup', 1000, 1e-3, 4, 104), 1e-3);
});

const TORCH_SCRIPT = `
import json, math, sys, torch
def linear(w, t):
    def f(s):
        if s < w: return float(s) / float(max(1, w))
        return max(0.0, float(t - s) / float(max(1, t - w)))
    return f
def cosine(w, t, num_cycles=0.5):
    def f(s):
        if s < w: return float(s) / float(max(1, w))
        p = float(s - w) / float(max(1, t - w))
        return max(0.0, 0.5 * (1.0 + math.cos(math.pi * float(num_cycles) * 2.0 * p)))
    return f
def constant(w, t):
    def f(s):
        if s < w: return float(s) / float(max(1.0, w))
        return 1.0
    return f
base, w, t = float(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
out = {}
for name, make in (('linear', linear), ('cosine', cosine), ('constant_with_warmup', constant)):
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=base)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, make(w, t))
    lrs = []
    for _ in range(t):
        lrs.append(opt.param_groups[0]['lr'])
        opt.step()
        sched.step()
    out[name] = lrs
print(json.dumps(out))
`;

test('each schedule gives the lr PyTorch LambdaLR gives with the HF lambda, step by step', (t) => {
  if (!torchAvailable()) {
    t.skip(`${PYTHON} cannot import torch (apt-get install python3-torch libopenblas0-pthread)`);
    return;
  }
  const [base, warmup, total] = [3e-4, 6, 40];
  const out = execFileSync(PYTHON, ['-c', TORCH_SCRIPT, String(base), String(warmup), String(total)], {
    encoding: 'utf8',
  });
  const torchLrs = JSON.parse(out.trim().split('\n').pop() as string) as Record<LrSchedule, number[]>;
  for (const schedule of LR_SCHEDULES) {
    const ours = Array.from({ length: total }, (_, step) => scheduleLr(schedule, step, base, warmup, total));
    assert.equal(torchLrs[schedule].length, total);
    torchLrs[schedule].forEach((lr, step) =>
      assert.ok(Math.abs(ours[step] - lr) <= 1e-15 * base, `${schedule} step ${step}: ours ${ours[step]}, torch ${lr}`),
    );
  }
});

/**
 * A machine where Slurm cannot be asked — its tools missing, or present with no configuration or controller to reach
 * (this machine: Debian's slurm-client, an empty slurm.conf) — makes the state query a user error
 * naming the tool and the fix, not a job state: the Runs view then says "not reachable here" instead of a made-up
 * UNKNOWN. A job id the controller does not know stays a state (test/cluster/runs-view.test.ts, on a real cluster).
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { UserError } from '../../../src/core/errors';
import { Slurm } from '../../../src/core/scheduler/slurm';
import { asPlain } from '../../../src/extension/display/text';
import { describeJob, JobStates } from '../../../src/extension/runs/jobs';
import type { RunInfo } from '../../../src/extension/runs/runStore';
import { tempFolder } from '../../helpers/temp';

// An empty slurm.conf names no cluster: the tools fail at once (a missing file makes them retry for 60 s).
const conf = path.join(tempFolder('bertft-no-cluster-'), 'slurm.conf');
fs.writeFileSync(conf, '');
const env = { ...process.env, SLURM_CONF: conf };
after(() => fs.rmSync(path.dirname(conf), { recursive: true, force: true }));

test('Slurm that cannot be reached is a user error naming the tool and the fix, not an UNKNOWN state', async () => {
  const error = await new Slurm('test', env).state('5').then(
    () => undefined,
    (e: unknown) => e,
  );
  assert.ok(error instanceof UserError, `a user error, not ${String(error)}`);
  assert.ok(['SCHEDULER_REFUSED', 'SCHEDULER_TOOL_MISSING'].includes(error.code ?? ''), error.code);
  assert.match(error.message, /^scontrol /);
  assert.match(error.fix ?? '', /sinfo|PATH/);
});

test('the Runs view shows such a machine as "not reachable here"', async () => {
  const run: RunInfo = {
    dir: path.join(os.tmpdir(), 'run'),
    name: 'run',
    phase: 'waiting',
    task: 'classify',
    kind: 'single-label',
    date: '2026-12-06T10:00:00.000Z',
    step: 0,
    totalSteps: 0,
    job: {
      record: {
        scheduler: 'slurm',
        jobId: '5',
        arrayIndex: null,
        submitted: '2026-12-06T10:00:00.000Z',
        restarts: 0,
        script: 'job.sbatch',
        previousJobIds: [],
      },
    },
  };
  const reasons: string[] = [];
  const jobs = new JobStates(new Slurm('test', env), { onUnavailable: (r) => reasons.push(r) });
  assert.equal(await jobs.poll([run]), true);
  assert.equal(asPlain(describeJob(jobs.apply(run).job!)), 'Slurm job 5 · Slurm not reachable here');
  assert.equal(reasons.length, 1);
  assert.match(reasons[0], /^scontrol /);
});

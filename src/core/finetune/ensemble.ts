/**
 * Seed ensembles (`ensembleSize` > 1, the from-scratch default: core/train/presets.ts FROM_SCRATCH.ensembleSize): a
 * model trained from random weights depends on its seed by several points, and averaging the probabilities of a few
 * seeds' models removes most of that (BENCHMARKS.md, "On 2,000 held-out rows"). The run itself trains member 1 with
 * its own train seed; after its loop, members 2…k train one after another as run folders of their own in
 * `<run>/members/N/` (train seed `candidateSeed(seed, N - 1)`, every other setting the run's), each to its own best
 * evaluation. Then best/ becomes the ensemble: member 1's model in Hugging Face layout as before, the others in
 * `best/members/N/`, and model.onnx averaging all of them, which is what every prediction reads. A stop between
 * members is resumed by --resume: finished members are kept, a stopped one continues from its checkpoint.
 */
import * as ort from 'onnxruntime-node';
import * as path from 'node:path';
import type { DoneEvent, StepEvent, TrainerEvent } from '../run/events';
import { hasRun, MEMBERS_DIR, runPaths } from '../run/paths';
import { loadModelDir } from '../model/load';
import { buildEnsembleInferenceModel } from '../model/export-onnx';
import type { Weights } from '../model/params';
import { candidateSeed, type TrainConfig, type TrainOverrides } from '../train/presets';
import type { AfterLoopContext, AfterLoopResult, SessionRequest, SessionSink } from '../train/session';
import { classifyEvaluation, evaluateSet, type ClassifyEvaluation } from '../train/trainer';
import { sessionForward } from '../infer/predictor';
import type { PreparedClassify } from './task';

/** Starts or resumes one member's run (task.ts: the fine-tuning task through the session skeleton). */
export type RunMember = (options: TrainOverrides & SessionRequest, sink: SessionSink) => Promise<DoneEvent>;

/** The run folder of member `n` (2…k; member 1 is the run itself). */
export function memberRunDir(root: string, n: number): string {
  return path.join(root, MEMBERS_DIR, String(n));
}

/** Member `n`'s train seed: the run's own for member 1, then seeds far from it. */
export function memberSeed(config: Pick<TrainConfig, 'seed' | 'trainSeed'>, n: number): number {
  return candidateSeed(config.trainSeed ?? config.seed, n - 1);
}

/** A new member's settings: the run's own, with the member's train seed, as one model. */
function memberSettings(config: TrainConfig, n: number, out: string): TrainOverrides & SessionRequest {
  const { seedScreening: _s, seedCandidates: _c, screenEpochs: _e, ...own } = config;
  return { ...own, out, trainSeed: memberSeed(config, n), ensembleSize: 1 };
}

/** A member's step as the run counts it: after the loop's steps and the earlier members'. */
function asRunStep(event: StepEvent, offset: number, total: number, stepsPerSecond: number): StepEvent {
  const step = offset + event.step;
  return { ...event, step, total_steps: total, eta_s: (total - step) / Math.max(stepsPerSecond, 1e-9) };
}

/** What the ensemble's best/ holds besides member 1's model (task.ts writeBestModel). */
export interface EnsembleModel {
  /** Members 2…k, in order. */
  members: Weights[];
  /** Every member's train seed, member 1 first. */
  trainSeeds: number[];
  /** The averaging inference model (buildEnsembleInferenceModel). */
  onnx: Uint8Array;
}

/** The ensemble of `bestDirs` (member 1's first), and its evaluation on the run's validation rows. */
export async function evaluateEnsemble(
  run: Pick<PreparedClassify, 'model' | 'numLabels' | 'evalSet' | 'data' | 'tokenizer' | 'config'>,
  bestDirs: string[],
): Promise<{ first: Weights; model: EnsembleModel; evaluation: ClassifyEvaluation }> {
  const weights: Weights[] = [];
  for (const dir of bestDirs) weights.push((await loadModelDir(dir, run.numLabels, 0)).weights);
  const onnx = buildEnsembleInferenceModel(run.model.config, run.numLabels, weights);
  const session = await ort.InferenceSession.create(onnx, {
    executionProviders: ['cpu'],
    graphOptimizationLevel: 'all',
  });
  try {
    const result = await evaluateSet(sessionForward(session), run.evalSet, run.data.labels, run.tokenizer.poolLogits);
    const trainSeeds = bestDirs.map((_, i) => memberSeed(run.config, i + 1));
    return {
      first: weights[0],
      model: { members: weights.slice(1), trainSeeds, onnx },
      evaluation: classifyEvaluation(run.config.metric, result),
    };
  } finally {
    await session.release();
  }
}

/**
 * The work after the run's loop: members 2…k trained (or resumed) in their run folders, their steps reported after
 * the loop's, then best/ rewritten as the ensemble with its evaluation. `writeBest` writes the ensemble's best/.
 */
export async function trainMembers(
  run: Pick<PreparedClassify, 'model' | 'numLabels' | 'evalSet' | 'data' | 'tokenizer' | 'config' | 'totalSteps'>,
  context: AfterLoopContext,
  runMember: RunMember,
  writeBest: (first: Weights, model: EnsembleModel, evaluation: ClassifyEvaluation, step: number) => Promise<void>,
): Promise<AfterLoopResult> {
  const size = run.config.ensembleSize ?? 1;
  const total = context.loopSteps + (size - 1) * run.totalSteps;
  const bestDirs = [context.paths.best];
  const notice = (message: string): void =>
    context.emit({ event: 'log', time: new Date().toISOString(), level: 'info', message, notice: true });
  for (let n = 2; n <= size; n++) {
    const out = memberRunDir(context.paths.root, n);
    const offset = context.loopSteps + (n - 2) * run.totalSteps;
    const resume = hasRun(out);
    notice(
      `Seed ensemble: training model ${n} of ${size} (train seed ${memberSeed(run.config, n)})` +
        `${resume ? ', continuing its run' : ''}.`,
    );
    const startedAt = Date.now();
    let firstStep: number | undefined;
    const forward = (event: TrainerEvent): void => {
      if (event.event === 'step') {
        firstStep ??= event.step - 1;
        const rate = (event.step - firstStep) / Math.max(1e-3, (Date.now() - startedAt) / 1000);
        context.emit(asRunStep(event, offset, total, rate));
      } else if (event.event === 'eval' && 'accuracy' in event) {
        notice(
          `Seed ensemble: model ${n} of ${size}, epoch ${event.epoch.toFixed(1)}: accuracy ${event.accuracy.toFixed(4)}` +
            `${event.is_best ? ' (its best so far)' : ''}.`,
        );
      } else if (event.event === 'log' && event.level === 'warn') {
        context.emit(event);
      }
    };
    const done = await runMember(
      resume
        ? { data: run.config.data, out, resume: true, device: run.config.device }
        : memberSettings(run.config, n, out),
      { emit: forward, shouldStop: () => context.shouldStop() },
    );
    if (done.stopped) return { stopped: true, finalStep: offset + done.final_step };
    bestDirs.push(runPaths(out).best);
  }
  notice(`Seed ensemble: scoring the ${size} models' mean probabilities on the validation rows.`);
  const { first, model, evaluation } = await evaluateEnsemble(run, bestDirs);
  await writeBest(first, model, evaluation, total);
  context.emit({
    event: 'eval',
    time: new Date().toISOString(),
    step: total,
    epoch: run.config.epochs,
    ...evaluation.scores,
    is_best: true,
  });
  return { stopped: false, best: { step: total, metric: evaluation.metric }, finalStep: total };
}

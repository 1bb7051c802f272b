/**
 * The inference worker (worker_threads): owns the one onnxruntime session of the active model, so that tokenizing and
 * `session.run` never block the extension host's thread. Loading another model disposes the previous session once
 * the new one is up.
 * Explanations (integrated gradients, core/infer/explain.ts) use a second session of the same model, made on the
 * first one. Requests run one at a time, in order; a cancelled request that has not started is skipped.
 */
import { parentPort } from 'node:worker_threads';
import { isUserError } from '../../core/errors';
import { loadExplainer, type Explainer } from '../../core/infer/explain';
import { loadPredictor, type Predictor } from '../../core/infer/predictor';
import { compareQuantized, writeQuantizedModelDir } from '../../core/infer/quantize';
import type { ModelInfo, WorkerError, WorkerRequest, WorkerResponse, WorkerResult } from './protocol';

const port = parentPort;
if (!port) throw new Error('worker.ts must run as a worker thread');

let predictor: Predictor | undefined;
let loaded: string | undefined;
/** The loaded model's explainer: a second session (forward and backward), built on its first explanation. */
let explainer: { dir: string; explainer: Promise<Explainer> } | undefined;
const cancelled = new Set<number>();
let queue: Promise<void> = Promise.resolve();

function needPredictor(): Predictor {
  if (!predictor) throw new Error('No model is loaded in the inference worker.');
  return predictor;
}

async function handle(req: Exclude<WorkerRequest, { op: 'cancel' }>): Promise<WorkerResult> {
  switch (req.op) {
    case 'load': {
      if (predictor && loaded === req.modelDir) return modelInfo(loaded, predictor);
      // Load first: a folder that fails to load leaves the current model working.
      const next = await loadPredictor(req.modelDir, { device: req.device });
      const previous = predictor;
      predictor = next;
      loaded = req.modelDir;
      await previous?.dispose();
      await disposeExplainer();
      return modelInfo(req.modelDir, next);
    }
    case 'explain': {
      needPredictor();
      const dir = loaded as string;
      if (explainer?.dir !== dir) {
        await disposeExplainer();
        explainer = { dir, explainer: loadExplainer(dir) };
        explainer.explainer.catch(() => (explainer = undefined));
      }
      const { text, textPair, steps, label } = req;
      return (await explainer.explainer).explain(text, {
        steps,
        label,
        ...(textPair === undefined ? {} : { textPair }),
      });
    }
    case 'predict':
      return needPredictor().predict(req.texts, req.pairs);
    case 'logits':
      return needPredictor().logits(req.texts);
    case 'quantize': {
      const { dir } = await writeQuantizedModelDir(req.modelDir, req.format);
      return compareQuantized(req.modelDir, dir, req.examples);
    }
  }
}

/** What the host shows a model's predictions by: its labels, and whether it predicts one, a set, or a number. */
function modelInfo(dir: string, p: Predictor): ModelInfo {
  const task = p.regression ? 'regression' : p.thresholds ? 'multi-label' : 'single-label';
  return {
    dir,
    labels: p.labels,
    task,
    ...(p.thresholds ? { thresholds: Array.from(p.thresholds) } : {}),
    ...(p.textPairColumn !== undefined ? { textPairColumn: p.textPairColumn } : {}),
    ...p.settings,
  };
}

async function disposeExplainer(): Promise<void> {
  const previous = explainer;
  explainer = undefined;
  await (await previous?.explainer.catch(() => undefined))?.dispose();
}

function toWorkerError(e: unknown): WorkerError {
  if (isUserError(e))
    return { name: e.name, message: e.message, user: true, code: e.code, fix: e.fix, file: e.file, line: e.line };
  const err = e instanceof Error ? e : new Error(String(e));
  return { name: err.name, message: err.message, user: false };
}

port.on('message', (req: WorkerRequest) => {
  if (req.op === 'cancel') {
    cancelled.add(req.target);
    return;
  }
  queue = queue.then(async () => {
    // Let 'cancel' messages that arrived while the previous request ran be seen before starting this one.
    await new Promise((r) => setImmediate(r));
    let response: WorkerResponse;
    if (cancelled.delete(req.id)) {
      response = {
        id: req.id,
        ok: false,
        error: { name: 'CancelledError', message: 'Cancelled.', user: true, code: 'CANCELLED' },
      };
    } else {
      try {
        response = { id: req.id, ok: true, result: await handle(req) };
      } catch (e) {
        response = { id: req.id, ok: false, error: toWorkerError(e) };
      }
    }
    port.postMessage(response);
  });
});

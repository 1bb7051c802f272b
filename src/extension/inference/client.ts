/**
 * The extension host's side of the inference worker: starts it on first use, sends requests, and turns answers back
 * into values or errors (UserErrors keep their code, fix, file and line). One model at a time: `load` of another
 * folder replaces (and disposes) the worker's session. No `vscode` here, so unit tests drive it directly.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { Example } from '../../core/data/types';
import { UserError } from '../../core/errors';
import type { Explanation } from '../../core/infer/explain';
import type { Prediction } from '../../core/infer/predictor';
import type { QuantFormat, QuantizedComparison } from '../../core/infer/quantize';
import type { Device, ModelInfo, WorkerError, WorkerRequest, WorkerResponse, WorkerResult } from './protocol';

/** The bundled worker (dist/inferenceWorker.js, next to dist/extension.js) or, under tsc's out/, worker.js. */
export function defaultWorkerFile(): string {
  const bundled = path.join(__dirname, 'inferenceWorker.js');
  return fs.existsSync(bundled) ? bundled : path.join(__dirname, 'worker.js');
}

type Pending = { resolve(v: WorkerResult): void; reject(e: Error): void };
type RequestBody = WorkerRequest extends infer R ? (R extends { id: number } ? Omit<R, 'id'> : never) : never;

function fromWorkerError(e: WorkerError): Error {
  if (!e.user) return Object.assign(new Error(e.message), { name: e.name });
  const err = new UserError(e.message, { code: e.code, fix: e.fix, file: e.file, line: e.line });
  err.name = e.name;
  return err;
}

export class InferenceClient {
  private worker: Worker | undefined;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private current: ModelInfo | undefined;

  constructor(private readonly workerFile: string = defaultWorkerFile()) {}

  /** The model the worker has loaded, if any. */
  get model(): ModelInfo | undefined {
    return this.current;
  }

  private start(): Worker {
    if (this.worker) return this.worker;
    const worker = new Worker(this.workerFile);
    worker.on('message', (res: WorkerResponse) => {
      const p = this.pending.get(res.id);
      if (!p) return;
      this.pending.delete(res.id);
      if (res.ok) p.resolve(res.result);
      else p.reject(fromWorkerError(res.error));
    });
    const fail = (error: Error) => {
      // A crashed worker takes its session with it: forget the model and fail what was waiting.
      if (this.worker !== worker) return;
      this.worker = undefined;
      this.current = undefined;
      for (const p of this.pending.values()) p.reject(error);
      this.pending.clear();
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`The inference worker stopped (exit code ${code}).`)));
    // Idle, the worker must not keep the extension host (or a test process) alive.
    worker.unref();
    this.worker = worker;
    return worker;
  }

  private request(body: RequestBody, signal?: AbortSignal): Promise<WorkerResult> {
    if (signal?.aborted) return Promise.reject(new UserError('Cancelled.', { code: 'CANCELLED' }));
    const worker = this.start();
    const id = this.nextId++;
    return new Promise<WorkerResult>((resolve, reject) => {
      const onAbort = () => {
        worker.postMessage({ id: this.nextId++, op: 'cancel', target: id } satisfies WorkerRequest);
        this.pending.delete(id);
        reject(new UserError('Cancelled.', { code: 'CANCELLED' }));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      const done = () => signal?.removeEventListener('abort', onAbort);
      this.pending.set(id, {
        resolve: (v) => {
          done();
          resolve(v);
        },
        reject: (e) => {
          done();
          reject(e);
        },
      });
      worker.ref();
      worker.postMessage({ ...body, id });
    }).finally(() => {
      if (this.pending.size === 0) this.worker?.unref();
    });
  }

  /** Load `modelDir` (a run folder, its best/, or a model folder), replacing the current model; on failure it stays. */
  async load(modelDir: string, device: Device = 'cpu'): Promise<ModelInfo> {
    const info = (await this.request({ op: 'load', modelDir, device })) as ModelInfo;
    this.current = info;
    return info;
  }

  /** With `pairs`, texts[i] is classified together with pairs[i] (a text-pair model). */
  async predict(texts: string[], signal?: AbortSignal, pairs?: string[]): Promise<Prediction[]> {
    return (await this.request({ op: 'predict', texts, ...(pairs ? { pairs } : {}) }, signal)) as Prediction[];
  }

  async logits(texts: string[], signal?: AbortSignal): Promise<Float32Array> {
    return (await this.request({ op: 'logits', texts }, signal)) as Float32Array;
  }

  /**
   * Token attributions of `text` (and, for a text-pair model, `options.textPair`) toward `options.label` (default: the
   * predicted label) with the loaded model.
   */
  async explain(
    text: string,
    options: { steps?: number; label?: string; textPair?: string } = {},
    signal?: AbortSignal,
  ): Promise<Explanation> {
    return (await this.request({ op: 'explain', text, ...options }, signal)) as Explanation;
  }

  /** Write `<model>/int8/` and compare it with the fp32 model on `examples` (the worker's loaded model stays). */
  async quantize(modelDir: string, examples: Example[], format?: QuantFormat): Promise<QuantizedComparison> {
    return (await this.request({ op: 'quantize', modelDir, examples, format })) as QuantizedComparison;
  }

  /** Stop the worker (and its session); a later request starts a fresh one. */
  async dispose(): Promise<void> {
    const worker = this.worker;
    this.worker = undefined;
    this.current = undefined;
    for (const p of this.pending.values()) p.reject(new UserError('The model was closed.', { code: 'CANCELLED' }));
    this.pending.clear();
    if (worker) await worker.terminate();
  }
}

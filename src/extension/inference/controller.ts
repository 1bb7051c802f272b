/**
 * The active model and its shared session: the model chosen with Select Model / Classify with This Model (kept in
 * the workspace's state, so choosing one never writes the user's settings.json), else the `bert.activeModel`
 * setting; loaded into the inference worker on first use (one load at a time); the session and the cached results
 * are dropped when the model or device changes. Editing the setting replaces the chosen model.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { Explanation } from '../../core/infer/explain';
import type { Prediction } from '../../core/infer/predictor';
import { readSettings } from '../config';
import { LruCache } from './cache';
import { InferenceClient } from './client';
import { modelName, resolveModelSetting } from './models';
import type { Device, ModelInfo } from './protocol';

export interface ActiveModel extends ModelInfo {
  name: string;
}

const CACHE_ENTRIES = 512;

/** The cache key of a text's result, or a pair's (a pair is not its first text), and an explanation's steps. */
function resultKey(text: string, textPair: string | undefined, steps?: number): string {
  return JSON.stringify([text, textPair ?? null, steps ?? null]);
}

/** workspaceState key of the model chosen in this workspace (an absolute folder). */
const CHOSEN_MODEL_KEY = 'bert.chosenModel';

function workspaceRoot(): string | undefined {
  return vscode.workspace.workspaceFolders?.find((f) => f.uri.scheme === 'file')?.uri.fsPath;
}

export class InferenceController implements vscode.Disposable {
  readonly client = new InferenceClient();
  private readonly cache = new LruCache<string, Prediction>(CACHE_ENTRIES);
  private readonly explanations = new LruCache<string, Explanation>(CACHE_ENTRIES);
  private loading: { dir: string; device: Device; promise: Promise<ActiveModel> } | undefined;
  private readonly subscription: vscode.Disposable;
  private readonly modelChanged = new vscode.EventEmitter<string | undefined>();
  /** Fires with the active model's folder (undefined: none) whenever it may have changed. */
  readonly onDidChangeActiveModel = this.modelChanged.event;

  constructor(
    private readonly log: vscode.LogOutputChannel,
    private readonly state: vscode.Memento,
  ) {
    this.subscription = vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration('bert.activeModel')) {
        // A memento's value changes at once (it is persisted later): the next request already uses the setting's model.
        void this.state.update(CHOSEN_MODEL_KEY, undefined);
        this.reset();
      } else if (e.affectsConfiguration('bert.device')) this.reset();
    });
    this.updateContext();
  }

  /** `bert.modelSelected`, which the palette's `when` clauses read (Make Int8 Model), and the change event. */
  private updateContext(): void {
    const dir = this.activeModelDir();
    void vscode.commands.executeCommand('setContext', 'bert.modelSelected', dir !== undefined);
    this.modelChanged.fire(dir);
  }

  /** The chosen model's folder, else the one `bert.activeModel` names, if any. */
  activeModelDir(): string | undefined {
    return (
      this.state.get<string>(CHOSEN_MODEL_KEY) ??
      resolveModelSetting(vscode.workspace.getConfiguration('bert').get<string>('activeModel', ''), workspaceRoot())
    );
  }

  private device(): Device {
    const d = readSettings().device;
    // 'auto' means the fastest for training; for one text at a time the CPU session starts fastest and needs no GPU.
    return d === 'auto' ? 'cpu' : d;
  }

  /** The loaded active model, loading it when needed; undefined when none is set. */
  async model(): Promise<ActiveModel | undefined> {
    const dir = this.activeModelDir();
    if (dir === undefined) return undefined;
    const device = this.device();
    if (this.loading?.dir !== dir || this.loading.device !== device) {
      this.clearCaches();
      const started = Date.now();
      const promise = this.client.load(dir, device).then((info) => {
        this.log.info(
          `Loaded model ${dir} (${info.labels.length} labels, ${info.task}, max ${info.maxLength} tokens, ${info.truncation}) on ${device} in ${Date.now() - started} ms`,
        );
        return { ...info, name: modelName(dir) };
      });
      this.loading = { dir, device, promise };
      promise.catch(() => {
        if (this.loading?.promise === promise) this.loading = undefined;
      });
    }
    return this.loading.promise;
  }

  /** Load `dir` and make it the active model of this workspace; a folder that fails to load changes nothing. */
  async setActiveModel(dir: string): Promise<ActiveModel> {
    const absolute = path.resolve(dir);
    const device = this.device();
    const started = Date.now();
    const info = await this.client.load(absolute, device);
    this.log.info(
      `Loaded model ${absolute} (${info.labels.length} labels, ${info.task}, max ${info.maxLength} tokens, ${info.truncation}) on ${device} in ${Date.now() - started} ms`,
    );
    await this.state.update(CHOSEN_MODEL_KEY, absolute);
    this.updateContext();
    this.clearCaches();
    // The worker holds this model now: the next request uses it without loading it again.
    const model = { ...info, name: modelName(absolute) };
    this.loading = { dir: absolute, device, promise: Promise.resolve(model) };
    return model;
  }

  /**
   * Predictions for `texts` with the active model; cached per text (and pair) for the hover. With `pairs` (a text-pair
   * model), texts[i] is classified together with pairs[i].
   */
  async predict(
    texts: string[],
    signal?: AbortSignal,
    pairs?: string[],
  ): Promise<{ model: ActiveModel; predictions: Prediction[] } | undefined> {
    const model = await this.model();
    if (!model) return undefined;
    const predictions = await this.client.predict(texts, signal, pairs);
    texts.forEach((t, i) => this.cache.set(resultKey(t, pairs?.[i]), predictions[i]));
    return { model, predictions };
  }

  /** The cached prediction of `text` (with `textPair`, of that pair). */
  cached(text: string, textPair?: string): Prediction | undefined {
    return this.cache.get(resultKey(text, textPair));
  }

  /**
   * Token attributions of `text` (with `textPair`: of that pair, both texts' tokens) toward its predicted label with
   * the active model; cached per text, pair and steps.
   */
  async explain(
    text: string,
    steps: number,
    signal?: AbortSignal,
    textPair?: string,
  ): Promise<{ model: ActiveModel; explanation: Explanation } | undefined> {
    const model = await this.model();
    if (!model) return undefined;
    const key = resultKey(text, textPair, steps);
    const explanation =
      this.explanations.get(key) ??
      (await this.client.explain(text, { steps, ...(textPair === undefined ? {} : { textPair }) }, signal));
    this.explanations.set(key, explanation);
    return { model, explanation };
  }

  cachedExplanation(text: string, steps: number, textPair?: string): Explanation | undefined {
    return this.explanations.get(resultKey(text, textPair, steps));
  }

  /** The model or device changed: the next request loads the new model, which disposes the old session. */
  private clearCaches(): void {
    this.cache.clear();
    this.explanations.clear();
  }

  private reset(): void {
    this.updateContext();
    this.clearCaches();
    this.loading = undefined;
    // No model any more: free the session (and the worker) now rather than at the next load.
    if (this.activeModelDir() === undefined) void this.client.dispose();
  }

  dispose(): void {
    this.subscription.dispose();
    this.modelChanged.dispose();
    void this.client.dispose();
  }
}

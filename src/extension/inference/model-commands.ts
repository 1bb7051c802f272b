/**
 * Choosing the model to classify with: Select Model (the workspace's runs, a model folder or a Hub id), Use Model
 * (the dashboard's "Classify with this model"), and Make Int8 Model (a quantized copy, measured against the original
 * on the run's validation texts, used on request). Each returns what it did.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { runValidationExamples } from '../../core/finetune/run-data';
import type { QuantizedComparison } from '../../core/infer/quantize';
import { resolveModel } from '../../core/model/hub';
import { runDirOfModel, runPaths } from '../../core/run/paths';
import type { Ctx } from '../context';
import { asLog, info, input, long, notify, pick, say, withProgress, type PickItem } from '../display/ui';
import { describeRun, listRuns } from '../runs/runStore';
import { runFolders } from '../runs/view';
import { requireTrust } from '../trust';
import type { InferenceController } from './controller';
import { comparisonText } from './text';

export interface QuantizeChoice {
  comparison: QuantizedComparison;
  /** The model now active (the int8 folder when the user chose it). */
  active: string;
}

export interface ModelChoice {
  /** Select Model's question; the model's folder, or undefined when the user chose none. */
  selectModel: () => Promise<string | undefined>;
  /** The active model, asking the user to pick one when none is set. */
  requireModel: () => Promise<boolean>;
}

/**
 * The workspace's runs that have a best/ model, as quick-pick items under a separator (none in Restricted Mode: the
 * runs are workspace files; a model folder the user picks still works). Select Model and Push Model list them.
 */
export function runModelItems(active?: string): PickItem<{ dir: string } | undefined>[] {
  const runs = vscode.workspace.isTrusted
    ? runFolders()
        .flatMap((root) => listRuns(root))
        .filter((r) => r.bestModelDir !== undefined)
    : [];
  if (runs.length === 0) return [];
  return [
    { label: say`Runs in this workspace`, separator: true, value: undefined },
    ...runs.map((r) => ({
      label: say`${r.name}`,
      description: say`${describeRun(r)}`,
      detail: say`${long(r.bestModelDir ?? '')}`,
      value: { dir: r.bestModelDir as string },
      picked: active !== undefined && path.resolve(active) === path.resolve(r.bestModelDir as string),
    })),
  ];
}

export function registerModelCommands(ctx: Ctx, controller: InferenceController): ModelChoice {
  const { log } = ctx;

  async function useModel(
    arg: string | vscode.Uri | { dir?: string; bestModelDir?: string } | undefined,
  ): Promise<string | undefined> {
    const dir =
      typeof arg === 'string' ? arg : arg instanceof vscode.Uri ? arg.fsPath : (arg?.bestModelDir ?? arg?.dir);
    if (!dir) return selectModel();
    const model = await withProgress(
      { location: vscode.ProgressLocation.Window, title: say`BERT: loading ${path.basename(dir)}` },
      () => controller.setActiveModel(dir),
    );
    log.info(`Active model: ${model.name} (${dir})`);
    void info(say`BERT: classifying with ${model.name} (${model.labels.length} labels).`);
    return dir;
  }

  async function selectModel(): Promise<string | undefined> {
    type Choice = { dir: string } | { action: 'folder' | 'hub' } | undefined;
    const active = controller.activeModelDir();
    const items: PickItem<Choice>[] = [
      ...runModelItems(active),
      { label: say`Other`, separator: true, value: undefined },
      {
        label: say`$(folder-opened) Model folder…`,
        description: say`a folder with config.json (Hugging Face layout)`,
        value: { action: 'folder' },
      },
      {
        label: say`$(cloud-download) Hugging Face Hub model…`,
        description: say`a Hub id such as org/name`,
        value: { action: 'hub' },
      },
    ];
    const chosen = (
      await pick(items, {
        title: say`BERT: Select the model to classify with`,
        placeHolder: active ? say`Active: ${long(active)}` : say`No model is active`,
      })
    )?.value;
    if (!chosen) return undefined;
    if ('dir' in chosen) return useModel(chosen.dir);
    if (chosen.action === 'folder') {
      const uri = await vscode.window.showOpenDialog({
        canSelectFolders: true,
        canSelectFiles: false,
        openLabel: 'Use this model',
      });
      return uri?.[0] ? useModel(uri[0].fsPath) : undefined;
    }
    const spec = await input({
      title: say`Hugging Face model id`,
      placeHolder: say`org/name or org/name@revision`,
      prompt: say`A model fine-tuned for sequence classification (its config.json has id2label).`,
    });
    if (!spec?.trim()) return undefined;
    const storedToken = await ctx.hubToken.get();
    const resolved = await withProgress(
      {
        location: vscode.ProgressLocation.Notification,
        title: say`BERT: downloading ${spec.trim()}`,
        cancellable: true,
      },
      (report, token) => {
        const abort = new AbortController();
        token.onCancellationRequested(() => abort.abort());
        return resolveModel(spec.trim(), {
          token: storedToken,
          signal: abort.signal,
          onProgress: (p) =>
            report({
              message: say`${p.file} ${(p.bytes / 1e6).toFixed(1)}${p.total ? ` / ${(p.total / 1e6).toFixed(1)}` : ''} MB`,
            }),
        });
      },
    );
    if (resolved.kind === 'random') throw new Error('A random model cannot classify; train it first.');
    return useModel(resolved.dir);
  }

  /** The active model, asking the user to pick one when none is set. */
  const requireModel = async (): Promise<boolean> =>
    controller.activeModelDir() !== undefined || (await selectModel()) !== undefined;

  ctx.command('bert.useModel', useModel);
  ctx.command('bert.selectModel', async (arg?: string | vscode.Uri) =>
    arg !== undefined ? useModel(arg) : selectModel(),
  );

  ctx.command('bert.quantizeModel', async (options?: { use?: boolean }): Promise<QuantizeChoice | undefined> => {
    if (!requireTrust('Make Int8 Model')) return undefined;
    if (!(await requireModel())) return undefined;
    const model = await controller.model();
    if (!model) return undefined;
    const run = runDirOfModel(model.dir);
    const examples = run ? await runValidationExamples(runPaths(run).runJson) : [];
    const comparison = await withProgress(
      {
        location: vscode.ProgressLocation.Notification,
        title: say`BERT: making an int8 model of ${model.name} and measuring it`,
      },
      () => controller.client.quantize(model.dir, examples),
    );
    const c = comparison;
    const accuracy = comparisonText(c);
    const summary = say`Int8 model of ${model.name}: ${accuracy}; ${c.fp32MsPerText.toFixed(1)} → ${c.int8MsPerText.toFixed(1)} ms per text; ${(c.fp32Bytes / 1e6).toFixed(0)} → ${(c.int8Bytes / 1e6).toFixed(0)} MB.`;
    log.info(asLog(summary));
    const use =
      options?.use ??
      (await notify('info', summary, { modal: true }, 'Use Int8 Model', 'Keep Float32')) === 'Use Int8 Model';
    if (use) await controller.setActiveModel(c.int8Dir);
    return { comparison, active: use ? c.int8Dir : model.dir };
  });

  return { selectModel, requireModel };
}

/**
 * "BERT: Push Model to Hugging Face Hub": a run's best/ model or a model folder, to a Hub repository (created when
 * missing), through core/model/hub-push.ts in this extension host: it reads files and talks HTTP, and loads no
 * onnxruntime. Its requests use node:http, which VS Code proxies with the user's settings, as downloads do. The token
 * is the one in SecretStorage (./network.ts), else HF_TOKEN or `huggingface-cli login`'s file; with none, the command
 * offers to set one.
 *
 * A caller (a test) may pass `{ model, repo, private }` to skip the questions; it gets the PushResult back. The Runs
 * view's context menu passes the run, whose best/ is pushed.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { hubToken } from '../core/model/hub';
import { pushModel, repoIdProblem, type PushProgress, type PushResult } from '../core/model/hub-push';
import { runDirOfModel } from '../core/run/paths';
import type { Ctx } from './context';
import { info, input, long, pick, say, warn, withProgress, type PickItem, type ProgressUpdate } from './display/ui';
import type { InferenceController } from './inference/controller';
import { runModelItems } from './inference/model-commands';
import { requireTrust } from './trust';

export interface PushArgs {
  model?: string;
  repo?: string;
  private?: boolean;
  /** A run of the Runs view (its context menu passes the run). */
  bestModelDir?: string;
}

export function registerPushCommand(ctx: Ctx, controller: InferenceController): void {
  ctx.command('bert.pushToHub', async (given?: PushArgs): Promise<PushResult | undefined> => {
    if (!requireTrust('Push Model to Hugging Face Hub')) return undefined;
    const model = given?.model ?? given?.bestModelDir ?? (await pickModel(controller.activeModelDir()));
    if (model === undefined) return undefined;
    if (!(await ensureToken(ctx))) return undefined;
    const repo = given?.repo ?? (await askRepo(model));
    if (repo === undefined) return undefined;
    const isPrivate = given?.private ?? (await askVisibility());
    if (isPrivate === undefined) return undefined;

    const token = await ctx.hubToken.get();
    const result = await withProgress(
      {
        location: vscode.ProgressLocation.Notification,
        title: say`BERT: pushing ${path.basename(model)} to ${repo}`,
        cancellable: true,
      },
      (report, cancel) => {
        const abort = new AbortController();
        cancel.onCancellationRequested(() => abort.abort());
        return pushModel({
          model,
          repo,
          private: isPrivate,
          token,
          signal: abort.signal,
          onProgress: progressReporter(report),
        });
      },
    );
    ctx.log.info(
      `Pushed ${result.files.length} files of ${result.modelDir} to ${result.url} (commit ${result.commit.oid})`,
    );
    void info(
      say`BERT: pushed ${long(result.modelDir)} to ${result.repoId} (${result.files.length} files${result.created ? ', new repository' : ''}).`,
      'Open on Hugging Face',
    ).then((chosen) => {
      if (chosen === 'Open on Hugging Face') void vscode.env.openExternal(vscode.Uri.parse(result.url));
    });
    return result;
  });
}

/** A run with a model, the active model, or a folder the user picks. */
async function pickModel(active: string | undefined): Promise<string | undefined> {
  type Choice = { dir: string } | { action: 'folder' } | undefined;
  const runs = runModelItems(active);
  const listed = new Set(runs.flatMap((i) => (i.value ? [path.resolve(i.value.dir)] : [])));
  const items: PickItem<Choice>[] = [
    ...runs,
    { label: say`Other`, separator: true, value: undefined },
    ...(active !== undefined && !listed.has(path.resolve(active))
      ? [{ label: say`$(check) The active model`, detail: say`${long(active)}`, value: { dir: active } }]
      : []),
    {
      label: say`$(folder-opened) Model folder…`,
      description: say`a folder with config.json (Hugging Face layout)`,
      value: { action: 'folder' },
    },
  ];
  const chosen = (await pick(items, { title: say`BERT: Choose the model to push to the Hugging Face Hub` }))?.value;
  if (!chosen) return undefined;
  if ('dir' in chosen) return chosen.dir;
  const uri = await vscode.window.showOpenDialog({ canSelectFolders: true, canSelectFiles: false, openLabel: 'Push' });
  return uri?.[0]?.fsPath;
}

/** Whether a token is there (SecretStorage, HF_TOKEN, the token file), offering to store one when none is. */
async function ensureToken(ctx: Ctx): Promise<boolean> {
  if (hubToken({ token: await ctx.hubToken.get() }, process.env) !== undefined) return true;
  const chosen = await warn(
    say`BERT: pushing to the Hugging Face Hub needs a token with write access (https://huggingface.co/settings/tokens), and none is set.`,
    'Set Token',
  );
  if (chosen !== 'Set Token') return false;
  await vscode.commands.executeCommand('bert.setHubToken');
  return (await ctx.hubToken.get()) !== undefined;
}

async function askRepo(model: string): Promise<string | undefined> {
  const run = runDirOfModel(model);
  const suggested = path.basename(run ?? model);
  const typed = await input({
    title: say`BERT: Hugging Face repository`,
    prompt: say`user/name or org/name; a name alone goes to your account. A missing repository is created.`,
    placeHolder: say`alice/spam-classifier`,
    value: repoIdProblem(suggested) === undefined ? suggested : undefined,
    ignoreFocusOut: true,
    validate: (v) => {
      const problem = repoIdProblem(v.trim());
      return problem === undefined ? undefined : say`${problem}`;
    },
  });
  return typed?.trim() || undefined;
}

async function askVisibility(): Promise<boolean | undefined> {
  const chosen = await pick(
    [
      {
        label: say`$(globe) Public`,
        description: say`anyone can see and download it (your organization's default may differ)`,
        value: false,
      },
      { label: say`$(lock) Private`, description: say`only you and your organization`, value: true },
    ],
    {
      title: say`BERT: Visibility of a new repository`,
      placeHolder: say`An existing repository keeps its visibility`,
    },
  );
  return chosen?.value;
}

/** Progress notification updates: the file being sent and its share of all bytes. */
function progressReporter(report: (update: ProgressUpdate) => void): (p: PushProgress) => void {
  const sent = new Map<string, number>();
  let total = 0;
  let reported = 0;
  return (p) => {
    if (p.kind === 'account') return report({ message: say`signed in as ${p.name}` });
    if (p.kind === 'repo') return report({ message: p.created ? say`created ${p.repoId}` : say`${p.repoId} exists` });
    if (p.kind === 'committing') return report({ message: say`committing ${p.files} files` });
    if (p.state === 'hashing') {
      if (!sent.has(p.path)) total += p.size;
      sent.set(p.path, sent.get(p.path) ?? 0);
      return report({ message: say`hashing ${p.path}` });
    }
    if (!sent.has(p.path) || total === 0) return; // a file sent inside the commit: committing says it
    const bytes = p.fraction * p.size;
    const increment = ((bytes - (sent.get(p.path) ?? 0)) / total) * 100;
    sent.set(p.path, bytes);
    reported += increment;
    report({
      message: say`${p.path} ${Math.floor(p.fraction * 100)}%`,
      increment: reported <= 100 ? increment : 0,
    });
  };
}

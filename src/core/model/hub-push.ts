/**
 * Publishing a model folder on the Hugging Face Hub (`bertft push`, "BERT: Push Model to Hugging Face Hub") through
 * @huggingface/hub: the token's account (whoami-v2), the repository created when it is missing, then one commit
 * with every file of the folder. Large files go by Git LFS (the Hub's preupload call says which; their sha256 is the
 * LFS oid), the rest inside the commit. The commit is atomic: a push that fails leaves the repository as it was
 * (a repository it created stays, empty). The local folder is only read.
 *
 * Xet, the Hub's newer storage protocol, is not used (`useXet: false`): the Hub takes LFS uploads for Xet-backed
 * repositories too and migrates them (https://huggingface.co/docs/hub/xet/legacy-git-lfs), and LFS is the protocol
 * tested here against a loopback server that checks what arrives.
 *
 * Requests go through ../net/fetch.ts (our HTTP client), so the proxy settings apply as they do to downloads.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { commitIter, createRepo, HubApiError, InvalidApiResponseFormatError, whoAmI } from '@huggingface/hub';
import { environmentError, ModelError, UserError } from '../errors';
import { nodeFetch } from '../net/fetch';
import { AbortedError, ConnectionError } from '../net/http';
import { BEST_DIR, hasRun, modelDirOf } from '../run/paths';
import { packageVersion } from '../util/package-version';
import { CERTIFICATE_FAILURES, CERTIFICATE_FIX, hubEndpoint, hubToken, NETWORK_FAILURES } from './hub';

export interface PushOptions {
  /** A model folder, or a run folder (which stands for its best/). */
  model: string;
  /** `namespace/name`, or `name` alone for the token's own account. */
  repo: string;
  /** Create the repository private; an existing repository keeps its visibility. */
  private?: boolean;
  /** The commit's title; default "Upload <folder> with bertft <version>". */
  message?: string;
  /** Default: $HF_TOKEN, else the token file `huggingface-cli login` wrote. */
  token?: string;
  /** Default $HF_ENDPOINT, else https://huggingface.co. */
  endpoint?: string;
  env?: NodeJS.ProcessEnv;
  onProgress?: (p: PushProgress) => void;
  signal?: AbortSignal;
}

export type PushProgress =
  | { kind: 'account'; name: string }
  | { kind: 'repo'; repoId: string; created: boolean }
  /**
   * `fraction` of the file hashed or sent; `uploaded` once per file, when it is on the Hub (LFS) or committed. `lfs`:
   * it goes by Git LFS (known once it is hashed).
   */
  | {
      kind: 'file';
      path: string;
      size: number;
      state: 'hashing' | 'uploading' | 'uploaded';
      fraction: number;
      lfs: boolean;
    }
  | { kind: 'committing'; files: number };

export interface PushedFile {
  /** The path in the repository (always with `/`). */
  path: string;
  size: number;
  /** Sent through Git LFS (else inside the commit). */
  lfs: boolean;
}

export interface PushResult {
  repoId: string;
  /** The repository's page. */
  url: string;
  /** Whether this push created the repository. */
  created: boolean;
  /** Asked for a private repository (an existing one keeps its visibility). */
  private: boolean;
  commit: { oid: string; url: string };
  files: PushedFile[];
  /** The folder that was pushed. */
  modelDir: string;
}

/** Why `repo` cannot be a Hub repository id (what the Hub accepts), or undefined. */
export function repoIdProblem(repo: string): string | undefined {
  const parts = repo.split('/');
  if (repo.trim() === '') return 'The repository id is empty.';
  if (parts.length > 2) return `"${repo}" has more than one "/": a repository id is name or user/name.`;
  for (const part of parts) {
    if (!/^[A-Za-z0-9_](?:[A-Za-z0-9_.-]{0,94}[A-Za-z0-9_])?$/.test(part)) {
      return (
        `"${part}" is not a valid name: up to 96 letters, digits, "-", "_" and ".", ` +
        'starting and ending with a letter, digit or "_".'
      );
    }
    if (part.includes('--') || part.includes('..')) return `"${part}" may not contain "--" or "..".`;
  }
  if (repo.endsWith('.git')) return 'A repository id may not end with ".git".';
  return undefined;
}

/** The files of a model folder as the repository will hold them, sorted; hidden entries (".name") are left out. */
export function modelFolderFiles(dir: string): { path: string; file: string; size: number }[] {
  const found: { path: string; file: string; size: number }[] = [];
  const walk = (folder: string, prefix: string): void => {
    for (const entry of fs.readdirSync(folder, { withFileTypes: true })) {
      if (entry.name.startsWith('.')) continue;
      const file = path.join(folder, entry.name);
      const stat = fs.statSync(file); // follows a link to a file (onnx/model.onnx may be one)
      if (stat.isDirectory() && !entry.isSymbolicLink()) walk(file, `${prefix}${entry.name}/`);
      else if (stat.isFile()) found.push({ path: `${prefix}${entry.name}`, file, size: stat.size });
    }
  };
  walk(dir, '');
  return found.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/** The folder a push sends: a run folder's best/, or a model folder (one with config.json). */
export function pushFolder(model: string): string {
  const given = path.resolve(model);
  if (!fs.existsSync(given) || !fs.statSync(given).isDirectory()) {
    throw new ModelError(`${given} is not a folder.`, {
      code: 'PUSH_NO_MODEL',
      file: given,
      fix: 'Give a run folder (its best/ model is pushed) or a model folder with config.json.',
    });
  }
  const dir = modelDirOf(given);
  if (!fs.existsSync(path.join(dir, 'config.json'))) {
    const run = hasRun(given);
    throw new ModelError(
      run ? `The run ${given} has no ${BEST_DIR}/ model yet.` : `${given} is not a model folder (no config.json).`,
      {
        code: 'PUSH_NO_MODEL',
        file: given,
        fix: run
          ? 'Push after its first evaluation has written best/ (or when training is done).'
          : 'Give a run folder (its best/ model is pushed) or a model folder with config.json.',
      },
    );
  }
  return dir;
}

export async function pushModel(opts: PushOptions): Promise<PushResult> {
  const env = opts.env ?? process.env;
  const endpoint = hubEndpoint(env, opts.endpoint);
  const modelDir = pushFolder(opts.model);
  const problem = repoIdProblem(opts.repo);
  if (problem !== undefined) {
    throw new UserError(`Cannot push to "${opts.repo}": ${problem}`, {
      code: 'PUSH_REPO_INVALID',
      fix: 'Name the repository user/name (or org/name), e.g. --repo alice/spam-classifier.',
    });
  }
  const token = hubToken({ token: opts.token }, env);
  if (token === undefined) {
    throw new UserError('Pushing to the Hugging Face Hub needs a token with write access, and none is set.', {
      code: 'PUSH_NO_TOKEN',
      fix: writeTokenFix(endpoint),
    });
  }
  if (!token.startsWith('hf_')) {
    throw new UserError('The Hugging Face token does not start with "hf_", so it is not one the Hub gives out.', {
      code: 'PUSH_TOKEN_INVALID',
      fix: writeTokenFix(endpoint),
    });
  }
  const files = modelFolderFiles(modelDir);
  const context: FailureContext = { endpoint, modelDir, repoId: opts.repo, step: 'account' };
  const hub = { accessToken: token, hubUrl: endpoint, fetch: nodeFetch };
  try {
    const me = await whoAmI(hub);
    opts.onProgress?.({ kind: 'account', name: me.name });
    if (me.auth.accessToken?.role === 'read') {
      throw new UserError(`The Hugging Face token of ${me.name} is a read token: it cannot push.`, {
        code: 'PUSH_READ_TOKEN',
        fix: writeTokenFix(endpoint),
      });
    }
    const repoId = opts.repo.includes('/') ? opts.repo : `${me.name}/${opts.repo}`;
    context.repoId = repoId;
    context.step = 'create';
    const created = await createRepoIfMissing(repoId, opts.private === true, hub);
    opts.onProgress?.({ kind: 'repo', repoId, created });
    context.step = 'upload';
    const commit = await commitFiles(repoId, files, modelDir, opts, hub);
    return {
      repoId,
      url: `${endpoint}/${repoId}`,
      created,
      private: opts.private === true,
      commit: commit.commit,
      files: commit.files,
      modelDir,
    };
  } catch (err) {
    throw pushError(err, context, opts.signal);
  }
}

type HubCall = { accessToken: string; hubUrl: string; fetch: typeof fetch };

/** Creates the repository; true when it did, false when it was there (409). */
async function createRepoIfMissing(repoId: string, asPrivate: boolean, hub: HubCall): Promise<boolean> {
  try {
    // Without --private the account's default visibility applies (public, unless an organization says otherwise).
    await createRepo({ ...hub, repo: { type: 'model', name: repoId }, visibility: asPrivate ? 'private' : undefined });
    return true;
  } catch (err) {
    if (err instanceof HubApiError && err.statusCode === 409) return false;
    throw err;
  }
}

async function commitFiles(
  repoId: string,
  files: { path: string; file: string; size: number }[],
  modelDir: string,
  opts: PushOptions,
  hub: HubCall,
): Promise<{ commit: { oid: string; url: string }; files: PushedFile[] }> {
  const sizes = new Map(files.map((f) => [f.path, f.size]));
  const operations = await Promise.all(
    files.map(async (f) => ({ operation: 'addOrUpdate' as const, path: f.path, content: await fs.openAsBlob(f.file) })),
  );
  const lfs = new Set<string>();
  const uploaded = new Set<string>();
  const report = (p: string, state: 'hashing' | 'uploading' | 'uploaded', fraction: number): void => {
    if (uploaded.has(p)) return;
    if (state === 'uploaded') uploaded.add(p);
    opts.onProgress?.({ kind: 'file', path: p, size: sizes.get(p) ?? 0, state, fraction, lfs: lfs.has(p) });
  };
  const title = opts.message?.trim() || `Upload ${path.basename(modelDir)} with bertft ${packageVersion()}`;
  const iterator = commitIter({
    ...hub,
    repo: { type: 'model', name: repoId },
    operations,
    title,
    useXet: false,
    abortSignal: opts.signal,
  });
  for (;;) {
    const next = await iterator.next();
    if (next.done) {
      if (!next.value) throw new InvalidApiResponseFormatError('the commit answered without a commit id');
      for (const f of files) report(f.path, 'uploaded', 1);
      return {
        commit: next.value.commit,
        files: files.map((f) => ({ path: f.path, size: f.size, lfs: lfs.has(f.path) })),
      };
    }
    const e = next.value;
    if (e.event === 'phase') {
      if (e.phase === 'committing') opts.onProgress?.({ kind: 'committing', files: files.length });
    } else if (e.state === 'hashing') {
      lfs.add(e.path); // only LFS files are hashed
      report(e.path, 'hashing', e.progress);
    } else if (e.state === 'uploading') {
      // An LFS file is on the Hub once sent; the others arrive with the commit.
      report(e.path, e.progress >= 1 && lfs.has(e.path) ? 'uploaded' : 'uploading', Math.min(e.progress, 1));
    }
  }
}

interface FailureContext {
  endpoint: string;
  modelDir: string;
  repoId: string;
  step: 'account' | 'create' | 'upload';
}

function writeTokenFix(endpoint: string): string {
  return (
    `Create a token with write access at ${endpoint}/settings/tokens, then set the HF_TOKEN environment variable ` +
    '(in VS Code: run "BERT: Set Hugging Face Token").'
  );
}

/** A failure of the push as a UserError that says what happened, that the local model is untouched, and what to do. */
function pushError(err: unknown, ctx: FailureContext, signal: AbortSignal | undefined): unknown {
  const host = new URL(ctx.endpoint).host;
  const untouched = `Your model at ${ctx.modelDir} is unchanged.`;
  const nothingCommitted =
    ctx.step === 'upload' ? ` Nothing was committed to ${ctx.repoId}. ${untouched}` : ` ${untouched}`;
  const retry = 'Run the same push again: files the Hub already has are not sent twice.';
  if (signal?.aborted || err instanceof AbortedError || (err instanceof Error && err.name === 'AbortError')) {
    return new UserError(`The push to ${ctx.repoId} was cancelled.${nothingCommitted}`, {
      code: 'CANCELLED',
      cause: err,
    });
  }
  if (err instanceof UserError) return err;
  if (err instanceof ConnectionError) {
    const what = NETWORK_FAILURES[err.code] ?? CERTIFICATE_FAILURES[err.code] ?? `the connection to ${host} failed`;
    return new UserError(`Cannot push to ${ctx.repoId} on ${host}: ${what} (${err.code}).${nothingCommitted}`, {
      code: 'PUSH_NETWORK',
      cause: err,
      fix: CERTIFICATE_FAILURES[err.code]
        ? CERTIFICATE_FIX
        : `Check the connection, the proxy (HTTPS_PROXY, NO_PROXY) or HF_ENDPOINT. ${retry}`,
    });
  }
  if (err instanceof HubApiError) {
    const said = hubMessage(err);
    if (err.statusCode === 401) {
      return new UserError(`The Hub at ${host} refused the token (HTTP 401${said}): it is wrong, expired or revoked.`, {
        code: 'PUSH_UNAUTHORIZED',
        cause: err,
        fix: writeTokenFix(ctx.endpoint),
      });
    }
    if (err.statusCode === 403) {
      const namespace = ctx.repoId.includes('/') ? ctx.repoId.split('/')[0] : 'this account';
      return new UserError(
        `The token may not write to ${ctx.repoId} (HTTP 403${said}).${ctx.step === 'account' ? '' : nothingCommitted}`,
        {
          code: 'PUSH_FORBIDDEN',
          cause: err,
          fix:
            `Push to your own account or an organization you may create models in, with a token that has write access ` +
            `to ${namespace} (a fine-grained token needs "write" for it; ${ctx.endpoint}/settings/tokens).`,
        },
      );
    }
    if (err.statusCode === 400 && ctx.step === 'create') {
      return new UserError(`The Hub refused to create ${ctx.repoId} (HTTP 400${said}).`, {
        code: 'PUSH_REPO_INVALID',
        cause: err,
        fix: 'Choose another repository name: letters, digits, "-", "_" and ".".',
      });
    }
    if (err.statusCode === 429) {
      return new UserError(`The Hub is rate-limiting this account (HTTP 429).${nothingCommitted}`, {
        code: 'PUSH_RATE_LIMITED',
        cause: err,
        fix: `Wait a few minutes. ${retry}`,
      });
    }
    return new UserError(
      `The push to ${ctx.repoId} failed: ${host} answered HTTP ${err.statusCode}${said}.${nothingCommitted}`,
      {
        code: 'PUSH_FAILED',
        cause: err,
        fix: `${retry} If it keeps failing, https://status.huggingface.co shows outages.`,
      },
    );
  }
  if (err instanceof InvalidApiResponseFormatError || (err instanceof Error && err.constructor === Error)) {
    // The library's own checks of what the server answered (a missing ETag, a wrong number of parts, ...).
    return new UserError(
      `The push to ${ctx.repoId} failed: the server at ${host} did not answer like the Hugging Face Hub (${err.message}).${nothingCommitted}`,
      { code: 'PUSH_FAILED', cause: err, fix: `Check HF_ENDPOINT. ${retry}` },
    );
  }
  if (err instanceof Error && err.name === 'NotReadableError') {
    return new UserError(
      `A file of ${ctx.modelDir} changed or vanished while it was being pushed.${nothingCommitted}`,
      {
        code: 'PUSH_FILE_CHANGED',
        cause: err,
        fix: 'Wait until nothing writes the model folder (a training run still saving its best model), then push again.',
      },
    );
  }
  return environmentError(err) ?? err;
}

/** What the Hub said about a failure, as ": <its words>" (without the URL the library appends), or "". */
function hubMessage(err: HubApiError): string {
  const data = err.data as { error?: unknown; message?: unknown } | undefined;
  const said = typeof data?.error === 'string' ? data.error : typeof data?.message === 'string' ? data.message : '';
  const line = said.replace(/\s+/g, ' ').trim().slice(0, 300);
  return line ? `: ${line}` : '';
}

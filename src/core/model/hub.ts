/**
 * Turns a model spec into a folder holding config.json, the tokenizer files and the weights: model.safetensors when the
 * repository has it, else model.safetensors.index.json and its shards, else pytorch_model.bin, else
 * pytorch_model.bin.index.json and its shards (the order of ./weights-file.ts, which reads them).
 *
 * Specs: a local folder (returned as is); `random:<size>` (returned as a marker: building random weights is the
 * model module's job); a Hugging Face Hub id `name` or `org/name`, optionally `@revision` (branch, tag or commit).
 *
 * Hub downloads use the same cache as the Python `huggingface_hub` library, so models are shared with it:
 * `<hub cache>/models--org--name/{blobs/<etag>, snapshots/<commit>/<file> → ../../blobs/<etag>, refs/<revision>}`.
 * The hub cache is $HF_HUB_CACHE, else $HF_HOME/hub, else $XDG_CACHE_HOME/huggingface/hub, else
 * ~/.cache/huggingface/hub. A model whose snapshot is complete in the cache is used without any request, so a
 * training run is reproducible and works offline; pin `@<commit>` or clear the cache to pick up upstream changes.
 * A cached file that is visibly damaged (weights shorter than their header says, JSON cut off) sends us to the Hub
 * instead, and a blob that does not match what the Hub announces (size, checksum) is replaced.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { UserError } from '../errors';
import { ChecksumError, downloadFile, gitBlobSha1, hashFile } from '../net/download';
import { AbortedError, ConnectionError, HttpStatusError, headerValue, request } from '../net/http';
import { readPytorchBinNames } from './pytorch-bin';
import { readSafetensorsHeader } from './safetensors';
import { WEIGHTS_CANDIDATES, isIndexFile, parseShardIndex, shardFiles } from './weights-file';
import { renameWithRetry, writeFileAtomic } from '../util/files';

export type ResolvedModel =
  | { kind: 'local'; dir: string }
  | { kind: 'hub'; dir: string; repoId: string; revision: string; commit: string; files: string[] }
  | { kind: 'random'; size: string };

export interface HubProgress {
  file: string;
  bytes: number;
  /** Undefined when the server did not say. */
  total: number | undefined;
  /** Set once, before the download, when the copy in the cache was damaged: what was wrong with it. */
  replacing?: string;
}

export interface ResolveModelOptions {
  /** Hub token for gated or private models; default $HF_TOKEN, else the token file `huggingface-cli login` wrote. */
  token?: string;
  /** Default $HF_ENDPOINT, else https://huggingface.co. */
  endpoint?: string;
  /** The hub cache folder (the one holding models--*); default as described at the top of this file. */
  cacheDir?: string;
  /** Use the cache only; default true when $HF_HUB_OFFLINE is 1/true/yes/on. */
  offline?: boolean;
  onProgress?: (p: HubProgress) => void;
  signal?: AbortSignal;
  /** Environment to read HF_* variables from; default process.env. */
  env?: NodeJS.ProcessEnv;
  /** How a snapshot file is linked to its blob; default fs.promises.symlink (tests forbid it to exercise the copy). */
  symlink?: (target: string, file: string) => Promise<void>;
}

type HubSpec = { repoId: string; revision: string };

const COMMIT_HASH = /^[0-9a-f]{40}$/;
const REPO_ID = /^(?:[A-Za-z0-9][A-Za-z0-9._-]*\/)?[A-Za-z0-9][A-Za-z0-9._-]*$/;
const TOKEN_FIX =
  "Create a read token at https://huggingface.co/settings/tokens, accept the model's terms on its Hub page if it is gated, " +
  'then set the HF_TOKEN environment variable (in VS Code: run "BERT: Set Hugging Face Token").';

/**
 * Besides config.json and the weights, the first of these a repository has in full, in the order the tokenizer
 * loader (core/tokenize) prefers them: tokenizer.json; BERT's vocab.txt; GPT-2 / RoBERTa's vocab.json + merges.txt;
 * a SentencePiece model (DeBERTa-v3, XLM-R), converted when it is loaded.
 */
const TOKENIZER_FILE_SETS: readonly (readonly string[])[] = [
  ['tokenizer.json'],
  ['vocab.txt'],
  ['vocab.json', 'merges.txt'],
  ['spm.model'],
  ['sentencepiece.bpe.model'],
];
const OPTIONAL = ['tokenizer_config.json'];

export async function resolveModel(spec: string, opts: ResolveModelOptions = {}): Promise<ResolvedModel> {
  const parsed = parseModelSpec(spec);
  if (parsed.kind !== 'hub') return parsed;
  const env = opts.env ?? process.env;
  const repoDir = path.join(opts.cacheDir ?? hubCacheDir(env), `models--${parsed.repoId.replace(/\//g, '--')}`);

  const offline = opts.offline ?? isTruthy(env.HF_HUB_OFFLINE);
  const cached = findCachedSnapshot(repoDir, parsed.revision);
  // A damaged file is fetched again when the Hub can be asked; offline, loading it names the file.
  if (cached && (offline || !(await anyDamaged(cached.dir, cached.files)))) {
    return { kind: 'hub', repoId: parsed.repoId, revision: parsed.revision, ...cached };
  }

  if (offline) {
    throw new UserError(`Offline mode (HF_HUB_OFFLINE) is on and ${spec} is not in the model cache (${repoDir}).`, {
      code: 'HUB_NOT_CACHED',
      fix: 'Unset HF_HUB_OFFLINE and connect to download it once, or give the path of a local model folder instead.',
    });
  }
  return download(parsed, repoDir, opts, env);
}

/** The folder of a Hub model spec already in the cache (usable offline), or undefined. */
export function cachedHubModel(
  spec: string,
  opts: Pick<ResolveModelOptions, 'cacheDir' | 'env'> = {},
): string | undefined {
  let parsed: ReturnType<typeof parseModelSpec>;
  try {
    parsed = parseModelSpec(spec);
  } catch {
    return undefined;
  }
  if (parsed.kind !== 'hub') return undefined;
  const repoDir = path.join(
    opts.cacheDir ?? hubCacheDir(opts.env ?? process.env),
    `models--${parsed.repoId.replace(/\//g, '--')}`,
  );
  return findCachedSnapshot(repoDir, parsed.revision)?.dir;
}

/**
 * Whether the Hub (HF_ENDPOINT or huggingface.co) answers within `timeoutMs`: any HTTP answer counts, a connection
 * error, a DNS failure or silence does not. HF_HUB_OFFLINE counts as unreachable without asking.
 */
export async function probeHub(
  opts: { endpoint?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Promise<{ reachable: boolean; reason?: string }> {
  const env = opts.env ?? process.env;
  if (isTruthy(env.HF_HUB_OFFLINE)) return { reachable: false, reason: 'HF_HUB_OFFLINE is set' };
  const endpoint = hubEndpoint(env, opts.endpoint);
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), opts.timeoutMs ?? 2500);
  try {
    const res = await request(`${endpoint}/api/models/bert-base-uncased`, {
      method: 'HEAD',
      signal: abort.signal,
      timeoutMs: opts.timeoutMs ?? 2500,
      followRedirects: 'none',
    });
    res.body.resume();
    return { reachable: true };
  } catch (err) {
    return {
      reachable: false,
      reason: abort.signal.aborted
        ? `no answer from ${endpoint} within ${(opts.timeoutMs ?? 2500) / 1000} s`
        : (err as Error).message,
    };
  } finally {
    clearTimeout(timer);
  }
}

/** Classifies a spec without touching the network. Throws UserError for a spec that is none of the three kinds. */
export function parseModelSpec(
  spec: string,
): { kind: 'local'; dir: string } | { kind: 'random'; size: string } | ({ kind: 'hub' } & HubSpec) {
  const trimmed = spec.trim();
  if (trimmed.startsWith('random:')) return { kind: 'random', size: trimmed.slice('random:'.length) };
  const expanded = trimmed.startsWith('~/') ? path.join(os.homedir(), trimmed.slice(2)) : trimmed;
  const looksLikePath = path.isAbsolute(expanded) || /^\.\.?([/\\]|$)/.test(expanded) || expanded !== trimmed;
  if (looksLikePath || isDirectory(expanded)) {
    if (!isDirectory(expanded)) {
      throw new UserError(`Model folder ${expanded} does not exist.`, {
        code: 'MODEL_FOLDER_MISSING',
        file: expanded,
        fix: 'Check the path (relative to the current folder), or give a Hub id such as bert-base-uncased, or random:tiny.',
      });
    }
    return { kind: 'local', dir: path.resolve(expanded) };
  }
  const at = trimmed.indexOf('@');
  const repoId = at < 0 ? trimmed : trimmed.slice(0, at);
  const revision = at < 0 ? 'main' : trimmed.slice(at + 1);
  if (!REPO_ID.test(repoId) || repoId.includes('--') || repoId.includes('..') || revision === '') {
    throw new UserError(`"${spec}" is neither a local folder nor a Hugging Face model id.`, {
      code: 'MODEL_SPEC_INVALID',
      fix: 'Use a folder path, a Hub id such as bert-base-uncased or org/name (optionally @revision), or random:<size>.',
    });
  }
  return { kind: 'hub', repoId, revision };
}

export function hubCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.HF_HUB_CACHE) return env.HF_HUB_CACHE;
  return path.join(hfHome(env), 'hub');
}

function hfHome(env: NodeJS.ProcessEnv): string {
  if (env.HF_HOME) return env.HF_HOME;
  return path.join(env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache'), 'huggingface');
}

/** The Hub's base URL without a trailing slash: `explicit`, else $HF_ENDPOINT, else https://huggingface.co. */
export function hubEndpoint(env: NodeJS.ProcessEnv = process.env, explicit?: string): string {
  return (explicit || env.HF_ENDPOINT || 'https://huggingface.co').replace(/\/+$/, '');
}

/** The token from options, $HF_TOKEN, or the file `huggingface-cli login` writes; undefined when there is none. */
export function hubToken(opts: ResolveModelOptions, env: NodeJS.ProcessEnv): string | undefined {
  if (opts.token) return opts.token;
  if (env.HF_TOKEN) return env.HF_TOKEN;
  try {
    const fromFile = fs.readFileSync(env.HF_TOKEN_PATH || path.join(hfHome(env), 'token'), 'utf8').trim();
    return fromFile || undefined;
  } catch {
    return undefined;
  }
}

function findCachedSnapshot(
  repoDir: string,
  revision: string,
): { dir: string; commit: string; files: string[] } | undefined {
  let commit = revision;
  if (!COMMIT_HASH.test(revision)) {
    try {
      commit = fs.readFileSync(path.join(repoDir, 'refs', revision), 'utf8').trim();
    } catch {
      return undefined;
    }
  }
  const dir = path.join(repoDir, 'snapshots', commit);
  const present = (f: string) => fs.existsSync(path.join(dir, f)); // follows the symlink: the blob must exist too
  const tokenizer = TOKENIZER_FILE_SETS.find((set) => set.every(present));
  const weights = cachedWeightFiles(dir, present);
  if (!tokenizer || !present('config.json') || !weights) return undefined;
  const files = ['config.json', ...tokenizer, ...OPTIONAL.filter(present), ...weights]; // download order
  return { dir, commit, files };
}

/** The weights a cached snapshot holds in full (an index with all its shards), in the order they are preferred. */
function cachedWeightFiles(dir: string, present: (f: string) => boolean): string[] | undefined {
  const name = WEIGHTS_CANDIDATES.find(present);
  if (name === undefined || !isIndexFile(name)) return name === undefined ? undefined : [name];
  try {
    const shards = shardFiles(parseShardIndex(fs.readFileSync(path.join(dir, name), 'utf8'), path.join(dir, name)));
    return shards.every(present) ? [name, ...shards] : undefined;
  } catch {
    return undefined; // a damaged index: fetched again
  }
}

interface FileMeta {
  commit: string;
  etag: string;
  size: number | undefined;
}

async function download(
  spec: HubSpec,
  repoDir: string,
  opts: ResolveModelOptions,
  env: NodeJS.ProcessEnv,
): Promise<ResolvedModel> {
  const endpoint = hubEndpoint(env, opts.endpoint);
  const token = hubToken(opts, env);
  const headers: Record<string, string> = { 'user-agent': 'bertft' };
  if (token) headers.authorization = `Bearer ${token}`;
  const fileUrl = (name: string) => `${endpoint}/${spec.repoId}/resolve/${encodeURIComponent(spec.revision)}/${name}`;
  const ctx = { spec, token, endpoint };

  const metas = new Map<string, FileMeta>();
  const fetchMeta = async (name: string, optional: boolean): Promise<boolean> => {
    try {
      metas.set(name, await fileMetadata(fileUrl(name), headers, opts.signal));
      return true;
    } catch (err) {
      const absent =
        err instanceof HttpStatusError &&
        err.status === 404 &&
        (err.header('x-error-code') ?? 'EntryNotFound') === 'EntryNotFound';
      if (optional && absent) return false;
      throw toUserError(err, ctx, name);
    }
  };
  await fetchMeta('config.json', false);
  let tokenizer: readonly string[] | undefined;
  for (const set of TOKENIZER_FILE_SETS) {
    const found: string[] = [];
    for (const name of set) if (await fetchMeta(name, true)) found.push(name);
    if (found.length === set.length) {
      tokenizer = set;
      break;
    }
    for (const name of found) metas.delete(name); // half a set (vocab.json without merges.txt) is not downloaded
  }
  if (tokenizer === undefined) {
    const names = TOKENIZER_FILE_SETS.map((set) => set.join(' + ')).join(', ');
    throw new UserError(`${spec.repoId} has no tokenizer we can read: none of ${names}.`, {
      code: 'HUB_NO_TOKENIZER',
      fix: 'Pick a BERT-family model that ships a tokenizer, or download it into a folder and add one.',
    });
  }
  for (const name of OPTIONAL) await fetchMeta(name, true);
  let weights: string | undefined;
  for (const name of WEIGHTS_CANDIDATES) {
    if (await fetchMeta(name, true)) {
      weights = name;
      break;
    }
  }
  if (weights === undefined) {
    throw new UserError(`${spec.repoId} has no weights we can read: none of ${WEIGHTS_CANDIDATES.join(', ')}.`, {
      code: 'HUB_NO_WEIGHTS',
      fix: 'Pick a model that publishes PyTorch weights (model.safetensors or pytorch_model.bin, sharded or not); TensorFlow-, Flax- and ONNX-only repositories are not supported.',
    });
  }

  const commit = metas.get('config.json')!.commit;
  const snapshotDir = path.join(repoDir, 'snapshots', commit);
  const placed = new Set<string>();
  const place = async (name: string, meta: FileMeta): Promise<void> => {
    if (placed.has(name)) return;
    placed.add(name);
    const blob = path.join(repoDir, 'blobs', meta.etag);
    const damage = fs.existsSync(blob) ? await blobDamage(name, blob, meta) : undefined;
    if (damage) {
      // A cache entry (ours or huggingface_hub's) that is not the announced file: replaced, as a forced download does.
      opts.onProgress?.({ file: name, bytes: 0, total: meta.size, replacing: damage });
      await fs.promises.rm(blob, { force: true });
    }
    if (!fs.existsSync(blob)) {
      try {
        await downloadFile(fileUrl(name), blob, {
          headers,
          expectedSize: meta.size,
          verify: (file) => verifyBlob(name, file, meta),
          onProgress: (bytes, total) => opts.onProgress?.({ file: name, bytes, total }),
          signal: opts.signal,
        });
      } catch (err) {
        throw toUserError(err, ctx, name);
      }
    }
    await linkIntoSnapshot(blob, path.join(snapshotDir, name), opts.symlink);
  };
  if (isIndexFile(weights)) {
    // The shards are known once the index is here.
    const index = path.join(snapshotDir, weights);
    await place(weights, metas.get(weights)!);
    for (const shard of shardFiles(parseShardIndex(await fs.promises.readFile(index, 'utf8'), index))) {
      await fetchMeta(shard, false);
    }
  }
  for (const [name, meta] of metas) await place(name, meta);
  if (!COMMIT_HASH.test(spec.revision)) {
    const ref = path.join(repoDir, 'refs', spec.revision);
    await fs.promises.mkdir(path.dirname(ref), { recursive: true });
    await writeFileAtomic(ref, commit);
  }
  return { kind: 'hub', ...spec, dir: snapshotDir, commit, files: [...metas.keys()] };
}

/** HEAD on the resolve URL: the Hub puts commit, checksum and size in the headers (of the 302 for LFS files). */
async function fileMetadata(url: string, headers: Record<string, string>, signal?: AbortSignal): Promise<FileMeta> {
  const res = await request(url, {
    method: 'HEAD',
    headers: { ...headers, 'accept-encoding': 'identity' },
    followRedirects: 'relative', // a renamed repo redirects within the Hub; LFS files redirect to a CDN we do not need yet
    signal,
  });
  res.body.resume();
  if (res.status >= 400) throw new HttpStatusError(res.status, res.url, res.headers);
  const etag = normalizeEtag(headerValue(res.headers, 'x-linked-etag') ?? headerValue(res.headers, 'etag'));
  const size = Number(headerValue(res.headers, 'x-linked-size') ?? headerValue(res.headers, 'content-length'));
  const commit = headerValue(res.headers, 'x-repo-commit');
  if (!etag || !commit || !/^[\w.-]+$/.test(etag) || !/^[\w.-]+$/.test(commit)) {
    throw new UserError(
      `The server at ${new URL(url).origin} did not answer like the Hugging Face Hub (no ETag or X-Repo-Commit).`,
      {
        code: 'HUB_BAD_SERVER',
        fix: 'Check HF_ENDPOINT: it must point at the Hub or a mirror of its API.',
      },
    );
  }
  return { commit, etag, size: Number.isFinite(size) && size > 0 ? size : undefined };
}

function normalizeEtag(raw: string | undefined): string | undefined {
  return raw?.replace(/^W\//, '').replace(/"/g, '');
}

/**
 * Throws ChecksumError unless `file` can be the one the Hub announced: its size (when announced) and its checksum (LFS
 * files carry their sha256 as ETag, others their git blob sha1). When a mirror announces neither (an opaque ETag, no
 * Content-Length), the file's own structure is the only guard: a transfer without Content-Length that the server
 * cuts by closing the connection looks complete.
 */
async function verifyBlob(name: string, file: string, meta: FileMeta): Promise<void> {
  const size = (await fs.promises.stat(file)).size;
  if (meta.size !== undefined && size !== meta.size)
    throw new ChecksumError(file, `${meta.size} bytes`, `${size} bytes`);
  const etag = meta.etag;
  const hashed = /^[0-9a-f]{64}$/.test(etag)
    ? await hashFile(file, 'sha256')
    : /^[0-9a-f]{40}$/.test(etag)
      ? await gitBlobSha1(file)
      : undefined;
  if (hashed !== undefined && hashed !== etag) throw new ChecksumError(file, etag, hashed);
  if (hashed !== undefined || meta.size !== undefined) return;
  const problem = await structureProblem(name, file);
  if (problem) throw new ChecksumError(file, `a complete ${name}`, problem);
}

/** What verifyBlob finds wrong with a blob already in the cache, in words, or undefined. */
async function blobDamage(name: string, blob: string, meta: FileMeta): Promise<string | undefined> {
  try {
    await verifyBlob(name, blob, meta);
    return undefined;
  } catch (e) {
    if (!(e instanceof ChecksumError)) throw e;
    return `expected ${e.expected}, found ${e.actual}`;
  }
}

/** Whether any of a cached snapshot's files is visibly damaged. */
async function anyDamaged(dir: string, files: string[]): Promise<boolean> {
  for (const name of files) if (await structureProblem(name, path.join(dir, name))) return true;
  return false;
}

/** What is wrong with a file on its own terms (weights shorter than their header says, JSON cut off), or undefined. */
async function structureProblem(name: string, file: string): Promise<string | undefined> {
  try {
    if (name.endsWith('.safetensors')) await readSafetensorsHeader(file);
    else if (name.endsWith('.bin')) await readPytorchBinNames(file);
    else if (name.endsWith('.json')) JSON.parse(await fs.promises.readFile(file, 'utf8'));
    return undefined;
  } catch (e) {
    return e instanceof SyntaxError ? `not valid JSON (${e.message})` : (e as Error).message;
  }
}

/**
 * snapshots/<commit>/<name> → ../../blobs/<etag>, as huggingface_hub does; a copy where symlinks are not allowed
 * (Windows without Developer Mode says EPERM; some network and FAT drives have none), as huggingface_hub does too.
 */
async function linkIntoSnapshot(
  blob: string,
  target: string,
  symlink: (target: string, file: string) => Promise<void> = (to, file) => fs.promises.symlink(to, file, 'file'),
): Promise<void> {
  await fs.promises.mkdir(path.dirname(target), { recursive: true });
  const tmp = `${target}.${process.pid}.tmp`;
  await fs.promises.rm(tmp, { force: true });
  try {
    await symlink(path.relative(path.dirname(target), blob), tmp);
  } catch {
    await fs.promises.copyFile(blob, tmp);
  }
  await renameWithRetry(tmp, target);
}

/** What a socket error code means, in words (downloads and pushes say it alike). */
export const NETWORK_FAILURES: Readonly<Record<string, string>> = {
  ENOTFOUND: 'the host name cannot be resolved (DNS): this machine seems to be offline',
  EAI_AGAIN: 'the name server did not answer (DNS): this machine seems to be offline',
  ECONNREFUSED: 'the connection was refused',
  ECONNRESET: 'the connection was reset during the transfer',
  ETIMEDOUT: 'the server stopped answering (timeout)',
  EPIPE: 'the connection broke during the transfer',
  ENETUNREACH: 'the network is unreachable: this machine seems to be offline',
  EHOSTUNREACH: 'the host is unreachable',
};

/** TLS verification failures: a proxy that inspects HTTPS presents certificates of a CA that Node does not know. */
export const CERTIFICATE_FAILURES: Readonly<Record<string, string>> = {
  SELF_SIGNED_CERT_IN_CHAIN: "the server's certificate is signed by a CA this machine does not trust",
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: "the server's certificate is signed by a CA this machine does not trust",
  DEPTH_ZERO_SELF_SIGNED_CERT: "the server's certificate is self-signed",
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: "the server's certificate cannot be verified",
  CERT_HAS_EXPIRED: "the server's certificate has expired",
  ERR_TLS_CERT_ALTNAME_INVALID: "the server's certificate is for another host name",
};
export const CERTIFICATE_FIX =
  "If a proxy or firewall inspects HTTPS, set NODE_EXTRA_CA_CERTS to its CA's certificate (a PEM file) before starting bertft or VS Code.";

function toUserError(
  err: unknown,
  ctx: { spec: HubSpec; token: string | undefined; endpoint: string },
  file: string,
): unknown {
  const { repoId, revision } = ctx.spec;
  const page = `${ctx.endpoint}/${repoId}`;
  if (err instanceof UserError) return err;
  if (err instanceof AbortedError)
    return new UserError(`Download of ${repoId} was cancelled.`, { code: 'HUB_CANCELLED', cause: err });
  if (err instanceof ConnectionError) {
    const host = new URL(ctx.endpoint).host;
    // Named for what happened: a dropped transfer is not "offline".
    const what = NETWORK_FAILURES[err.code] ?? CERTIFICATE_FAILURES[err.code] ?? `the connection to ${host} failed`;
    const local = !fs.existsSync(repoId)
      ? ` (There is no folder "${repoId}" in ${process.cwd()} either; a local model is a folder path such as ./${repoId}.)`
      : '';
    return new UserError(`Cannot download ${repoId} from ${host}: ${what} (${err.code}).${local}`, {
      code:
        err.code === 'ENOTFOUND' || err.code === 'ECONNREFUSED' || err.code === 'EAI_AGAIN'
          ? 'HUB_OFFLINE'
          : 'HUB_NETWORK',
      cause: err,
      fix: CERTIFICATE_FAILURES[err.code]
        ? CERTIFICATE_FIX
        : 'Check the connection, the proxy (HTTPS_PROXY, NO_PROXY) or HF_ENDPOINT and try again: a partial download resumes. Or give the path of a local model folder instead.',
    });
  }
  if (err instanceof ChecksumError) {
    return new UserError(`The download of ${repoId}/${file} was corrupted (${err.message}) and has been deleted.`, {
      code: 'HUB_CHECKSUM',
      cause: err,
      fix: 'Try again; if it keeps failing, check for a proxy or disk that alters files.',
    });
  }
  if (err instanceof HttpStatusError) {
    const errorCode = err.header('x-error-code');
    if (err.status === 401 || err.status === 403) {
      if (errorCode === 'RepoNotFound') return noSuchModel(repoId, err);
      const why = ctx.token
        ? `your token does not give access to ${repoId}: it is gated (accept its terms at ${page}) or private`
        : `${repoId} is gated or private, so a Hugging Face token is needed`;
      return new UserError(`Cannot download ${repoId}: ${why}.`, { code: 'HUB_GATED', cause: err, fix: TOKEN_FIX });
    }
    if (err.status === 404) {
      if (errorCode === 'RevisionNotFound') {
        return new UserError(`${repoId} has no revision "${revision}".`, {
          code: 'HUB_NO_SUCH_REVISION',
          cause: err,
          fix: `Use a branch, tag or commit listed at ${page}/tree/main, or leave out @revision.`,
        });
      }
      if (errorCode === 'EntryNotFound') {
        return new UserError(`${repoId} has no file ${file} (no such model or file).`, {
          code: 'HUB_NO_SUCH_FILE',
          cause: err,
          fix: `Check the files listed at ${page}.`,
        });
      }
      return noSuchModel(repoId, err);
    }
    if (err.status === 429) {
      return new UserError(`The Hub is rate-limiting downloads of ${repoId} (HTTP 429).`, {
        code: 'HUB_RATE_LIMITED',
        cause: err,
        fix: `Wait a few minutes and try again; logged-in requests (HF_TOKEN) get a higher limit.`,
      });
    }
    return new UserError(`The Hub answered HTTP ${err.status} for ${repoId}/${file}.`, {
      code: 'HUB_HTTP_ERROR',
      cause: err,
      fix: 'Try again later; https://status.huggingface.co shows outages.',
    });
  }
  return err;
}

function noSuchModel(repoId: string, cause: unknown): UserError {
  return new UserError(`No such model or file: ${repoId} is not on the Hugging Face Hub (or it is private).`, {
    code: 'HUB_NO_SUCH_MODEL',
    cause,
    fix: 'Check the spelling (e.g. bert-base-uncased or google-bert/bert-base-uncased); for a private model set HF_TOKEN.',
  });
}

function isTruthy(value: string | undefined): boolean {
  return ['1', 'true', 'yes', 'on'].includes((value ?? '').trim().toLowerCase());
}

function isDirectory(p: string): boolean {
  try {
    return fs.statSync(p).isDirectory();
  } catch {
    return false;
  }
}

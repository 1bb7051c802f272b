/**
 * The extension's network needs besides VS Code's own proxying of this extension host: the proxy settings handed to
 * the trainer child, and the Hugging Face token for gated and private models, kept in VS Code's SecretStorage (the
 * system keychain), never in settings, run folders or logs. "BERT: Set Hugging Face Token" stores it, "BERT: Clear Hugging Face Token" removes
 * it. Downloads in this window pass it to the Hub client, and the trainer child gets it as HF_TOKEN in its environment
 * (./networkEnv.ts). Without a stored token, HF_TOKEN or `huggingface-cli login`'s token file still apply.
 */
import * as vscode from 'vscode';
import { UserError } from '../core/errors';
import type { Ctx } from './context';
import { info, input, say } from './display/ui';
import { childNetworkEnv, type NetworkSettings } from './networkEnv';

const SECRET_KEY = 'bert.huggingFaceToken';
/** Visible ASCII without spaces: what an HTTP header can carry (a pasted line break would break it). */
const TOKEN_SHAPE = /^[\x21-\x7e]+$/;

/** What the commands did, for tests and other commands; never the token itself. */
export type HubTokenChange = 'stored' | 'cleared';

/**
 * The stored token, also held in memory so a trainer can be started synchronously. It is read at activation and
 * again whenever it changes (in this window or another).
 */
export class HubTokenStore implements vscode.Disposable {
  private value: string | undefined;
  private readonly subscription: vscode.Disposable;
  /** Settles once the stored token has been read. */
  readonly ready: Promise<void>;

  constructor(private readonly secrets: vscode.SecretStorage) {
    this.ready = this.reload();
    this.subscription = secrets.onDidChange((e) => {
      if (e.key === SECRET_KEY) void this.reload();
    });
  }

  /** The token, or undefined when none is stored (or it has not been read yet). */
  get current(): string | undefined {
    return this.value;
  }

  async get(): Promise<string | undefined> {
    await this.ready;
    return this.value;
  }

  async set(token: string): Promise<void> {
    await this.secrets.store(SECRET_KEY, token);
    this.value = token;
  }

  async clear(): Promise<void> {
    await this.secrets.delete(SECRET_KEY);
    this.value = undefined;
  }

  dispose(): void {
    this.subscription.dispose();
  }

  private async reload(): Promise<void> {
    this.value = (await this.secrets.get(SECRET_KEY)) || undefined;
  }
}

/** Why `token` cannot be a Hub token, or undefined. */
export function tokenProblem(token: string): string | undefined {
  if (token.trim() === '') return 'The token is empty.';
  if (!TOKEN_SHAPE.test(token.trim())) return 'A token has no spaces, line breaks or other special characters.';
  return undefined;
}

/**
 * Registers both commands. "Set" asks with a password box; a caller (a test) may pass `{ token }` instead. A bad
 * token is refused without echoing it.
 */
export function registerHubTokenCommands(ctx: Ctx): void {
  const { hubToken: store, log } = ctx;
  ctx.command('bert.setHubToken', async (given?: { token?: string }): Promise<HubTokenChange | undefined> => {
    const typed =
      given?.token ??
      (await input({
        title: say`BERT: Hugging Face token`,
        prompt: say`A token from https://huggingface.co/settings/tokens: read access for gated and private models, write access to push models. It is kept in VS Code's secret storage.`,
        placeHolder: say`hf_…`,
        password: true,
        ignoreFocusOut: true,
        validate: (v) => {
          const problem = tokenProblem(v);
          return problem === undefined ? undefined : say`${problem}`;
        },
      }));
    if (typed === undefined) return undefined;
    const problem = tokenProblem(typed);
    if (problem !== undefined) throw new UserError(problem, { code: 'HUB_TOKEN_INVALID' });
    await store.set(typed.trim());
    log.info('Hugging Face token stored in secret storage; downloads and runs started from now on use it.');
    void info(say`BERT: Hugging Face token stored. Downloads and training runs started from now on use it.`);
    return 'stored';
  });

  ctx.command('bert.clearHubToken', async (): Promise<HubTokenChange> => {
    await store.clear();
    log.info('Hugging Face token removed from secret storage.');
    void info(say`BERT: Hugging Face token removed.`);
    return 'cleared';
  });
}

/** VS Code's proxy settings (`http.*`), read fresh: the trainer child applies them itself. */
export function readNetworkSettings(): NetworkSettings {
  const http = vscode.workspace.getConfiguration('http');
  return {
    proxy: http.get<string>('proxy', '') ?? '',
    noProxy: (http.get<unknown[]>('noProxy', []) ?? []).filter((h): h is string => typeof h === 'string'),
    proxyStrictSSL: http.get<boolean>('proxyStrictSSL', true) ?? true,
  };
}

/** The trainer child's environment: `base` with the proxy settings and the stored token. */
export function trainerEnv(base: NodeJS.ProcessEnv, store: HubTokenStore): NodeJS.ProcessEnv {
  return childNetworkEnv(base, readNetworkSettings(), store.current);
}

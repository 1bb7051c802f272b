/**
 * "BERT: Install CUDA Support": a VSIX never runs onnxruntime-node's install script, so the CUDA execution provider
 * (matching the bundled ORT) is fetched here on the user's request, with progress and cancellation, into the
 * extension's global storage and placed beside onnxruntime-node's binding, where ORT loads it from.
 */
import * as vscode from 'vscode';
import { detectCudaRuntime, installCudaProvider, type InstalledCudaProvider } from '../core/runtime/cuda-provider';
import { ortBinaryDir } from '../core/runtime/devices';
import { isUserError } from '../core/errors';
import type { Ctx } from './context';
import { error as showError, info, long, say, warn, withProgress } from './display/ui';

/** Arguments a caller (or a test) may pass; a user runs the command without any. */
export interface InstallCudaArgs {
  /** NuGet v3 service index (a mirror, or a loopback feed in tests). */
  feed?: string;
  /** Where the provider libraries go; default onnxruntime-node's binary folder. */
  targetDir?: string;
}

export interface InstallCudaResult {
  installed: InstalledCudaProvider;
  /** The CUDA runtime check after installing: what is still missing on this machine. */
  runtimeMessage: string;
  runtimeOk: boolean;
}

export function registerGpuCommands(ctx: Ctx): void {
  const { log, extension: context } = ctx;
  ctx.own(
    vscode.commands.registerCommand(
      'bert.installCuda',
      async (args: InstallCudaArgs = {}): Promise<InstallCudaResult | undefined> => {
        const targetDir = args.targetDir ?? ortBinaryDir();
        try {
          const installed = await withProgress(
            {
              location: vscode.ProgressLocation.Notification,
              title: say`BERT: downloading the CUDA execution provider`,
              cancellable: true,
            },
            async (report, token) => {
              const abort = new AbortController();
              token.onCancellationRequested(() => abort.abort());
              let reported = 0;
              return installCudaProvider({
                targetDir,
                cacheDir: context.globalStorageUri.fsPath,
                feedIndexUrl: args.feed,
                signal: abort.signal,
                onProgress: (bytes, total) => {
                  if (!total) return;
                  const percent = (100 * bytes) / total;
                  report({
                    increment: percent - reported,
                    message: say`${(bytes / 1e6).toFixed(0)} of ${(total / 1e6).toFixed(0)} MB`,
                  });
                  reported = percent;
                },
              });
            },
          );
          const runtime = detectCudaRuntime({
            providerLibrary: installed.files.find((f) => f.endsWith('providers_cuda.so')),
          });
          log.info(`CUDA provider installed in ${targetDir} (verified by ${installed.verifiedBy}). ${runtime.message}`);
          void (runtime.ok
            ? info(say`BERT: CUDA support is installed. Choose device "cuda" (or "auto") to train on the GPU.`)
            : warn(
                say`BERT: the CUDA provider is installed, but this machine cannot use it yet. ${long(runtime.message)}`,
              ));
          return { installed, runtimeMessage: runtime.message, runtimeOk: runtime.ok };
        } catch (e) {
          const message = isUserError(e) ? e.describe() : e instanceof Error ? e.message : String(e);
          log.error(`Install CUDA Support failed: ${e instanceof Error ? (e.stack ?? message) : message}`);
          void showError(say`BERT: could not install CUDA support. ${long(message)}`);
          return undefined;
        }
      },
    ),
  );
}

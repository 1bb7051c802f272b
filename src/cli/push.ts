/**
 * `bertft push`: a model folder (a run folder stands for its best/) to a Hugging Face Hub repository, created when
 * missing (core/model/hub-push.ts). Progress on stderr: a line per file once it is on the Hub, and on a terminal the
 * file being sent with its share; the result on stdout (one JSON object per line with --json: a `file` line per
 * file, then `pushed`).
 */
import { pushModel, type PushProgress } from '../core/model/hub-push';
import { formatBytes } from '../core/train/estimate';
import { getBool, getString, requireString, type ParsedArgs } from './args';
import { EXIT_OK, Output, type CliIo } from './output';

const REDRAW_MS = 200;

export async function pushCommand(args: ParsedArgs, io: CliIo): Promise<number> {
  const model = requireString(args, 'model', 'push', 'runs/my-run');
  const repo = requireString(args, 'repo', 'push', 'alice/spam-classifier');
  const wantsPrivate = getBool(args, 'private');
  const output = new Output(io, getBool(args, 'json'));
  const progress = new PushReporter(output);
  const result = await pushModel({
    model,
    repo,
    private: wantsPrivate,
    message: getString(args, 'message'),
    onProgress: (p) => progress.report(p, wantsPrivate),
  });
  progress.endLine();
  output.result({ event: 'pushed', ...result }, () => {
    const lfs = result.files.filter((f) => f.lfs).length;
    return (
      `Pushed ${result.files.length} files (${lfs} by LFS) from ${result.modelDir} to ${result.url}\n` +
      `Commit ${result.commit.oid}: ${result.commit.url}\n`
    );
  });
  return EXIT_OK;
}

class PushReporter {
  private lastDraw = -Infinity;
  private drawn = false;

  constructor(private readonly output: Output) {}

  report(p: PushProgress, wantsPrivate: boolean): void {
    const io = this.output.io;
    switch (p.kind) {
      case 'account':
        return this.line(`Signed in as ${p.name}`);
      case 'repo':
        return this.line(
          p.created
            ? `Created ${p.repoId}${wantsPrivate ? ' (private)' : ''}`
            : `${p.repoId} exists: adding a commit to it${wantsPrivate ? ' (its visibility stays as it is)' : ''}`,
        );
      case 'committing':
        return this.line(`Committing ${p.files} files…`);
      case 'file':
        if (p.state === 'uploaded') {
          if (this.output.json)
            io.stdout(JSON.stringify({ event: 'file', path: p.path, size: p.size, lfs: p.lfs }) + '\n');
          return this.line(`  ${p.path} (${sizeText(p.size)}${p.lfs ? ', LFS' : ''})`);
        }
        if (this.output.json || !io.stderrIsTTY || Date.now() - this.lastDraw < REDRAW_MS) return;
        this.lastDraw = Date.now();
        this.drawn = true;
        io.stderr(`\r${p.state} ${p.path}: ${Math.floor(p.fraction * 100)}% of ${sizeText(p.size)}\x1b[K`);
        return;
    }
  }

  /** Clears a progress line left on the terminal. */
  endLine(): void {
    if (!this.drawn) return;
    this.output.io.stderr('\r\x1b[K');
    this.drawn = false;
  }

  private line(text: string): void {
    this.endLine();
    this.output.note(`${text}\n`);
  }
}

/** A file's size: bytes under a kilobyte (a small file is not "0 kB"). */
function sizeText(bytes: number): string {
  return bytes < 1000 ? `${bytes} B` : formatBytes(bytes);
}

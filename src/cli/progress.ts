/**
 * How `bertft train` and `bertft pretrain` show their events: a one-line progress bar redrawn in place on a terminal (stderr only, so
 * stdout stays clean), plain lines for evaluations and the end of the run, or — with --json — every event as one
 * JSON object per line on stdout.
 */
import type { TrainerEvent } from '../trainer/protocol';
import { deviceRefusals, logLineForUser } from '../core/run/events';
import { ensembleSizeOf, fromScratchSpreadNote, isFromScratch } from '../core/train/presets';
import { formatDuration } from '../core/util/duration';
import type { CliIo } from './output';

const BAR_WIDTH = 24;
const REDRAW_MS = 100;

export function progressLine(step: number, total: number, loss: number, etaS: number, examplesPerS: number): string {
  const frac = total > 0 ? Math.min(1, step / total) : 0;
  const filled = Math.round(frac * BAR_WIDTH);
  return (
    `[${'#'.repeat(filled)}${'.'.repeat(BAR_WIDTH - filled)}] ${String(Math.floor(frac * 100)).padStart(3)}% ` +
    `step ${step}/${total}  loss ${loss.toFixed(4)}  ${examplesPerS.toFixed(1)} ex/s  eta ${formatDuration(etaS)}`
  );
}

export class TrainReporter {
  private lastDraw = -Infinity;
  private barShown = false;
  /** The run trains a random:* model, whose result depends on the seed (said at the end). */
  private fromScratch = false;
  /** How many seeds' models the run averages (its `started` config). */
  private ensembleSize = 1;

  constructor(
    private readonly io: CliIo,
    private readonly json: boolean,
    private readonly now: () => number = Date.now,
  ) {}

  report(e: TrainerEvent): void {
    if (this.json) {
      this.io.stdout(JSON.stringify(e) + '\n');
      return;
    }
    switch (e.event) {
      case 'step':
        if (!this.io.stderrIsTTY) return;
        if (this.now() - this.lastDraw < REDRAW_MS && e.step < e.total_steps) return;
        this.lastDraw = this.now();
        this.io.stderr(`\r${progressLine(e.step, e.total_steps, e.loss, e.eta_s, e.examples_per_s)}\x1b[K`);
        this.barShown = true;
        return;
      case 'started': {
        this.fromScratch =
          e.task !== 'mlm' && isFromScratch(typeof e.config.model === 'string' ? e.config.model : undefined);
        const what =
          e.task === 'mlm'
            ? `Pre-training (masked LM) on ${e.device}: ${e.dataset.train_rows} train / ${e.dataset.valid_rows} held-out windows`
            : `Training on ${e.device}: ${e.dataset.train_rows} train / ${e.dataset.valid_rows} validation rows, labels ${e.dataset.labels.join(', ')}`;
        // A device that was asked for but refused is said with its reason: the fallback is never silent.
        const refused = deviceRefusals(e.device_notes);
        const models = ensembleSizeOf(e.config);
        this.ensembleSize = models;
        const steps =
          models > 1
            ? `${e.total_steps} steps: a seed ensemble of ${models} models of ${e.total_steps / models} steps each, trained one after another`
            : `${e.total_steps} steps`;
        this.line(
          `${what}, ${steps}` +
            (e.resumed_from_step !== undefined ? `, resuming from step ${e.resumed_from_step}` : '') +
            `\nRun: ${e.run_dir}` +
            refused.map((n) => `\n${n}`).join(''),
        );
        return;
      }
      case 'eval': {
        const scores =
          e.task === 'mlm'
            ? `MLM loss ${e.loss.toFixed(4)}  perplexity ${e.perplexity.toFixed(1)}  masked-token accuracy ${e.accuracy.toFixed(4)}`
            : e.task === 'multi-label'
              ? `loss ${e.loss.toFixed(4)}  micro-F1 ${e.micro_f1.toFixed(4)}  macro-F1 ${e.macro_f1.toFixed(4)}  subset accuracy ${e.subset_accuracy.toFixed(4)}`
              : e.task === 'regression'
                ? `MSE ${e.mse.toFixed(4)}  MAE ${e.mae.toFixed(4)}  Pearson ${e.pearson.toFixed(4)}  Spearman ${e.spearman.toFixed(4)}`
                : `loss ${e.loss.toFixed(4)}  accuracy ${e.accuracy.toFixed(4)}  macro-F1 ${e.macro_f1.toFixed(4)}`;
        this.line(
          `eval @ step ${e.step} (epoch ${e.epoch.toFixed(2)}): ${scores}${e.is_best ? '  (best so far)' : ''}`,
        );
        return;
      }
      case 'checkpoint':
        return;
      case 'done':
        this.line(
          e.stopped
            ? `Stopped at step ${e.final_step}; checkpoint saved. Continue with --resume.`
            : `${e.early_stopped ? 'Stopped early (no improvement)' : 'Done'} at step ${e.final_step}. Best ${e.metric_name} ${e.best_metric.toFixed(4)} at step ${e.best_step}: ${e.best_dir}`,
        );
        if (!e.stopped && this.fromScratch) this.line(fromScratchSpreadNote(this.ensembleSize));
        return;
      case 'error':
        this.line(`error: ${e.message}`);
        return;
      case 'log': {
        const line = logLineForUser(e);
        if (line !== undefined) this.line(line);
        return;
      }
    }
  }

  /** A whole line on stderr, below the progress bar. */
  private line(text: string): void {
    if (this.barShown) {
      this.io.stderr('\n');
      this.barShown = false;
    }
    this.io.stderr(text + '\n');
  }
}

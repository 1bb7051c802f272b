/**
 * `bertft eval`: accuracy, macro-F1, loss, confusion matrix and per-class scores of a model on a labelled file; MSE,
 * MAE, Pearson and Spearman for a regression model.
 */
import { DataError } from '../core/errors';
import { readDataset } from '../core/data/read';
import { loadPredictor } from '../core/infer/predictor';
import type { ClassMetrics } from '../core/run/events';
import { ownValue } from '../core/util/records';
import {
  argmaxRows,
  classificationReport,
  meanCrossEntropy,
  regressionReport,
  meanBinaryCrossEntropy,
  multiLabelReport,
  sigmoid,
} from '../core/util/metrics';
import { regressionTargets } from '../core/finetune/regression';
import { getNumber, getString, requireString, type ParsedArgs } from './args';
import { labelSetOptions } from './commands';
import { multiLabelTargets } from '../core/finetune/multi-label';
import { EXIT_OK, Output, type CliIo } from './output';

export async function evalCommand(args: ParsedArgs, io: CliIo): Promise<number> {
  const modelDir = requireString(args, 'model', 'eval', 'runs/my-run');
  const data = requireString(args, 'data', 'eval', 'test.csv');
  const dataset = await readDataset(data, {
    textColumn: getString(args, 'text-column'),
    labelColumn: getString(args, 'label-column'),
    textPairColumn: getString(args, 'text-pair-column'),
    ...labelSetOptions(args),
  });
  const predictor = await loadPredictor(modelDir, {
    device: getString(args, 'device') as 'cpu' | undefined,
    batchSize: getNumber(args, 'batch-size'),
  });
  try {
    if (predictor.thresholds) {
      // Multi-label: the thresholds stored with the model (tuned on the run's validation data), not re-tuned here.
      const labels = predictor.labels;
      const targets = multiLabelTargets(dataset.examples, labels);
      const pairs = dataset.textPairColumn === undefined ? undefined : dataset.examples.map((e) => e.textPair ?? '');
      const logits = await predictor.logits(
        dataset.examples.map((e) => e.text),
        pairs,
      );
      const report = multiLabelReport(sigmoid(logits), targets, labels, predictor.thresholds);
      const loss = meanBinaryCrossEntropy(logits, targets);
      new Output(io, args.flags.get('json') === true).result({ task: 'multi-label', loss, ...report }, () => {
        const width = Math.max(5, ...labels.map((l) => l.length));
        const rows = labels.map((l) => {
          const m = ownValue(report.per_label, l)!;
          return (
            `  ${l.padEnd(width)}  ${m.precision.toFixed(4)}  ${m.recall.toFixed(4)}  ${m.f1.toFixed(4)}` +
            `  ${String(m.support).padStart(7)}  ${m.threshold.toFixed(3)}`
          );
        });
        return (
          `${dataset.examples.length} examples: micro-F1 ${report.micro_f1.toFixed(4)}  macro-F1 ` +
          `${report.macro_f1.toFixed(4)}  subset accuracy ${report.subset_accuracy.toFixed(4)}  loss ${loss.toFixed(4)}\n` +
          `  ${'label'.padEnd(width)}  precision recall  F1      support  threshold\n${rows.join('\n')}\n`
        );
      });
      return EXIT_OK;
    }
    if (predictor.regression) {
      const targets = regressionTargets(dataset.examples);
      const pairs = dataset.textPairColumn === undefined ? undefined : dataset.examples.map((e) => e.textPair ?? '');
      const report = regressionReport(
        await predictor.logits(
          dataset.examples.map((e) => e.text),
          pairs,
        ),
        targets,
      );
      new Output(io, args.flags.get('json') === true).result(
        { task: 'regression', ...report },
        () =>
          `${dataset.examples.length} examples: MSE ${report.mse.toFixed(4)}  MAE ${report.mae.toFixed(4)}  ` +
          `Pearson ${report.pearson.toFixed(4)}  Spearman ${report.spearman.toFixed(4)}\n`,
      );
      return EXIT_OK;
    }
    const labels = predictor.labels;
    const ids = new Map(labels.map((l, i) => [l, i]));
    const unknown = dataset.examples.find((e) => !ids.has(e.label));
    if (unknown) {
      throw new DataError(`The label "${unknown.label}" is not one the model was trained on (${labels.join(', ')}).`, {
        file: unknown.file,
        line: unknown.line,
        code: 'DATA_UNKNOWN_LABEL',
        fix: 'Evaluate on data with the same labels as the training data.',
      });
    }
    const targets = Int32Array.from(dataset.examples, (e) => ids.get(e.label) as number);
    const pairs = dataset.textPairColumn === undefined ? undefined : dataset.examples.map((e) => e.textPair ?? '');
    const logits = await predictor.logits(
      dataset.examples.map((e) => e.text),
      pairs,
    );
    const k = labels.length;
    const report = classificationReport(targets, argmaxRows(logits, k), labels);
    const loss = meanCrossEntropy(logits, targets, k);
    const result = {
      accuracy: report.accuracy,
      macro_f1: report.macro_f1,
      loss,
      labels,
      confusion: report.confusion,
      per_class: report.per_class,
    };
    new Output(io, args.flags.get('json') === true).result(result, () => {
      const lines = [
        `${dataset.examples.length} examples: accuracy ${report.accuracy.toFixed(4)}  macro-F1 ${report.macro_f1.toFixed(4)}  loss ${loss.toFixed(4)}`,
        '',
        `${'label'.padEnd(16)}precision  recall     f1         support`,
      ];
      for (const l of labels) {
        const c = ownValue(report.per_class, l) as ClassMetrics;
        lines.push(
          `${l.slice(0, 15).padEnd(16)}${c.precision.toFixed(4).padEnd(11)}${c.recall.toFixed(4).padEnd(11)}${c.f1.toFixed(4).padEnd(11)}${c.support}`,
        );
      }
      lines.push('', `confusion (rows: true, columns: predicted; ${labels.join(', ')}):`);
      for (const row of report.confusion) lines.push(`  ${row.map((n) => String(n).padStart(6)).join('')}`);
      return lines.join('\n') + '\n';
    });
  } finally {
    await predictor.dispose();
  }
  return EXIT_OK;
}

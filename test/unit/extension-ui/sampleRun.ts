/** Trainer events for tests, built from the protocol types so a protocol change breaks the build here too. */
import type {
  DoneEvent,
  ErrorEvent,
  EvalEvent,
  StartedEvent,
  StepEvent,
  TrainerEvent,
} from '../../../src/trainer/protocol';

export const LABELS = ['ham', 'spam', '<img src=x onerror=alert(1)>'];

export function started(over: Partial<StartedEvent> = {}): StartedEvent {
  return {
    event: 'started',
    time: '2026-11-25T08:00:00.000Z',
    run_dir: '/ws/.bert/runs/run-1',
    pid: 4242,
    config: { model: 'random-tiny', lr: 5e-5, batch_size: 16 },
    device: 'cpu',
    device_notes: [],
    dataset: {
      train_rows: 90,
      valid_rows: 10,
      labels: LABELS,
      label_counts: { ham: 50, spam: 30, [LABELS[2]]: 10 },
      files: ['/ws/data.csv'],
    },
    total_steps: 100,
    ...over,
  };
}

export function step(n: number, over: Partial<StepEvent> = {}): StepEvent {
  return {
    event: 'step',
    time: '2026-11-25T08:00:01.000Z',
    step: n,
    total_steps: 100,
    epoch: Math.floor(n / 50),
    loss: 1 / n,
    lr: 5e-5 * (1 - n / 100),
    grad_norm: 1,
    examples_per_s: 32,
    eta_s: (100 - n) * 2,
    ...over,
  };
}

export function evaluation(n: number, accuracy: number, isBest: boolean): EvalEvent {
  return {
    event: 'eval',
    time: '2026-11-25T08:00:02.000Z',
    step: n,
    epoch: Math.floor(n / 50),
    loss: 0.5,
    accuracy,
    macro_f1: accuracy - 0.05,
    labels: LABELS,
    confusion: [
      [5, 1, 0],
      [0, 3, 0],
      [1, 0, 0],
    ],
    per_class: {
      ham: { precision: 0.83, recall: 0.83, f1: 0.83, support: 6 },
      spam: { precision: 0.75, recall: 1, f1: 0.86, support: 3 },
      [LABELS[2]]: { precision: 0, recall: 0, f1: 0, support: 1 },
    },
    misclassified: [
      { text: 'win money now', label: 'ham', predicted: 'spam', file: '/ws/data.csv', line: 12 },
      { text: '<b>bold</b>', label: LABELS[2], predicted: 'ham', file: '/ws/data.csv', line: 40 },
    ],
    is_best: isBest,
  };
}

export function done(over: Partial<DoneEvent> = {}): DoneEvent {
  return {
    event: 'done',
    time: '2026-11-25T08:05:00.000Z',
    stopped: false,
    best_step: 50,
    best_metric: 0.9,
    metric_name: 'accuracy',
    best_dir: '/ws/.bert/runs/run-1/best',
    run_dir: '/ws/.bert/runs/run-1',
    final_step: 100,
    ...over,
  };
}

export function failure(message = 'Out of memory. Lower the batch size.'): ErrorEvent {
  return { event: 'error', time: '2026-11-25T08:03:00.000Z', message };
}

/** A whole finished run: started, 100 steps, evals at 50 (best) and 100, done. */
export function finishedRun(): TrainerEvent[] {
  const events: TrainerEvent[] = [started()];
  for (let n = 1; n <= 100; n++) {
    events.push(step(n));
    if (n === 50) events.push(evaluation(50, 0.9, true));
    if (n === 100) events.push(evaluation(100, 0.8, false));
  }
  events.push(done());
  return events;
}

export function toJsonl(events: readonly TrainerEvent[]): string {
  return events.map((e) => JSON.stringify(e) + '\n').join('');
}

/** A finished masked-LM pre-training run: started (task mlm), 20 steps, evals at 10 (best) and 20, done. */
export function mlmRun(): TrainerEvent[] {
  const events: TrainerEvent[] = [
    started({
      task: 'mlm',
      total_steps: 20,
      config: { model: 'random:tiny', maxLength: 128 },
      dataset: {
        train_rows: 38,
        valid_rows: 2,
        train_windows: 38,
        valid_windows: 2,
        labels: [],
        label_counts: {},
        files: ['/ws/notes'],
      },
    }),
  ];
  const mlmEval = (n: number, loss: number, isBest: boolean): TrainerEvent => ({
    event: 'eval',
    task: 'mlm',
    time: '2026-11-25T08:00:02.000Z',
    step: n,
    epoch: n / 20,
    loss,
    accuracy: 0.1 * (n / 10),
    perplexity: Math.exp(loss),
    masked_tokens: 30,
    labels: [],
    confusion: [],
    per_class: {},
    misclassified: [],
    is_best: isBest,
  });
  for (let n = 1; n <= 20; n++) {
    events.push(step(n, { total_steps: 20, loss: 10 - n / 4 }));
    if (n === 10) events.push(mlmEval(10, 6, true));
    if (n === 20) events.push(mlmEval(20, 6.5, false));
  }
  events.push(done({ best_step: 10, best_metric: 6, metric_name: 'mlm_loss', final_step: 20 }));
  return events;
}

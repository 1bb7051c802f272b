/**
 * The small classifier run the inference tests train once (unit, integration and e2e): random:tiny, 60 steps on CPU,
 * no dropout, a fixed seed, so every layer tests the same model quickly.
 */
export const TINY_RUN_SETTINGS = {
  model: 'random:tiny',
  maxSteps: 60,
  batchSize: 8,
  evalSteps: 30,
  maxLength: 32,
  lr: 2e-3,
  dropout: false,
  seed: 3,
  device: 'cpu',
  validRatio: 0.25,
  epochs: 10,
} as const;

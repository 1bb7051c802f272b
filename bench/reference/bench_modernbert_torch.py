"""PyTorch side of `npm run bench:modernbert-long`: one training step (forward, backward, clipping, AdamW) of the
reference ModernBertForSequenceClassification (modernbert_torch.py) on a batch of 1 at the given length, with
random weights; reports the step time and peak RSS. One JSON object on the last stdout line.

  OPENBLAS_NUM_THREADS=2 /usr/bin/python3 bench/reference/bench_modernbert_torch.py '{"config": {...}, "seq": 512,
      "threads": 1}'
"""
import json
import sys
import time

import torch

import bert_torch as bt
import modernbert_torch as mt
from bench_torch import peak_rss_mb


def main():
    args = json.loads(sys.argv[1])
    cfg, S = args['config'], args['seq']
    torch.set_num_threads(args['threads'])
    g = torch.Generator().manual_seed(0)
    t0 = time.perf_counter()
    p = mt.init_params(cfg, 2, g)
    trainer = bt.Trainer(p, cfg, 2, lr=5e-5, weight_decay=0.01, warmup=0, total=3, specs=mt.param_specs(cfg, 2))
    trainer.loss_fn = lambda p_, cfg_, b, d: mt.loss_fn(p_, cfg_, b, dropout=False)
    setup = time.perf_counter() - t0
    batch = (torch.randint(1, 50000, (1, S), generator=g), torch.zeros(1, S, dtype=torch.long), torch.ones(1, S),
             torch.randint(0, 2, (1,), generator=g))
    t0 = time.perf_counter()
    trainer.step(batch)
    step = time.perf_counter() - t0
    print(json.dumps({'seq': S, 'threads': args['threads'], 'setup_s': setup, 'step_s': step,
                      'peak_rss_mb': peak_rss_mb()}))


if __name__ == '__main__':
    main()

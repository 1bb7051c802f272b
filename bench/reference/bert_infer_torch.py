"""PyTorch side of `npm run bench:infer`: latency of one classification (batch 1) and batch throughput of the
reference BERT classifier (bert_torch.logits_fn, random weights) under torch.inference_mode. One JSON object on the
last stdout line.

  OPENBLAS_NUM_THREADS=2 /usr/bin/python3 bench/reference/bert_infer_torch.py '{"config": {...HF config...},
      "numLabels": 2, "seq": 128, "batch": 32, "warmup": 3, "runs": 30, "batchRuns": 3, "threads": 1}'
"""
import json
import sys
import time

import torch

import bert_torch as bt


def percentile(xs, q):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(q * (len(xs) - 1))))]


def main():
    args = json.loads(sys.argv[1])
    cfg, num_labels, S, B = args['config'], args['numLabels'], args['seq'], args['batch']
    torch.set_num_threads(args['threads'])
    g = torch.Generator().manual_seed(0)
    p = bt.init_params(cfg, num_labels, g)

    def inputs(b):
        return (torch.randint(1, cfg['vocab_size'], (b, S), generator=g), torch.zeros(b, S, dtype=torch.long), torch.ones(b, S))

    one, many = inputs(1), inputs(B)
    with torch.inference_mode():
        for _ in range(args['warmup']):
            bt.logits_fn(p, cfg, *one)
        times = []
        for _ in range(args['runs']):
            t0 = time.perf_counter()
            bt.logits_fn(p, cfg, *one)
            times.append(time.perf_counter() - t0)
        bt.logits_fn(p, cfg, *many)
        batch_times = []
        for _ in range(args['batchRuns']):
            t0 = time.perf_counter()
            bt.logits_fn(p, cfg, *many)
            batch_times.append(time.perf_counter() - t0)
    print(json.dumps({
        'p50_ms': percentile(times, 0.5) * 1000, 'p95_ms': percentile(times, 0.95) * 1000, 'runs': len(times),
        'throughput_per_s': B / percentile(batch_times, 0.5), 'batch': B, 'threads': args['threads'],
    }))


if __name__ == '__main__':
    main()

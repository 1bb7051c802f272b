"""PyTorch side of `npm run bench:explain`: the time of one integrated-gradients explanation (make_ig_fixture's
integrated_gradients: steps + 1 path rows in one batch, autograd) on a random-weight classifier. One JSON object on
the last stdout line.

  OPENBLAS_NUM_THREADS=2 /usr/bin/python3 bench/reference/ig_torch.py '{"config": {...HF config...}, "numLabels": 2,
      "seq": 64, "steps": 50, "runs": 3, "threads": 1}'
"""
import json
import sys
import time

import torch

import bert_torch as bt
from make_ig_fixture import integrated_gradients


def main():
    args = json.loads(sys.argv[1])
    cfg, S = args['config'], args['seq']
    torch.set_num_threads(args['threads'])
    g = torch.Generator().manual_seed(0)
    p = bt.init_params(cfg, args['numLabels'], g)
    pad = cfg.get('pad_token_id', 0)
    ids = torch.randint(pad + 1, cfg['vocab_size'], (S,), generator=g)
    baseline = ids.clone()
    baseline[1:-1] = pad
    types = torch.zeros(1, S, dtype=torch.long)
    times = []
    for _ in range(args['runs'] + 1):
        t0 = time.perf_counter()
        integrated_gradients(p, cfg, ids, baseline, types, 0, args['steps'])
        times.append(time.perf_counter() - t0)
    times = sorted(times[1:])
    print(json.dumps({'median_s': times[len(times) // 2], 'runs': len(times), 'threads': args['threads']}))


if __name__ == '__main__':
    main()

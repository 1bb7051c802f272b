"""PyTorch side of `npm run bench:train-step`: times full training steps (forward, backward, clipping, AdamW) of
the reference BERT classifier and reports peak RSS. One JSON object on the last stdout line.

  OPENBLAS_NUM_THREADS=2 /usr/bin/python3 bench/reference/bench_torch.py '{"config": {...HF config...},
      "numLabels": 2, "batch": 16, "seq": 128, "warmup": 2, "steps": 10, "threads": 1, "device": "cpu"}'

A GPT-2 config (model_type "gpt2") runs gpt2_torch.py's GPT2ForSequenceClassification instead of the BERT reference;
a ModernBERT one (model_type "modernbert") modernbert_torch.py's, a DeBERTa-v3 one (model_type "deberta-v2")
deberta_v2_torch.py's, both through bert_torch's Trainer with their own parameter specs and loss.

"device": "cuda" runs the same steps on the GPU (bench/gpu-check.ts uses it on a GPU machine; not run here yet).
"""
import json
import statistics
import sys
import time

import torch

import bert_torch as bt
import deberta_v2_torch as dt
import gpt2_torch as gt
import modernbert_torch as mt

# model_type -> the reference module whose param_specs / init_params / loss_fn bert_torch's Trainer runs.
OTHER_FAMILIES = {'modernbert': mt, 'deberta-v2': dt}


def make_trainer(p, cfg, num_labels, total):
    model_type = cfg.get('model_type')
    if model_type == 'gpt2':
        return gt.Trainer(p, cfg, num_labels, lr=5e-5, weight_decay=0.01, warmup=0, total=total)
    if model_type in OTHER_FAMILIES:
        m = OTHER_FAMILIES[model_type]
        trainer = bt.Trainer(p, cfg, num_labels, lr=5e-5, weight_decay=0.01, warmup=0, total=total,
                             specs=m.param_specs(cfg, num_labels))
        trainer.loss_fn = lambda p_, cfg_, b, d: m.loss_fn(p_, cfg_, b, dropout=False)
        return trainer
    return bt.Trainer(p, cfg, num_labels, lr=5e-5, weight_decay=0.01, warmup=0, total=total)


def peak_rss_mb():
    with open('/proc/self/status') as f:
        for line in f:
            if line.startswith('VmHWM:'):
                return int(line.split()[1]) / 1024
    return float('nan')


def main():
    args = json.loads(sys.argv[1])
    cfg, num_labels, B, S = args['config'], args['numLabels'], args['batch'], args['seq']
    torch.set_num_threads(args['threads'])
    g = torch.Generator().manual_seed(0)
    reference = {'gpt2': gt, **OTHER_FAMILIES}.get(cfg.get('model_type'), bt)
    p = reference.init_params(cfg, num_labels, g)
    total = args['warmup'] + args['steps']
    device = torch.device(args.get('device', 'cpu'))
    p = {k: v.to(device) for k, v in p.items()}
    trainer = make_trainer(p, cfg, num_labels, total + 1)
    batch = (torch.randint(1, cfg['vocab_size'], (B, S), generator=g), torch.zeros(B, S, dtype=torch.long),
             torch.ones(B, S), torch.randint(0, num_labels, (B,), generator=g))
    batch = tuple(t.to(device) for t in batch)
    sync = torch.cuda.synchronize if device.type == 'cuda' else (lambda: None)
    times, losses = [], []
    for _ in range(total):
        sync()
        t0 = time.perf_counter()
        loss, _, _ = trainer.step(batch)  # .item() inside waits for the GPU
        sync()
        times.append(time.perf_counter() - t0)
        losses.append(loss)
    measured = times[args['warmup']:]
    print(json.dumps({'engine': f'torch {torch.__version__} {device.type}', 'threads': args['threads'],
                      'params': sum(t.numel() for t in p.values()),
                      'median_step_s': statistics.median(measured), 'mean_step_s': statistics.fmean(measured),
                      'steps': len(measured), 'first_loss': losses[0], 'last_loss': losses[-1], 'losses': losses,
                      'peak_rss_mb': peak_rss_mb()}))


if __name__ == '__main__':
    main()

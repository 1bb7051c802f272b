"""A plain-PyTorch fine-tuning loop with Hugging Face Trainer semantics, the reference bench:quality compares whole
runs against (bench/quality.ts). It reads one job (JSON: the model config, the token ids our tokenizer made for the
training and validation rows, the resolved training settings and the seeds) and for every seed trains a freshly
initialised classifier (bert_torch.init_params: HF _init_weights, with torch's generator seeded by the seed; with
--init-dir DIR the weights in DIR/<seed>.safetensors instead: our own initialisation for that seed):

- order: with --batch-order FILE, exactly the batches our trainer takes (FILE: {"<seed>": [epoch: [batch: [row
  indices]]]}, exported by bench/quality.ts from our own sampler), so that only initialisation and arithmetic differ;
  without it, RandomSampler with a torch.Generator seeded once per run (a new permutation each epoch), or with
  group_by_length HF's LengthGroupedSampler (mega-batches of min(n / (4 × batch), 50) batches sorted by length, in
  that order);
- batches padded to their longest row (DataCollatorWithPadding), attention mask, token types 0;
- AdamW (no decay on biases and LayerNorm weights), global-norm clipping at 1.0, linear warmup (ceil(ratio × total))
  then linear decay, dropout 0.1 in training when the settings say so;
- evaluation at every epoch end (and every eval_steps when set), best model by the selection metric
  (load_best_model_at_end): its validation accuracy and macro-F1 (every label counts, zero_division=0) are reported.

Weight averages (--average-evals K,… and --average-tail F,…; a measurement, not HF behaviour): the mean of the
weights at the last K evaluations, and the uniform mean of the weights after every step of the last fraction F of
the steps (SWA-like on the decaying tail), each scored once on the validation rows after training.

One JSON line per seed on stdout: {"seed", "accuracy", "macro_f1", "loss", "seconds", "steps", "order", "last",
"averages": {"evals<K>" | "tail<F>": scores}} (accuracy … loss: the best evaluation's; last: the final weights').
usage: /usr/bin/python3 bench/reference/finetune_torch.py JOB.json [--batch-order FILE] [--init-dir DIR]
       [--average-evals 2,3] [--average-tail 0.33,0.5]
"""
import argparse
import json
import math
import sys
import time

import os

import torch
import torch.nn.functional as F

from bert_torch import Trainer, init_params, logits_fn, read_safetensors


def length_grouped_order(lengths, batch_size, generator):
    """transformers' get_length_grouped_indices: mega-batches of min(n // (4 × batch), 50) batches, each sorted by
    length (longest first) and not shuffled inside, the longest row of all moved to the front."""
    order = torch.randperm(len(lengths), generator=generator).tolist()
    mega = batch_size * max(1, min(len(lengths) // (batch_size * 4), 50))
    groups = [sorted(order[i:i + mega], key=lambda j: -lengths[j]) for i in range(0, len(order), mega)]
    longest = max(range(len(groups)), key=lambda k: lengths[groups[k][0]])
    groups[0][0], groups[longest][0] = groups[longest][0], groups[0][0]
    return [i for g in groups for i in g]


def collate(rows, indices, pad_id):
    seq = max(len(rows[i][0]) for i in indices)
    ids = torch.full((len(indices), seq), pad_id, dtype=torch.long)
    mask = torch.zeros((len(indices), seq), dtype=torch.float32)
    for r, i in enumerate(indices):
        n = len(rows[i][0])
        ids[r, :n] = torch.tensor(rows[i][0], dtype=torch.long)
        mask[r, :n] = 1
    labels = torch.tensor([rows[i][1] for i in indices], dtype=torch.long)
    return ids, torch.zeros_like(ids), mask, labels


def evaluate(p, cfg, rows, num_labels, pad_id, batch_size=32):
    correct, total_loss = 0, 0.0
    confusion = torch.zeros((num_labels, num_labels), dtype=torch.long)
    with torch.no_grad():
        for start in range(0, len(rows), batch_size):
            ids, types, mask, labels = collate(rows, list(range(start, min(len(rows), start + batch_size))), pad_id)
            logits = logits_fn(p, cfg, ids, types, mask)
            total_loss += F.cross_entropy(logits, labels, reduction='sum').item()
            predicted = logits.argmax(-1)
            correct += (predicted == labels).sum().item()
            for t, q in zip(labels.tolist(), predicted.tolist()):
                confusion[t, q] += 1
    f1s = []
    for c in range(num_labels):
        tp = confusion[c, c].item()
        predicted, support = confusion[:, c].sum().item(), confusion[c, :].sum().item()
        precision = tp / predicted if predicted else 0.0
        recall = tp / support if support else 0.0
        f1s.append(2 * precision * recall / (precision + recall) if precision + recall else 0.0)
    return {'accuracy': correct / len(rows), 'macro_f1': sum(f1s) / num_labels, 'loss': total_loss / len(rows)}


def better(metric, value, best):
    return best is None or (value < best if metric == 'loss' else value > best)


def snapshot(p):
    return {n: t.detach().clone() for n, t in p.items()}


def mean_of(snapshots):
    return {n: sum(s[n] for s in snapshots) / len(snapshots) for n in snapshots[0]}


def initial_weights(cfg, num_labels, seed, generator, init_dir):
    """HF's initialisation from torch's generator, or the weights in init_dir/<seed>.safetensors (the same names and
    shapes, nothing missing or extra)."""
    p = init_params(cfg, num_labels, generator)
    if init_dir is None:
        return p
    file = os.path.join(init_dir, f'{seed}.safetensors')
    given, _ = read_safetensors(file)
    if set(given) != set(p) or any(given[n].shape != p[n].shape for n in p):
        raise SystemExit(f'{file}: names or shapes differ from the model\'s parameters')
    return {n: given[n].contiguous() for n in p}


def run(job, seed, batch_order=None, average_evals=(), average_tail=(), init_dir=None):
    cfg, s, num_labels = job['model_config'], job['settings'], job['num_labels']
    train, valid, pad_id = job['train'], job['valid'], job['pad_id']
    started = time.time()
    torch.manual_seed(seed)  # dropout masks
    generator = torch.Generator().manual_seed(seed)
    p = initial_weights(cfg, num_labels, seed, generator, init_dir)
    bs = s['batch_size']
    steps_per_epoch = math.ceil(len(train) / bs)
    total = s['epochs'] * steps_per_epoch
    if s.get('max_steps'):
        total = min(total, s['max_steps'])
    warmup = s['warmup_steps'] if s.get('warmup_steps') else math.ceil(s['warmup_ratio'] * total)
    dropout = cfg.get('hidden_dropout_prob', 0.1) if s['dropout'] else 0.0
    trainer = Trainer(p, cfg, num_labels, s['lr'], s['weight_decay'], warmup, total, dropout=dropout)
    order_generator = torch.Generator().manual_seed(seed)
    lengths = [len(r[0]) for r in train]
    best, best_scores, step = None, None, 0
    at_evals = []  # the weights at each evaluation, for the eval averages
    # The tail averages: fraction → (its first step, the running sum of the weights after each step from there).
    tails = {f: (max(0, total - round(f * total)), None) for f in average_tail}
    for epoch in range(s['epochs']):
        if batch_order is not None:
            batches = batch_order[epoch]
            if len(batches) != steps_per_epoch:
                raise SystemExit(f'batch order: epoch {epoch} has {len(batches)} batches, not {steps_per_epoch}')
        else:
            order = (length_grouped_order(lengths, bs, order_generator) if s['group_by_length']
                     else torch.randperm(len(train), generator=order_generator).tolist())
            batches = [order[b * bs:(b + 1) * bs] for b in range(steps_per_epoch)]
        for b, indices in enumerate(batches):
            if step >= total:
                break
            trainer.step(collate(train, indices, pad_id))
            step += 1
            for f, (first, acc) in tails.items():
                if step > first and acc is None:
                    tails[f] = (first, snapshot(p))
                elif step > first:
                    for n, t in acc.items():
                        t.add_(p[n].detach())
            epoch_end = b + 1 == len(batches) or step == total
            if epoch_end or (s.get('eval_steps') and step % s['eval_steps'] == 0):
                scores = evaluate(p, cfg, valid, num_labels, pad_id)
                if average_evals:
                    at_evals = (at_evals + [snapshot(p)])[-max(average_evals):]
                value = scores[s['metric']]
                if better(s['metric'], value, best):
                    best, best_scores = value, scores
        if step >= total:
            break
    seconds = time.time() - started
    last = evaluate(p, cfg, valid, num_labels, pad_id)
    averages = {}
    for k in average_evals:
        averages[f'evals{k}'] = evaluate(mean_of(at_evals[-k:]), cfg, valid, num_labels, pad_id)
    for f, (first, acc) in tails.items():
        mean = {n: t / (total - first) for n, t in acc.items()}
        averages[f'tail{f}'] = evaluate(mean, cfg, valid, num_labels, pad_id)
    return {'seed': seed, **best_scores, 'seconds': seconds, 'steps': step,
            'order': 'ours' if batch_order is not None else 'hf', 'init': 'ours' if init_dir else 'torch', 'last': last,
            'averages': averages}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('job')
    parser.add_argument('--batch-order', help='JSON {"<seed>": [epoch: [batch: [row indices]]]}: replay these batches')
    parser.add_argument('--init-dir', help='folder of <seed>.safetensors: start from these weights')
    parser.add_argument('--average-evals', default='', help='K,…: score the mean of the last K evaluations\' weights')
    parser.add_argument('--average-tail', default='', help='F,…: score the mean weights over the last F of the steps')
    a = parser.parse_args()
    job = json.load(open(a.job))
    orders = json.load(open(a.batch_order)) if a.batch_order else None
    torch.set_num_threads(job.get('threads', 1))
    average_evals = [int(k) for k in a.average_evals.split(',') if k]
    average_tail = [float(f) for f in a.average_tail.split(',') if f]
    for seed in job['seeds']:
        if orders is not None and str(seed) not in orders:
            raise SystemExit(f'{a.batch_order}: no batch order for seed {seed}')
        order = orders[str(seed)] if orders is not None else None
        print(json.dumps(run(job, seed, order, average_evals, average_tail, a.init_dir)), flush=True)


if __name__ == '__main__':
    main()

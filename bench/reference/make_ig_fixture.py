"""Writes test/fixtures/explain/ig.json: integrated gradients computed in plain PyTorch (autograd) on the tiny random
classifiers of the parity fixtures (test/fixtures/parity*/config.json + model.safetensors: BERT, DistilBERT, RoBERTa,
ELECTRA), the reference the TypeScript attribution graph (src/core/infer/explain.ts) is tested against.

  /usr/bin/python3 bench/reference/make_ig_fixture.py [--seed N]

Per family: one row of 12 ids (the family's start token, 10 random content ids, its end token; BERT with token types
0 then 1), the baseline (content ids replaced by the padding id, special tokens kept), a target label, and for each
number of steps m in STEPS: the per-position attributions sum_h (x - x0)[s, h] * sum_k w_k dF/dx(x0 + k/m (x - x0))[s, h]
with the trapezoid weights w (1/(2m) at both ends, 1/m between), x the word embeddings of the row and x0 those of the
baseline, F the target's logit; with the logits at the input and at the baseline.

Then text pairs (`"pair": true`), as the pair templates lay them out: BERT `[CLS] a [SEP] b [SEP]` with token types
0 then 1 (the first [SEP] typed 0), RoBERTa `<s> a </s></s> b </s>` all 0; the baseline keeps every special token,
the middle separators too. Their content ids come from a second generator (seed + 1), so the single-text cases above
stay as they were.

The word embeddings are fed through bert_torch's own embedding lookup: the m + 1 path rows are written into a fresh
embedding table, one table row per (path row, position), and the ids point at them (all above the padding id, so the
lookup's padding_idx and RoBERTa's position ids, counted from the non-padding ids, are those of the unpadded input).
The gradient with respect to that table is the gradient with respect to the path's word embeddings. float32, one
thread.
"""
import argparse
import json
import os

import numpy as np
import torch

import bert_torch as bt

ROOT = os.path.normpath(os.path.join(os.path.dirname(__file__), '..', '..'))
FAMILIES = {'bert': 'parity', 'distilbert': 'parity-distilbert', 'roberta': 'parity-roberta', 'electra': 'parity-electra'}
# Special token ids of the rows (the parity fixtures' batches use the same: BERT-like [CLS] 1 / [SEP] 2, RoBERTa <s> 0 / </s> 2).
SPECIALS = {'bert': (1, 2), 'distilbert': (1, 2), 'roberta': (0, 2), 'electra': (1, 2)}
SEQ = 12
STEPS = [4, 16, 50]


def word_table_name(cfg):
    return bt.BASE_PREFIX[bt.family(cfg)] + '.embeddings.word_embeddings.weight'


def path_logits(p, cfg, table_name, path, types, pad):
    """Logits [rows, labels] of the path's word embeddings [rows, S, E] (see the file comment), and the table."""
    rows, S, E = path.shape
    table = torch.cat([torch.zeros(pad + 1, E), path.reshape(rows * S, E)]).requires_grad_(True)
    ids = torch.arange(rows * S).reshape(rows, S) + pad + 1
    q = dict(p)
    q[table_name] = table
    logits = bt.logits_fn(q, cfg, ids, types.expand(rows, S), torch.ones(rows, S))
    return logits, table


def integrated_gradients(p, cfg, ids, baseline, types, target, steps):
    pad = cfg.get('pad_token_id', 0)
    name = word_table_name(cfg)
    W = p[name]
    x, x0 = W[ids], W[baseline]
    alphas = torch.arange(steps + 1, dtype=torch.float32) / steps
    path = x0[None] + alphas[:, None, None] * (x - x0)[None]
    path[0], path[-1] = x0, x
    logits, table = path_logits(p, cfg, name, path, types, pad)
    (grad,) = torch.autograd.grad(logits[:, target].sum(), table)
    grad = grad[pad + 1:].reshape(path.shape)
    w = torch.full((steps + 1,), 1.0 / steps)
    w[0] = w[-1] = 0.5 / steps
    mean_grad = (w[:, None, None] * grad).sum(0)
    scores = ((x - x0) * mean_grad).sum(-1)
    return scores, logits[-1].detach(), logits[0, target].item()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--seed', type=int, default=17)
    args = ap.parse_args()
    torch.set_num_threads(1)
    rng = np.random.default_rng(args.seed)
    cases = []
    for fam, folder in FAMILIES.items():
        d = os.path.join(ROOT, 'test', 'fixtures', folder)
        with open(os.path.join(d, 'config.json')) as f:
            cfg = json.load(f)
        p, _ = bt.read_safetensors(os.path.join(d, 'model.safetensors'))
        pad = cfg.get('pad_token_id', 0)
        first, last = SPECIALS[fam]
        content = [int(i) for i in rng.choice([i for i in range(3, cfg['vocab_size']) if i != pad], SEQ - 2)]
        ids = [first] + content + [last]
        baseline = [first] + [pad] * len(content) + [last]
        types = [0] * 6 + [1] * (SEQ - 6) if fam == 'bert' else [0] * SEQ
        target = 1
        results = []
        for steps in STEPS:
            scores, logits, baseline_logit = integrated_gradients(
                p, cfg, torch.tensor(ids), torch.tensor(baseline), torch.tensor([types]), target, steps)
            results.append({'steps': steps, 'scores': scores.tolist(), 'logits': logits.tolist(),
                            'logit': logits[target].item(), 'baselineLogit': baseline_logit})
        cases.append({'family': fam, 'fixture': folder, 'ids': ids, 'baselineIds': baseline, 'typeIds': types,
                      'target': target, 'results': results})
    pair_rng = np.random.default_rng(args.seed + 1)
    for fam in ('bert', 'roberta'):
        folder = FAMILIES[fam]
        d = os.path.join(ROOT, 'test', 'fixtures', folder)
        with open(os.path.join(d, 'config.json')) as f:
            cfg = json.load(f)
        p, _ = bt.read_safetensors(os.path.join(d, 'model.safetensors'))
        pad = cfg.get('pad_token_id', 0)
        first, last = SPECIALS[fam]
        vocab = [i for i in range(3, cfg['vocab_size']) if i != pad]
        middle = [last] if fam == 'bert' else [last, last]
        a = [int(i) for i in pair_rng.choice(vocab, 5)]
        b = [int(i) for i in pair_rng.choice(vocab, SEQ - 3 - len(middle) - 2)]
        ids = [first] + a + middle + b + [last]
        baseline = [first] + [pad] * len(a) + middle + [pad] * len(b) + [last]
        types = [0] * (1 + len(a) + len(middle)) + [1] * (len(b) + 1) if fam == 'bert' else [0] * len(ids)
        target = 2
        results = []
        for steps in STEPS:
            scores, logits, baseline_logit = integrated_gradients(
                p, cfg, torch.tensor(ids), torch.tensor(baseline), torch.tensor([types]), target, steps)
            results.append({'steps': steps, 'scores': scores.tolist(), 'logits': logits.tolist(),
                            'logit': logits[target].item(), 'baselineLogit': baseline_logit})
        cases.append({'family': fam, 'fixture': folder, 'pair': True, 'ids': ids, 'baselineIds': baseline,
                      'typeIds': types, 'target': target, 'results': results})
    out = os.path.join(ROOT, 'test', 'fixtures', 'explain')
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, 'ig.json'), 'w') as f:
        json.dump({'generator': 'bench/reference/make_ig_fixture.py', 'seed': args.seed, 'torch': torch.__version__,
                   'cases': cases}, f, indent=1)
        f.write('\n')


if __name__ == '__main__':
    main()

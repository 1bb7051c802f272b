"""Writes the PyTorch parity fixtures for a tiny BERT classifier (default: test/fixtures/parity/).

  /usr/bin/python3 bench/reference/make_parity_fixtures.py [--out DIR] [--seed N]

Files: config.json + model.safetensors (initial weights, HF names), batch.json (one padded batch with token types),
expected.json (loss, gradient norm and logits of that batch), grads.safetensors (d loss / d weight), trajectory.json
(the 50 stored batches, hyper-parameters, and loss / lr / grad norm per AdamW step), final.safetensors (weights
after the 50 steps). Everything float32 on CPU with one thread, dropout off, so a rerun with the same seed is
bit-identical and the TypeScript parity test can rerun it with a fresh seed.
"""
import argparse
import json
import os

import numpy as np
import torch

import bert_torch as bt

CONFIG = {
    'architectures': ['BertForSequenceClassification'], 'model_type': 'bert', 'hidden_act': 'gelu',
    'vocab_size': 100, 'hidden_size': 32, 'num_hidden_layers': 2, 'num_attention_heads': 4, 'intermediate_size': 64,
    'max_position_embeddings': 32, 'type_vocab_size': 2, 'hidden_dropout_prob': 0.1, 'attention_probs_dropout_prob': 0.1,
    'layer_norm_eps': 1e-12, 'initializer_range': 0.2, 'pad_token_id': 0,
    'id2label': {'0': 'neg', '1': 'neu', '2': 'pos'}, 'label2id': {'neg': 0, 'neu': 1, 'pos': 2},
}
NUM_LABELS, BATCH, SEQ = 3, 4, 12
HYPER = {'lr': 1e-3, 'weightDecay': 0.01, 'beta1': 0.9, 'beta2': 0.999, 'eps': 1e-8, 'maxGradNorm': 1.0,
         'warmupSteps': 5, 'totalSteps': 50}


def make_batch(rng):
    """[CLS]=1 first, real tokens 2..V-1, a second segment (type 1) in some rows, then padding (id 0, mask 0)."""
    lengths = rng.randint(4, SEQ + 1, size=BATCH)
    lengths[0] = SEQ  # at least one full row, at least one padded row
    lengths[1] = min(lengths[1], SEQ - 3)
    ids = np.zeros((BATCH, SEQ), np.int64)
    types = np.zeros((BATCH, SEQ), np.int64)
    mask = np.zeros((BATCH, SEQ), np.int64)
    for r, n in enumerate(lengths):
        ids[r, 0] = 1
        ids[r, 1:n] = rng.randint(2, CONFIG['vocab_size'], size=n - 1)
        mask[r, :n] = 1
        if r % 2 == 1 and n > 3:
            types[r, n // 2:n] = 1
    labels = ids[:, 1] % NUM_LABELS  # learnable, so the 50-step loss curve goes somewhere
    return {'batchSize': BATCH, 'seqLen': SEQ, 'inputIds': ids.ravel().tolist(), 'attentionMask': mask.ravel().tolist(),
            'tokenTypeIds': types.ravel().tolist(), 'labels': labels.tolist()}


def initial_params(seed):
    """HF init (with a large initializer_range so activations vary between rows), then biases and LayerNorm parameters moved off 0/1 so that every gradient path is exercised."""
    g = torch.Generator().manual_seed(seed)
    p = bt.init_params(CONFIG, NUM_LABELS, g)
    for n, t in p.items():
        if n.endswith('.bias'):
            t += torch.randn(t.shape, generator=g) * 0.02
        elif n.endswith('LayerNorm.weight'):
            t += torch.randn(t.shape, generator=g) * 0.1
    return p


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--out', default=os.path.join(os.path.dirname(__file__), '..', '..', 'test', 'fixtures', 'parity'))
    ap.add_argument('--seed', type=int, default=0)
    args = ap.parse_args()
    torch.set_num_threads(1)
    os.makedirs(args.out, exist_ok=True)
    out = lambda name: os.path.join(args.out, name)  # noqa: E731

    rng = np.random.RandomState(args.seed)
    p = initial_params(args.seed)
    with open(out('config.json'), 'w') as f:
        json.dump(CONFIG, f, indent=2)
    bt.write_safetensors(out('model.safetensors'), p, {'format': 'pt'})

    batch = make_batch(rng)
    with open(out('batch.json'), 'w') as f:
        json.dump(batch, f)
    leaves = {n: t.clone().requires_grad_(True) for n, t in p.items()}
    tb = bt.batch_to_torch(batch)
    logits = bt.logits_fn(leaves, CONFIG, tb[0], tb[1], tb[2])
    loss = torch.nn.functional.cross_entropy(logits, tb[3])
    loss.backward()
    grads = {n: t.grad for n, t in leaves.items()}
    grad_norm = float(torch.sqrt(sum((g.double() ** 2).sum() for g in grads.values())))
    bt.write_safetensors(out('grads.safetensors'), grads, {'format': 'pt'})
    with open(out('expected.json'), 'w') as f:
        json.dump({'seed': args.seed, 'torch': torch.__version__, 'loss': loss.item(), 'gradNorm': grad_norm,
                   'logits': logits.detach().ravel().tolist()}, f, indent=1)

    batches = [make_batch(rng) for _ in range(HYPER['totalSteps'])]
    trainer = bt.Trainer({n: t.clone() for n, t in p.items()}, CONFIG, NUM_LABELS, HYPER['lr'], HYPER['weightDecay'],
                         HYPER['warmupSteps'], HYPER['totalSteps'], HYPER['maxGradNorm'],
                         (HYPER['beta1'], HYPER['beta2']), HYPER['eps'])
    losses, lrs, norms = [], [], []
    for b in batches:
        loss_v, norm, lr = trainer.step(bt.batch_to_torch(b))
        losses.append(loss_v)
        lrs.append(lr)
        norms.append(norm)
    bt.write_safetensors(out('final.safetensors'), trainer.p, {'format': 'pt'})
    with open(out('trajectory.json'), 'w') as f:
        json.dump({'hyper': HYPER, 'losses': losses, 'lrs': lrs, 'gradNorms': norms, 'batches': batches}, f)
    print(json.dumps({'out': os.path.abspath(args.out), 'loss': loss.item(), 'firstLoss': losses[0], 'lastLoss': losses[-1]}))


if __name__ == '__main__':
    main()

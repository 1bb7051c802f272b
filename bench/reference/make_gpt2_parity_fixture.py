"""Writes the PyTorch parity fixture of a tiny GPT2ForSequenceClassification (default: test/fixtures/parity-gpt2/),
the same files as make_parity_fixtures.py writes for the encoder families, with the 50-step AdamW trajectory:

  /usr/bin/python3 bench/reference/make_gpt2_parity_fixture.py [--out DIR] [--seed N]

config.json is GPT-2's own (openai-community/gpt2) shrunk: n_inner null (4 * n_embd), gelu_new, no pad_token_id,
bos = eos = the last id. Batches are right-padded with eos (what bertft pads GPT-2 with), no special tokens around
the text (GPT-2's tokenizer adds none); labels are the last real token mod 3, so they are learnable from the pooled
token. Float32 on CPU, one thread, dropout off.
"""
import argparse
import json
import os

import numpy as np
import torch

import bert_torch as bt
import gpt2_torch as gt
import hf_weights as hf
from make_parity_fixtures import HYPER, NUM_LABELS, BATCH, SEQ

CONFIG = {
    'architectures': ['GPT2ForSequenceClassification'], 'model_type': 'gpt2', 'activation_function': 'gelu_new',
    'vocab_size': 64, 'n_embd': 32, 'n_layer': 2, 'n_head': 4, 'n_inner': None, 'n_positions': 16, 'n_ctx': 16,
    'resid_pdrop': 0.1, 'embd_pdrop': 0.1, 'attn_pdrop': 0.1, 'layer_norm_epsilon': 1e-5, 'initializer_range': 0.2,
    'bos_token_id': 63, 'eos_token_id': 63, 'scale_attn_weights': True, 'summary_type': 'cls_index',
    'id2label': {'0': 'neg', '1': 'neu', '2': 'pos'}, 'label2id': {'neg': 0, 'neu': 1, 'pos': 2},
}


def make_batch(rng, config=CONFIG):
    """Real tokens 0..V-2, then padding with eos (mask 0); one full row, one row at most SEQ - 3 long."""
    pad = gt.pad_token_id(config)
    lengths = rng.randint(3, SEQ + 1, size=BATCH)
    lengths[0] = SEQ
    lengths[1] = min(lengths[1], SEQ - 3)
    ids = np.full((BATCH, SEQ), pad, np.int64)
    mask = np.zeros((BATCH, SEQ), np.int64)
    for r, n in enumerate(lengths):
        ids[r, :n] = rng.randint(0, config['vocab_size'] - 1, size=n)
        mask[r, :n] = 1
    labels = ids[np.arange(BATCH), lengths - 1] % NUM_LABELS
    return {'batchSize': BATCH, 'seqLen': SEQ, 'inputIds': ids.ravel().tolist(), 'attentionMask': mask.ravel().tolist(),
            'tokenTypeIds': [0] * (BATCH * SEQ), 'labels': labels.tolist()}


def initial_params(seed, config=CONFIG):
    """HF-style init (a large initializer_range), then biases and LayerNorm parameters moved off 0/1."""
    g = torch.Generator().manual_seed(seed)
    p = gt.init_params(config, NUM_LABELS, g)
    for n, t in p.items():
        if n.endswith('.bias'):
            t += torch.randn(t.shape, generator=g) * 0.02
        elif '.ln_' in n and n.endswith('.weight'):
            t += torch.randn(t.shape, generator=g) * 0.1
    return p


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--out', default=os.path.join(os.path.dirname(__file__), '..', '..', 'test', 'fixtures',
                                                  'parity-gpt2'))
    ap.add_argument('--seed', type=int, default=0)
    args = ap.parse_args()
    torch.set_num_threads(1)
    os.makedirs(args.out, exist_ok=True)
    out = lambda name: os.path.join(args.out, name)  # noqa: E731
    rng = np.random.RandomState(args.seed)
    p = initial_params(args.seed)
    hf.save_model(args.out, CONFIG, p)

    batch = make_batch(rng)
    with open(out('batch.json'), 'w') as f:
        json.dump(batch, f)
    leaves = {n: t.clone().requires_grad_(True) for n, t in p.items()}
    ids, types, mask, labels = bt.batch_to_torch(batch)
    logits = gt.logits_fn(leaves, CONFIG, ids, types, mask)
    loss = torch.nn.functional.cross_entropy(logits, labels)
    loss.backward()
    grads = {n: t.grad for n, t in leaves.items()}
    grad_norm = float(torch.sqrt(sum((g.double() ** 2).sum() for g in grads.values())))
    hf.write_safetensors(out('grads.safetensors'), grads, {'format': 'pt'})
    with open(out('expected.json'), 'w') as f:
        json.dump({'seed': args.seed, 'torch': torch.__version__, 'loss': loss.item(), 'gradNorm': grad_norm,
                   'logits': logits.detach().ravel().tolist()}, f, indent=1)

    batches = [make_batch(rng) for _ in range(HYPER['totalSteps'])]
    trainer = gt.Trainer({n: t.clone() for n, t in p.items()}, CONFIG, NUM_LABELS, HYPER['lr'], HYPER['weightDecay'],
                         HYPER['warmupSteps'], HYPER['totalSteps'], HYPER['maxGradNorm'],
                         (HYPER['beta1'], HYPER['beta2']), HYPER['eps'])
    losses, lrs, norms = [], [], []
    for b in batches:
        loss_v, norm, lr = trainer.step(bt.batch_to_torch(b))
        losses.append(loss_v)
        lrs.append(lr)
        norms.append(norm)
    hf.write_safetensors(out('final.safetensors'), trainer.p, {'format': 'pt'})
    with open(out('trajectory.json'), 'w') as f:
        json.dump({'hyper': HYPER, 'losses': losses, 'lrs': lrs, 'gradNorms': norms, 'batches': batches}, f)
    print(json.dumps({'out': os.path.abspath(args.out), 'loss': loss.item(), 'firstLoss': losses[0],
                      'lastLoss': losses[-1]}))


if __name__ == '__main__':
    main()

"""Writes the PyTorch parity fixtures of a tiny ModernBertForSequenceClassification (modernbert_torch.py), in the files
and batches make_parity_fixtures.py writes for the other families:

  /usr/bin/python3 bench/reference/make_modernbert_fixtures.py [--variant mean|cls-bias] [--out DIR] [--seed N]

--variant mean (default: test/fixtures/parity-modernbert/, 50 AdamW steps): mean pooling, no biases (as
answerdotai/ModernBERT-base). --variant cls-bias (test/fixtures/parity-modernbert-cls/, 20 steps): CLS pooling with
every bias switched on (norm_bias, attention_bias, mlp_bias, classifier_bias), so those paths are checked too.
Both: 3 layers with global_attn_every_n_layers 2 (layers 0 and 2 global, layer 1 local) and local_attention 4 (keys
within 2 positions) on sequences of 12, so the sliding window matters; different rope thetas for the two kinds;
pad_token_id 0 ([CLS] = 1, as make_batch writes). Float32 on CPU, one thread, dropout off.
"""
import argparse
import json
import os

import numpy as np
import torch

import bert_torch as bt
import hf_weights as hf
import modernbert_torch as mt
from make_parity_fixtures import BATCH, HYPER, NUM_LABELS, make_batch

CONFIG = {
    'architectures': ['ModernBertForSequenceClassification'], 'model_type': 'modernbert',
    'vocab_size': 64, 'hidden_size': 32, 'intermediate_size': 48, 'num_hidden_layers': 3, 'num_attention_heads': 4,
    'hidden_activation': 'gelu', 'max_position_embeddings': 64, 'initializer_range': 0.2, 'norm_eps': 1e-5,
    'norm_bias': False, 'pad_token_id': 0, 'bos_token_id': 1, 'eos_token_id': 2, 'cls_token_id': 1, 'sep_token_id': 2,
    'global_rope_theta': 160000.0, 'local_rope_theta': 10000.0, 'attention_bias': False, 'attention_dropout': 0.0,
    'global_attn_every_n_layers': 2, 'local_attention': 4, 'embedding_dropout': 0.0, 'mlp_bias': False,
    'mlp_dropout': 0.0, 'classifier_pooling': 'mean', 'classifier_dropout': 0.0, 'classifier_bias': False,
    'classifier_activation': 'gelu', 'id2label': {'0': 'neg', '1': 'neu', '2': 'pos'},
    'label2id': {'neg': 0, 'neu': 1, 'pos': 2},
}
VARIANTS = {
    'mean': ({}, 'parity-modernbert', HYPER),
    'cls-bias': ({'classifier_pooling': 'cls', 'norm_bias': True, 'attention_bias': True, 'mlp_bias': True,
                  'classifier_bias': True}, 'parity-modernbert-cls', {**HYPER, 'warmupSteps': 2, 'totalSteps': 20}),
}


def initial_params(seed, config):
    """The reference init, then biases and LayerNorm weights moved off 0/1 so that every gradient path is exercised."""
    g = torch.Generator().manual_seed(seed)
    p = mt.init_params(config, NUM_LABELS, g)
    for n, t in p.items():
        if n.endswith('.bias'):
            t += torch.randn(t.shape, generator=g) * 0.02
        elif n.endswith('norm.weight'):
            t += torch.randn(t.shape, generator=g) * 0.1
    return p


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--variant', choices=sorted(VARIANTS), default='mean')
    ap.add_argument('--out')
    ap.add_argument('--seed', type=int, default=0)
    args = ap.parse_args()
    changes, default_dir, hyper = VARIANTS[args.variant]
    config = {**CONFIG, **changes}
    fixtures = os.path.join(os.path.dirname(__file__), '..', '..', 'test', 'fixtures')
    args.out = args.out or os.path.join(fixtures, default_dir)
    torch.set_num_threads(1)
    os.makedirs(args.out, exist_ok=True)
    out = lambda name: os.path.join(args.out, name)  # noqa: E731

    rng = np.random.RandomState(args.seed)
    p = initial_params(args.seed, config)
    hf.save_model(args.out, config, p)

    batch = make_batch(rng, config)
    with open(out('batch.json'), 'w') as f:
        json.dump(batch, f)
    leaves = {n: t.clone().requires_grad_(True) for n, t in p.items()}
    ids, _, mask, labels = bt.batch_to_torch(batch)
    logits = mt.logits_fn(leaves, config, ids, mask, dropout=False)
    loss = torch.nn.functional.cross_entropy(logits, labels)
    loss.backward()
    grads = {n: t.grad for n, t in leaves.items()}
    grad_norm = float(torch.sqrt(sum((g.double() ** 2).sum() for g in grads.values())))
    hf.write_safetensors(out('grads.safetensors'), grads, {'format': 'pt'})
    with open(out('expected.json'), 'w') as f:
        json.dump({'seed': args.seed, 'torch': torch.__version__, 'loss': loss.item(), 'gradNorm': grad_norm,
                   'logits': logits.detach().ravel().tolist()}, f, indent=1)

    batches = [make_batch(rng, config) for _ in range(hyper['totalSteps'])]
    trainer = bt.Trainer({n: t.clone() for n, t in p.items()}, config, NUM_LABELS, hyper['lr'], hyper['weightDecay'],
                         hyper['warmupSteps'], hyper['totalSteps'], hyper['maxGradNorm'],
                         (hyper['beta1'], hyper['beta2']), hyper['eps'], specs=mt.param_specs(config, NUM_LABELS))
    trainer.loss_fn = lambda p_, cfg_, b, d: mt.loss_fn(p_, cfg_, bt.batch_to_torch(b), dropout=False)
    losses, lrs, norms = [], [], []
    for b in batches:
        loss_v, norm, lr = trainer.step(b)
        losses.append(loss_v)
        lrs.append(lr)
        norms.append(norm)
    hf.write_safetensors(out('final.safetensors'), trainer.p, {'format': 'pt'})
    with open(out('trajectory.json'), 'w') as f:
        json.dump({'hyper': hyper, 'losses': losses, 'lrs': lrs, 'gradNorms': norms, 'batches': batches}, f)
    print(json.dumps({'out': os.path.abspath(args.out), 'batch': BATCH, 'loss': loss.item(), 'firstLoss': losses[0],
                      'lastLoss': losses[-1]}))


if __name__ == '__main__':
    main()

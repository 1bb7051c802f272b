"""Writes the PyTorch parity fixture of a tiny DebertaV2ForSequenceClassification (deberta_v2_torch.py) in the files
and batches make_parity_fixtures.py writes for the other families:

  /usr/bin/python3 bench/reference/make_deberta_v2_fixture.py [--out DIR] [--seed N]

The layout of microsoft/deberta-v3-base (relative attention with shared position projections, p2c and c2p, log
position buckets, rel_embeddings LayerNorm, no absolute positions, no token types, ContextPooler) shrunk to 2 layers
of hidden 32 with position_buckets 8 and max_position_embeddings 24 (max_relative_positions -1 takes it), so on
sequences of 12 the distances 4 and up are log-bucketed (5..11 fall into buckets 5 and 6). pad_token_id 0 ([CLS] = 1,
as make_batch writes). 50 AdamW steps. Float32 on CPU, one thread, dropout off.
"""
import argparse
import json
import os

import numpy as np
import torch

import bert_torch as bt
import deberta_v2_torch as dt
import hf_weights as hf
from make_parity_fixtures import BATCH, HYPER, NUM_LABELS, SEQ, make_batch

CONFIG = {
    'architectures': ['DebertaV2ForSequenceClassification'], 'model_type': 'deberta-v2',
    'vocab_size': 64, 'hidden_size': 32, 'intermediate_size': 48, 'num_hidden_layers': 2, 'num_attention_heads': 4,
    'hidden_act': 'gelu', 'hidden_dropout_prob': 0.1, 'attention_probs_dropout_prob': 0.1,
    'max_position_embeddings': 24, 'type_vocab_size': 0, 'initializer_range': 0.2, 'layer_norm_eps': 1e-7,
    'relative_attention': True, 'max_relative_positions': -1, 'position_buckets': 8, 'pad_token_id': 0,
    'position_biased_input': False, 'pos_att_type': ['p2c', 'c2p'], 'share_att_key': True,
    'norm_rel_ebd': 'layer_norm', 'pooler_dropout': 0, 'pooler_hidden_act': 'gelu', 'pooler_hidden_size': 32,
    'id2label': {'0': 'neg', '1': 'neu', '2': 'pos'}, 'label2id': {'neg': 0, 'neu': 1, 'pos': 2},
}


def initial_params(seed, config):
    """The reference init, then biases and LayerNorm weights moved off 0/1 so that every gradient path is exercised."""
    g = torch.Generator().manual_seed(seed)
    p = dt.init_params(config, NUM_LABELS, g)
    for n, t in p.items():
        if n.endswith('.bias'):
            t += torch.randn(t.shape, generator=g) * 0.02
        elif 'LayerNorm.weight' in n:
            t += torch.randn(t.shape, generator=g) * 0.1
    return p


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--out')
    ap.add_argument('--seed', type=int, default=0)
    args = ap.parse_args()
    config, hyper = CONFIG, HYPER
    fixtures = os.path.join(os.path.dirname(__file__), '..', '..', 'test', 'fixtures')
    args.out = args.out or os.path.join(fixtures, 'parity-deberta-v2')
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
    logits = dt.logits_fn(leaves, config, ids, mask, dropout=False)
    loss = torch.nn.functional.cross_entropy(logits, labels)
    loss.backward()
    grads = {n: t.grad for n, t in leaves.items()}
    grad_norm = float(torch.sqrt(sum((g.double() ** 2).sum() for g in grads.values())))
    hf.write_safetensors(out('grads.safetensors'), grads, {'format': 'pt'})
    with open(out('expected.json'), 'w') as f:
        json.dump({'seed': args.seed, 'torch': torch.__version__, 'loss': loss.item(), 'gradNorm': grad_norm,
                   'logits': logits.detach().ravel().tolist(),
                   'relativePositions': dt.build_relative_position(SEQ, config).ravel().tolist()}, f, indent=1)

    batches = [make_batch(rng, config) for _ in range(hyper['totalSteps'])]
    trainer = bt.Trainer({n: t.clone() for n, t in p.items()}, config, NUM_LABELS, hyper['lr'], hyper['weightDecay'],
                         hyper['warmupSteps'], hyper['totalSteps'], hyper['maxGradNorm'],
                         (hyper['beta1'], hyper['beta2']), hyper['eps'], specs=dt.param_specs(config, NUM_LABELS))
    trainer.loss_fn = lambda p_, cfg_, b, d: dt.loss_fn(p_, cfg_, bt.batch_to_torch(b), dropout=False)
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

"""Writes the PyTorch parity fixtures for a tiny BERT classifier (default: test/fixtures/parity/), or with --family
for a tiny DistilBERT / RoBERTa / ELECTRA classifier (default: test/fixtures/parity-<family>/, 20 steps), or with
--task mlm for the family's *ForMaskedLM (default: test/fixtures/parity-mlm-<family>/, 20 steps).

  /usr/bin/python3 bench/reference/make_parity_fixtures.py [--family bert|distilbert|roberta|electra]
                                                           [--task classify|mlm|multi-label|regression]
                                                           [--out DIR] [--seed N]

Files: config.json + model.safetensors (initial weights, HF names), batch.json (one padded batch with token types),
expected.json (loss, gradient norm and logits of that batch), grads.safetensors (d loss / d weight), trajectory.json
(the 50 stored batches, hyper-parameters, and loss / lr / grad norm per AdamW step), final.safetensors (weights
after the 50 steps). Everything float32 on CPU with one thread, dropout off, so a rerun with the same seed is
bit-identical and the TypeScript parity test can rerun it with a fresh seed. Bit-identical across machines only with
the same OpenBLAS kernels: the committed fixtures were written with OPENBLAS_CORETYPE=SkylakeX (other kernels change
the last bits, well inside the tests' tolerances).

With --label-smoothing EPS (and optionally --class-weights W0,W1,W2) the classifier's loss is
torch.nn.functional.cross_entropy(weight=W, label_smoothing=EPS) (default: test/fixtures/parity-smoothing/, 20 steps);
expected.json records both.

With --task multi-label (and optionally --pos-weight P0,P1,P2) the head has 3 sigmoid outputs trained with
torch.nn.BCEWithLogitsLoss(pos_weight=P) (HF problem_type "multi_label_classification"; default:
test/fixtures/parity-multi-label/, 20 steps): each batch's `labels` are its row numbers in the trajectory (0..3 for
batch.json) and `targets` its 0/1 rows, flattened [batch * 3]; expected.json records the positive weights.

With --task regression the head has one output trained with torch.nn.MSELoss on float targets (HF problem_type
"regression", num_labels 1, id2label LABEL_0; default: test/fixtures/parity-regression/, 20 steps): each batch's
`labels` are its row numbers in the trajectory and `targets` its float targets [batch]. The committed fixture is
--seed 1: seed 0's initial weights give one word-embedding gradient component ~3e-7 of its row's largest (with one
output, every step's gradient of a row used by one example is a multiple of the same Jacobian row), which after
clipping is below AdamW's eps, where float32 round-off is amplified by lr / eps = 1e5 (that row ends 1.5e-4 apart).

With --task mlm the batches are masked (labels per token, -100 where not predicted; 80% of the chosen tokens become
the mask id, 10% a random token, 10% stay), the weights include the MLM head (no decoder weight: it is the word
embedding table), and expected.json holds the score rows of the predicted positions only (`rows`, `logits`).
"""
import argparse
import json
import os

import numpy as np
import torch

import bert_torch as bt
import hf_weights as hf

CONFIG = {
    'architectures': ['BertForSequenceClassification'], 'model_type': 'bert', 'hidden_act': 'gelu',
    'vocab_size': 100, 'hidden_size': 32, 'num_hidden_layers': 2, 'num_attention_heads': 4, 'intermediate_size': 64,
    'max_position_embeddings': 32, 'type_vocab_size': 2, 'hidden_dropout_prob': 0.1, 'attention_probs_dropout_prob': 0.1,
    'layer_norm_eps': 1e-12, 'initializer_range': 0.2, 'pad_token_id': 0,
    'id2label': {'0': 'neg', '1': 'neu', '2': 'pos'}, 'label2id': {'neg': 0, 'neu': 1, 'pos': 2},
}
_SMALL = {'vocab_size': 64, 'hidden_dropout_prob': 0.1, 'attention_probs_dropout_prob': 0.1, 'initializer_range': 0.2,
          'id2label': CONFIG['id2label'], 'label2id': CONFIG['label2id']}
_BERT_LAYOUT = {'hidden_act': 'gelu', 'hidden_size': 32, 'num_hidden_layers': 2, 'num_attention_heads': 4, 'intermediate_size': 64,
                'max_position_embeddings': 16, **_SMALL}
FAMILY_CONFIGS = {
    'bert': CONFIG,
    'distilbert': {'architectures': ['DistilBertForSequenceClassification'], 'model_type': 'distilbert', 'activation': 'gelu',
                   'dim': 32, 'n_layers': 2, 'n_heads': 4, 'hidden_dim': 64, 'max_position_embeddings': 16, 'dropout': 0.1,
                   'attention_dropout': 0.1, 'seq_classif_dropout': 0.2, 'sinusoidal_pos_embds': False, 'pad_token_id': 0,
                   **_SMALL},
    # RoBERTa: <s> = 0, <pad> = 1, one token type, positions offset past the padding index (16 = 12 + 1 + 1 + 2 spare).
    'roberta': {'architectures': ['RobertaForSequenceClassification'], 'model_type': 'roberta', **_BERT_LAYOUT,
                'type_vocab_size': 1, 'pad_token_id': 1, 'bos_token_id': 0, 'eos_token_id': 2, 'layer_norm_eps': 1e-5},
    # ELECTRA with embedding_size < hidden_size, so embeddings_project is exercised.
    'electra': {'architectures': ['ElectraForSequenceClassification'], 'model_type': 'electra', **_BERT_LAYOUT,
                'embedding_size': 16, 'type_vocab_size': 2, 'layer_norm_eps': 1e-12, 'pad_token_id': 0},
}
MLM_ARCHITECTURES = {'bert': 'BertForMaskedLM', 'distilbert': 'DistilBertForMaskedLM', 'roberta': 'RobertaForMaskedLM',
                     'electra': 'ElectraForMaskedLM'}


def mlm_config(fam):
    """The family's tiny config as a *ForMaskedLM declares it (no labels; decoder tied to the word embeddings)."""
    c = {k: v for k, v in FAMILY_CONFIGS[fam].items() if k not in ('id2label', 'label2id')}
    return {**c, 'architectures': [MLM_ARCHITECTURES[fam]], 'tie_word_embeddings': True}


NUM_LABELS, BATCH, SEQ = 3, 4, 12
MLM_PROBABILITY = 0.3
HYPER = {'lr': 1e-3, 'weightDecay': 0.01, 'beta1': 0.9, 'beta2': 0.999, 'eps': 1e-8, 'maxGradNorm': 1.0,
         'warmupSteps': 5, 'totalSteps': 50}


def make_batch(rng, config=CONFIG):
    """[CLS]=1 first, real tokens 2..V-1, a second segment (type 1) in some rows, then padding (id 0, mask 0).
    RoBERTa: <s>=0 first, real tokens 3..V-1, padding id 1, no token types; DistilBERT: no token types."""
    lengths = rng.randint(4, SEQ + 1, size=BATCH)
    lengths[0] = SEQ  # at least one full row, at least one padded row
    lengths[1] = min(lengths[1], SEQ - 3)
    ids = np.zeros((BATCH, SEQ), np.int64)
    types = np.zeros((BATCH, SEQ), np.int64)
    mask = np.zeros((BATCH, SEQ), np.int64)
    roberta = config.get('model_type') == 'roberta'
    if roberta:
        ids[:] = 1
    for r, n in enumerate(lengths):
        ids[r, 0] = 0 if roberta else 1
        ids[r, 1:n] = rng.randint(3 if roberta else 2, config['vocab_size'], size=n - 1)
        mask[r, :n] = 1
        if r % 2 == 1 and n > 3 and config.get('type_vocab_size', 0) > 1:
            types[r, n // 2:n] = 1
    labels = ids[:, 1] % NUM_LABELS  # learnable, so the 50-step loss curve goes somewhere
    return {'batchSize': BATCH, 'seqLen': SEQ, 'inputIds': ids.ravel().tolist(), 'attentionMask': mask.ravel().tolist(),
            'tokenTypeIds': types.ravel().tolist(), 'labels': labels.tolist()}


def mask_batch(rng, batch, config):
    """DataCollatorForLanguageModeling's corruption of a make_batch batch: real tokens (not the first, not padding)
    chosen with MLM_PROBABILITY (at least one per batch); of those 80% become the mask id (the last id), 10% a random
    id, 10% stay; labels are the original ids there and -100 elsewhere."""
    V = config['vocab_size']
    ids = np.array(batch['inputIds']).reshape(BATCH, SEQ)
    mask = np.array(batch['attentionMask']).reshape(BATCH, SEQ)
    eligible = (mask == 1)
    eligible[:, 0] = False
    chosen = eligible & (rng.rand(BATCH, SEQ) < MLM_PROBABILITY)
    if not chosen.any():
        chosen[0, 1] = True
    labels = np.where(chosen, ids, bt.IGNORE_INDEX)
    r = rng.rand(BATCH, SEQ)
    random_ids = rng.randint(0, V, size=(BATCH, SEQ))
    ids = np.where(chosen & (r < 0.8), V - 1, np.where(chosen & (r >= 0.8) & (r < 0.9), random_ids, ids))
    return {**batch, 'inputIds': ids.ravel().tolist(), 'labels': labels.ravel().tolist()}


def initial_params(seed, config=CONFIG, task='classify', num_labels=NUM_LABELS):
    """HF init (with a large initializer_range so activations vary between rows), then biases and LayerNorm parameters moved off 0/1 so that every gradient path is exercised."""
    g = torch.Generator().manual_seed(seed)
    p = bt.init_params(config, num_labels, g, task)
    for n, t in p.items():
        if n.endswith('.bias'):
            t += torch.randn(t.shape, generator=g) * 0.02
        elif n.endswith('LayerNorm.weight') or n.endswith('layer_norm.weight'):
            t += torch.randn(t.shape, generator=g) * 0.1
    return p


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--family', choices=sorted(FAMILY_CONFIGS), default='bert')
    ap.add_argument('--task', choices=['classify', 'mlm', 'multi-label', 'regression'], default='classify')
    ap.add_argument('--out')
    ap.add_argument('--seed', type=int, default=0)
    ap.add_argument('--label-smoothing', type=float, default=0.0)
    ap.add_argument('--class-weights')
    ap.add_argument('--pos-weight')
    args = ap.parse_args()
    if args.task in ('multi-label', 'regression'):
        return sigmoid_or_mse_head(args)
    mlm = args.task == 'mlm'
    smoothing = args.label_smoothing
    weights = [float(w) for w in args.class_weights.split(',')] if args.class_weights else None
    weight = torch.tensor(weights, dtype=torch.float32) if weights else None
    custom_loss = smoothing > 0 or weights is not None
    config = mlm_config(args.family) if mlm else FAMILY_CONFIGS[args.family]
    hyper = HYPER if args.family == 'bert' and not mlm and not custom_loss else {**HYPER, 'warmupSteps': 2, 'totalSteps': 20}
    fixtures = os.path.join(os.path.dirname(__file__), '..', '..', 'test', 'fixtures')
    default_dir = f'parity-mlm-{args.family}' if mlm else 'parity' if args.family == 'bert' else f'parity-{args.family}'
    if custom_loss:
        default_dir = 'parity-smoothing' if args.family == 'bert' else f'parity-smoothing-{args.family}'
    args.out = args.out or os.path.join(fixtures, default_dir)
    torch.set_num_threads(1)
    os.makedirs(args.out, exist_ok=True)
    out = lambda name: os.path.join(args.out, name)  # noqa: E731
    make = (lambda: mask_batch(rng, make_batch(rng, config), config)) if mlm else (lambda: make_batch(rng, config))  # noqa: E731

    rng = np.random.RandomState(args.seed)
    p = initial_params(args.seed, config, args.task)
    hf.save_model(args.out, config, p)

    batch = make()
    with open(out('batch.json'), 'w') as f:
        json.dump(batch, f)
    leaves = {n: t.clone().requires_grad_(True) for n, t in p.items()}
    tb = bt.batch_to_torch(batch)
    if mlm:
        scores = bt.mlm_logits_fn(leaves, config, tb[0], tb[1], tb[2]).view(BATCH * SEQ, -1)
        loss = torch.nn.functional.cross_entropy(scores, tb[3], ignore_index=bt.IGNORE_INDEX)
        rows = [i for i, y in enumerate(batch['labels']) if y != bt.IGNORE_INDEX]
        logits = scores[rows]
    else:
        logits = bt.logits_fn(leaves, config, tb[0], tb[1], tb[2])
        loss = torch.nn.functional.cross_entropy(logits, tb[3], weight=weight, label_smoothing=smoothing)
    loss.backward()
    grads = {n: t.grad for n, t in leaves.items()}
    grad_norm = float(torch.sqrt(sum((g.double() ** 2).sum() for g in grads.values())))
    hf.write_safetensors(out('grads.safetensors'), grads, {'format': 'pt'})
    with open(out('expected.json'), 'w') as f:
        json.dump({'seed': args.seed, 'torch': torch.__version__, 'loss': loss.item(), 'gradNorm': grad_norm,
                   **({'rows': rows} if mlm else {}),
                   **({'labelSmoothing': smoothing, 'classWeights': weights} if custom_loss else {}),
                   'logits': logits.detach().ravel().tolist()}, f, indent=1)

    batches = [make() for _ in range(hyper['totalSteps'])]
    trainer = bt.Trainer({n: t.clone() for n, t in p.items()}, config, NUM_LABELS, hyper['lr'], hyper['weightDecay'],
                         hyper['warmupSteps'], hyper['totalSteps'], hyper['maxGradNorm'],
                         (hyper['beta1'], hyper['beta2']), hyper['eps'], task=args.task, weight=weight,
                         label_smoothing=smoothing)
    losses, lrs, norms = [], [], []
    for b in batches:
        loss_v, norm, lr = trainer.step(bt.batch_to_torch(b))
        losses.append(loss_v)
        lrs.append(lr)
        norms.append(norm)
    hf.write_safetensors(out('final.safetensors'), trainer.p, {'format': 'pt'})
    with open(out('trajectory.json'), 'w') as f:
        json.dump({'hyper': hyper, 'losses': losses, 'lrs': lrs, 'gradNorms': norms, 'batches': batches}, f)
    print(json.dumps({'out': os.path.abspath(args.out), 'loss': loss.item(), 'firstLoss': losses[0], 'lastLoss': losses[-1]}))


def multi_hot(rng, batch, offset):
    """A make_batch batch with multi-label targets: label c is on when token 1 or 2 of the row, mod 3, is c (so a row
    has one or two labels, learnable from its first tokens), and one in five labels is flipped at random (some rows
    get none or all three). `labels` are the rows' numbers from `offset` on, as the engine indexes its targets."""
    ids = np.array(batch['inputIds']).reshape(BATCH, SEQ)
    t = np.zeros((BATCH, NUM_LABELS), np.float32)
    for r in range(BATCH):
        t[r, ids[r, 1] % NUM_LABELS] = 1
        t[r, ids[r, 2] % NUM_LABELS] = 1
    t = np.where(rng.rand(BATCH, NUM_LABELS) < 0.2, 1 - t, t)
    return {**batch, 'labels': list(range(offset, offset + BATCH)), 'targets': t.ravel().tolist()}


def regression_targets(rng, batch, offset):
    """A make_batch batch with float regression targets: the row's first two real tokens mod 5, scaled, plus a little
    noise (learnable from the first tokens). `labels` are the rows' numbers from `offset` on, as the engine indexes its
    targets."""
    ids = np.array(batch['inputIds']).reshape(BATCH, SEQ)
    t = (ids[:, 1] % 5 - (ids[:, 2] % 5) / 2).astype(np.float32) * 0.3 + rng.randn(BATCH).astype(np.float32) * 0.05
    return {**batch, 'labels': list(range(offset, offset + BATCH)), 'targets': t.tolist()}


def sigmoid_or_mse_head(args):
    """--task multi-label (BCEWithLogitsLoss, 3 outputs) or --task regression (MSELoss, 1 output): loss, gradients
    and logits of one batch, then 20 AdamW steps, with the loss HF BertForSequenceClassification takes for that
    problem_type."""
    regression = args.task == 'regression'
    pos = [float(w) for w in args.pos_weight.split(',')] if args.pos_weight and not regression else None
    if regression:
        num_labels, with_targets = 1, regression_targets
        config = {**CONFIG, 'id2label': {'0': 'LABEL_0'}, 'label2id': {'LABEL_0': 0}, 'problem_type': 'regression'}
        mse = torch.nn.MSELoss()
        # HF: loss_fct(logits.squeeze(), labels.squeeze()) when num_labels == 1.
        criterion = lambda logits, t: mse(logits.squeeze(), t)  # noqa: E731
    else:
        num_labels, with_targets = NUM_LABELS, multi_hot
        config = {**CONFIG, 'problem_type': 'multi_label_classification'}
        bce = torch.nn.BCEWithLogitsLoss(pos_weight=torch.tensor(pos, dtype=torch.float32) if pos else None)
        criterion = lambda logits, t: bce(logits, t.view(BATCH, NUM_LABELS))  # noqa: E731
    hyper = {**HYPER, 'warmupSteps': 2, 'totalSteps': 20}
    fixtures = os.path.join(os.path.dirname(__file__), '..', '..', 'test', 'fixtures')
    args.out = args.out or os.path.join(fixtures, f'parity-{args.task}')
    torch.set_num_threads(1)
    os.makedirs(args.out, exist_ok=True)
    out = lambda name: os.path.join(args.out, name)  # noqa: E731
    rng = np.random.RandomState(args.seed)
    p = initial_params(args.seed, config, num_labels=num_labels)
    hf.save_model(args.out, config, p)

    def loss_of(params, b):
        ids, types, mask, _ = bt.batch_to_torch(b)
        logits = bt.logits_fn(params, config, ids, types, mask)
        return criterion(logits, torch.tensor(b['targets'], dtype=torch.float32)), logits

    batch = with_targets(rng, make_batch(rng, config), 0)
    with open(out('batch.json'), 'w') as f:
        json.dump(batch, f)
    leaves = {n: t.clone().requires_grad_(True) for n, t in p.items()}
    loss, logits = loss_of(leaves, batch)
    loss.backward()
    grads = {n: t.grad for n, t in leaves.items()}
    grad_norm = float(torch.sqrt(sum((g.double() ** 2).sum() for g in grads.values())))
    hf.write_safetensors(out('grads.safetensors'), grads, {'format': 'pt'})
    with open(out('expected.json'), 'w') as f:
        json.dump({'seed': args.seed, 'torch': torch.__version__, 'loss': loss.item(), 'gradNorm': grad_norm,
                   **({} if regression else {'posWeight': pos}), 'logits': logits.detach().ravel().tolist()}, f,
                  indent=1)

    batches = [with_targets(rng, make_batch(rng, config), k * BATCH) for k in range(hyper['totalSteps'])]
    trainer = bt.Trainer({n: t.clone() for n, t in p.items()}, config, num_labels, hyper['lr'], hyper['weightDecay'],
                         hyper['warmupSteps'], hyper['totalSteps'], hyper['maxGradNorm'],
                         (hyper['beta1'], hyper['beta2']), hyper['eps'])
    trainer.loss_fn = lambda p_, cfg_, b, d: loss_of(p_, b)[0]
    losses, lrs, norms = [], [], []
    for b in batches:
        loss_v, norm, lr = trainer.step(b)
        losses.append(loss_v)
        lrs.append(lr)
        norms.append(norm)
    hf.write_safetensors(out('final.safetensors'), trainer.p, {'format': 'pt'})
    with open(out('trajectory.json'), 'w') as f:
        json.dump({'hyper': hyper, 'losses': losses, 'lrs': lrs, 'gradNorms': norms, 'batches': batches}, f)
    print(json.dumps({'out': os.path.abspath(args.out), 'loss': loss.item(), 'firstLoss': losses[0], 'lastLoss': losses[-1]}))


if __name__ == '__main__':
    main()

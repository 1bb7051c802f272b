"""Writes the PyTorch reference of the long-run parity test (test/unit/parity/long-run.test.ts): the loss, the
gradient norm and the learning rate of every AdamW step of a short but real fine-tuning run, and the L2 norm of every
tensor after it; default test/fixtures/parity-long/expected.json.

  npm run fixtures:parity-long
  = npx tsc -p . && OPENBLAS_CORETYPE=SkylakeX OMP_NUM_THREADS=1 /usr/bin/python3 bench/reference/make_long_parity_fixture.py
    [--seed N] [--out FILE] [--inputs DIR]

The run's inputs come from our own code, so both sides start from the same bits: this script runs
`node out/test/helpers/long-run.js --seed N --out DIR` (compile first), which makes them the way `bertft train` does
(test/helpers/long-run.ts): the rows of examples/spam-ham.csv split 90/10 by the seed, tokenized by our bundled
bert-base-uncased tokenizer (the real 30,522-token vocabulary), head-truncated to 128 tokens, 4 epochs of seeded,
length-grouped, dynamically padded batches of 16 (92 steps); a random:tiny BertForSequenceClassification (2 layers,
hidden 64, the real vocabulary) initialised by our initializer from the seed; AdamW (lr 1e-3, weight decay 0.01, not
on biases and LayerNorm weights), global-norm clipping at 1 and the linear warmup (10 steps) / decay schedule.
It reads DIR/config.json, DIR/model.safetensors, DIR/batches.json and DIR/inputs.json (hyper-parameters, checksums).
With --inputs DIR it uses a folder the caller wrote (the test's live re-run does this with a fresh seed).

The reference is bench/reference/bert_torch.py (plain torch, no transformers): its Trainer is torch.optim.AdamW with
two parameter groups, torch.nn.utils.clip_grad_norm_ and a LambdaLR with HF's linear schedule. No dropout, float32
on CPU with one thread. expected.json holds the seed, torch version, the settings and hyper-parameters, the sha256 of
the initial weights and of the batches (the test recomputes them: a change in the tokenizer, batching or initializer
shows as a checksum mismatch, not as a loss difference), the batch shapes, per step the loss, the gradient norm
before clipping and the learning rate, and the final norm of every tensor (float64 sums). The committed file: seed 0,
torch 1.13 (Debian python3-torch; it reports 1.13.0a0), OPENBLAS_CORETYPE=SkylakeX; other BLAS kernels change the
last bits, far inside the test's tolerances (the test's header says how they were chosen).
"""
import argparse
import json
import os
import subprocess
import tempfile

import torch

import bert_torch as bt

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..'))
DEFAULT_OUT = os.path.join(ROOT, 'test', 'fixtures', 'parity-long', 'expected.json')


def node_inputs(seed, out):
    """Our inputs for `seed`, written by the compiled test helper into `out`."""
    helper = os.path.join(ROOT, 'out', 'test', 'helpers', 'long-run.js')
    if not os.path.exists(helper):
        raise SystemExit(f'{helper} is missing: compile first (npx tsc -p .)')
    subprocess.run(['node', helper, '--seed', str(seed), '--out', out], check=True, cwd=ROOT, stdout=subprocess.DEVNULL)


def reference(inputs_dir):
    inputs = json.load(open(os.path.join(inputs_dir, 'inputs.json')))
    batches = json.load(open(os.path.join(inputs_dir, 'batches.json')))
    cfg, p, num_labels = bt.load_model_dir(inputs_dir)
    h = inputs['hyper']
    assert len(batches) == h['totalSteps'], (len(batches), h['totalSteps'])
    trainer = bt.Trainer(p, cfg, num_labels, h['lr'], h['weightDecay'], h['warmupSteps'], h['totalSteps'], h['maxGradNorm'],
                         (h['beta1'], h['beta2']), h['eps'])
    losses, norms, lrs = [], [], []
    for b in batches:
        loss, norm, lr = trainer.step(bt.batch_to_torch(b))
        losses.append(loss)
        norms.append(norm)
        lrs.append(lr)
    final_norms = {n: float(t.detach().double().norm()) for n, t in sorted(trainer.p.items())}
    return {'seed': inputs['seed'], 'torch': torch.__version__, 'model': inputs['model'], 'labels': inputs['labels'],
            'settings': inputs['settings'], 'hyper': h, 'sha256': inputs['sha256'],
            'shapes': [[b['batchSize'], b['seqLen']] for b in batches],
            'losses': losses, 'gradNorms': norms, 'lrs': lrs, 'finalNorms': final_norms}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--seed', type=int, default=0)
    ap.add_argument('--out', default=DEFAULT_OUT)
    ap.add_argument('--inputs', help='a folder written by test/helpers/long-run.ts (default: run it for --seed)')
    args = ap.parse_args()
    torch.set_num_threads(1)
    if args.inputs:
        result = reference(args.inputs)
    else:
        with tempfile.TemporaryDirectory(prefix='bertft-long-') as d:
            node_inputs(args.seed, d)
            result = reference(d)
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, 'w') as f:
        json.dump(result, f, indent=1)
        f.write('\n')
    print(json.dumps({'out': os.path.abspath(args.out), 'steps': len(result['losses']), 'firstLoss': result['losses'][0],
                      'lastLoss': result['losses'][-1]}))


if __name__ == '__main__':
    main()

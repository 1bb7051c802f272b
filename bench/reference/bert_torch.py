"""Plain-PyTorch BertForSequenceClassification with Hugging Face semantics (no `transformers`): the reference our
ONNX train step is checked and timed against.

It reads and writes HF-named `model.safetensors` + `config.json` (the safetensors format is parsed here directly:
8-byte little-endian header length, JSON header, raw tensor bytes). The model is the post-LayerNorm BERT encoder,
exact GELU, tanh pooler over [CLS], a linear classifier and mean cross-entropy; optimisation is torch AdamW with
weight decay off for biases and LayerNorm weights, global-norm clipping and HF's linear warmup/decay schedule.

Run with Debian's torch: /usr/bin/python3 (apt-get install python3-torch libopenblas0-pthread).
"""
import json
import math
import struct

import numpy as np
import torch
import torch.nn.functional as F

_DTYPES = {'F32': np.float32, 'F16': np.float16, 'BF16': None, 'F64': np.float64, 'I64': np.int64}


def read_safetensors(path):
    """Returns ({name: float32 torch tensor}, metadata). Integer tensors (e.g. position_ids buffers) are skipped."""
    with open(path, 'rb') as f:
        raw = f.read()
    (n,) = struct.unpack('<Q', raw[:8])
    header = json.loads(raw[8:8 + n].decode('utf8'))
    meta = header.pop('__metadata__', {})
    data = memoryview(raw)[8 + n:]
    out = {}
    for name, e in header.items():
        b, end = e['data_offsets']
        chunk = data[b:end]
        if e['dtype'] == 'BF16':
            bits = np.frombuffer(chunk, dtype=np.uint16).astype(np.uint32) << 16
            arr = bits.view(np.float32)
        elif e['dtype'] in ('F32', 'F16', 'F64'):
            arr = np.frombuffer(chunk, dtype=_DTYPES[e['dtype']]).astype(np.float32)
        else:
            continue
        out[name] = torch.from_numpy(arr.copy().reshape(e['shape']))
    return out, meta


def write_safetensors(path, tensors, metadata=None):
    """float32 tensors sorted by name, header space-padded to 8 bytes, as the reference writer does."""
    names = sorted(tensors)
    header = {}
    if metadata:
        header['__metadata__'] = metadata
    blobs, off = [], 0
    for name in names:
        a = np.ascontiguousarray(tensors[name].detach().cpu().numpy().astype(np.float32))
        header[name] = {'dtype': 'F32', 'shape': list(a.shape), 'data_offsets': [off, off + a.nbytes]}
        blobs.append(a.tobytes())
        off += a.nbytes
    js = json.dumps(header, separators=(',', ':')).encode('utf8')
    js += b' ' * ((-(8 + len(js))) % 8)
    with open(path, 'wb') as f:
        f.write(struct.pack('<Q', len(js)))
        f.write(js)
        for b in blobs:
            f.write(b)


def param_specs(cfg, num_labels):
    """(HF name, shape, init, decay) in the order BertForSequenceClassification registers its parameters."""
    V, H, P, T, I = cfg['vocab_size'], cfg['hidden_size'], cfg['max_position_embeddings'], cfg['type_vocab_size'], cfg['intermediate_size']
    s = [('bert.embeddings.word_embeddings.weight', [V, H], 'normal'),
         ('bert.embeddings.position_embeddings.weight', [P, H], 'normal'),
         ('bert.embeddings.token_type_embeddings.weight', [T, H], 'normal'),
         ('bert.embeddings.LayerNorm.weight', [H], 'ones'), ('bert.embeddings.LayerNorm.bias', [H], 'zeros')]
    for l in range(cfg['num_hidden_layers']):
        p = f'bert.encoder.layer.{l}.'
        for n in ('attention.self.query', 'attention.self.key', 'attention.self.value', 'attention.output.dense'):
            s += [(p + n + '.weight', [H, H], 'normal'), (p + n + '.bias', [H], 'zeros')]
        s += [(p + 'attention.output.LayerNorm.weight', [H], 'ones'), (p + 'attention.output.LayerNorm.bias', [H], 'zeros'),
              (p + 'intermediate.dense.weight', [I, H], 'normal'), (p + 'intermediate.dense.bias', [I], 'zeros'),
              (p + 'output.dense.weight', [H, I], 'normal'), (p + 'output.dense.bias', [H], 'zeros'),
              (p + 'output.LayerNorm.weight', [H], 'ones'), (p + 'output.LayerNorm.bias', [H], 'zeros')]
    s += [('bert.pooler.dense.weight', [H, H], 'normal'), ('bert.pooler.dense.bias', [H], 'zeros'),
          ('classifier.weight', [num_labels, H], 'normal'), ('classifier.bias', [num_labels], 'zeros')]
    return [(n, shape, init, not (n.endswith('.bias') or n.endswith('LayerNorm.weight'))) for n, shape, init in s]


def init_params(cfg, num_labels, generator):
    """HF _init_weights: normal(0, initializer_range) for matrices and embeddings, LayerNorm 1/0, biases 0."""
    std = cfg['initializer_range']
    p = {}
    for n, shape, init, _ in param_specs(cfg, num_labels):
        if init == 'normal':
            p[n] = torch.randn(shape, generator=generator) * std
        else:
            p[n] = torch.zeros(shape) if init == 'zeros' else torch.ones(shape)
    return p


def logits_fn(p, cfg, ids, types, mask, dropout=0.0):
    """ids, types: int64 [B, S]; mask: float [B, S] of 0/1. dropout > 0 only in training."""
    B, S = ids.shape
    H, nh, eps = cfg['hidden_size'], cfg['num_attention_heads'], cfg.get('layer_norm_eps', 1e-12)
    dh = H // nh
    drop = (lambda t: F.dropout(t, dropout, True)) if dropout > 0 else (lambda t: t)
    x = (F.embedding(ids, p['bert.embeddings.word_embeddings.weight'], padding_idx=cfg.get('pad_token_id', 0))
         + p['bert.embeddings.token_type_embeddings.weight'][types]
         + p['bert.embeddings.position_embeddings.weight'][:S])
    x = drop(F.layer_norm(x, (H,), p['bert.embeddings.LayerNorm.weight'], p['bert.embeddings.LayerNorm.bias'], eps))
    madd = (1.0 - mask[:, None, None, :]) * torch.finfo(torch.float32).min
    for l in range(cfg['num_hidden_layers']):
        pre = f'bert.encoder.layer.{l}.'

        def lin(t, n):
            return F.linear(t, p[pre + n + '.weight'], p[pre + n + '.bias'])

        def heads(t):
            return t.view(B, S, nh, dh).transpose(1, 2)

        q, k, v = heads(lin(x, 'attention.self.query')), heads(lin(x, 'attention.self.key')), heads(lin(x, 'attention.self.value'))
        probs = drop(torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(dh) + madd, -1))
        a = drop(lin((probs @ v).transpose(1, 2).reshape(B, S, H), 'attention.output.dense'))
        x1 = F.layer_norm(a + x, (H,), p[pre + 'attention.output.LayerNorm.weight'], p[pre + 'attention.output.LayerNorm.bias'], eps)
        h = F.gelu(lin(x1, 'intermediate.dense'))
        o = drop(lin(h, 'output.dense'))
        x = F.layer_norm(o + x1, (H,), p[pre + 'output.LayerNorm.weight'], p[pre + 'output.LayerNorm.bias'], eps)
    pooled = drop(torch.tanh(F.linear(x[:, 0], p['bert.pooler.dense.weight'], p['bert.pooler.dense.bias'])))
    return F.linear(pooled, p['classifier.weight'], p['classifier.bias'])


def loss_fn(p, cfg, batch, dropout=0.0):
    ids, types, mask, labels = batch
    return F.cross_entropy(logits_fn(p, cfg, ids, types, mask, dropout), labels)


def linear_schedule(warmup, total):
    """HF get_linear_schedule_with_warmup: optimizer step t (0-based) uses lr * this(t)."""
    def f(t):
        if t < warmup:
            return t / max(1, warmup)
        return max(0.0, (total - t) / max(1, total - warmup))
    return f


class Trainer:
    """AdamW + clipping + linear schedule over a dict of leaf tensors, one optimizer step per call."""

    def __init__(self, p, cfg, num_labels, lr, weight_decay, warmup, total, max_grad_norm=1.0,
                 betas=(0.9, 0.999), eps=1e-8, dropout=0.0):
        self.p, self.cfg, self.dropout, self.max_grad_norm = p, cfg, dropout, max_grad_norm
        for t in p.values():
            t.requires_grad_(True)
        decay = {n for n, _, _, d in param_specs(cfg, num_labels) if d}
        groups = [{'params': [t for n, t in p.items() if n in decay], 'weight_decay': weight_decay},
                  {'params': [t for n, t in p.items() if n not in decay], 'weight_decay': 0.0}]
        self.opt = torch.optim.AdamW(groups, lr=lr, betas=betas, eps=eps)
        self.sched = torch.optim.lr_scheduler.LambdaLR(self.opt, linear_schedule(warmup, total))

    def step(self, batch):
        """Returns (loss, grad norm before clipping, lr used)."""
        self.opt.zero_grad(set_to_none=True)
        loss = loss_fn(self.p, self.cfg, batch, self.dropout)
        loss.backward()
        norm = torch.nn.utils.clip_grad_norm_(list(self.p.values()), self.max_grad_norm)
        lr = self.opt.param_groups[0]['lr']
        self.opt.step()
        self.sched.step()
        return loss.item(), float(norm), lr


def load_model_dir(d):
    """config.json + model.safetensors of a BertForSequenceClassification folder → (cfg, params, num_labels)."""
    cfg = json.load(open(f'{d}/config.json'))
    tensors, _ = read_safetensors(f'{d}/model.safetensors')
    p = {(n if n.startswith('bert.') or n.startswith('classifier.') else 'bert.' + n): t for n, t in tensors.items()}
    num_labels = p['classifier.weight'].shape[0]
    return cfg, p, num_labels


def batch_to_torch(b):
    B, S = b['batchSize'], b['seqLen']
    return (torch.tensor(b['inputIds'], dtype=torch.long).view(B, S),
            torch.tensor(b['tokenTypeIds'], dtype=torch.long).view(B, S),
            torch.tensor(b['attentionMask'], dtype=torch.float32).view(B, S),
            torch.tensor(b['labels'], dtype=torch.long))


if __name__ == '__main__':
    # /usr/bin/python3 bert_torch.py logits MODEL_DIR BATCH_JSON: logits of a saved model folder, as one JSON list.
    import sys
    if len(sys.argv) == 4 and sys.argv[1] == 'logits':
        torch.set_num_threads(1)
        cfg, params, _ = load_model_dir(sys.argv[2])
        ids, types, mask, _ = batch_to_torch(json.load(open(sys.argv[3])))
        with torch.no_grad():
            print(json.dumps(logits_fn(params, cfg, ids, types, mask).ravel().tolist()))
    else:
        sys.exit(__doc__)

"""Plain-PyTorch GPT2ForSequenceClassification with Hugging Face semantics (no `transformers`), written from the
published architecture (Radford et al. 2019; transformers' modeling_gpt2.py, eager attention): the reference our ONNX
train step is checked against for the GPT-2 family.

HF names and layouts: transformer.wte / wpe, transformer.h.{i}.ln_1, attn.c_attn (query, key and value fused, Conv1D
weight [in, out]: y = x @ W + b), attn.c_proj, ln_2, mlp.c_fc, mlp.c_proj, transformer.ln_f, score (no bias).
Pre-LayerNorm blocks, learned absolute positions 0..S-1, causal attention scaled by 1/sqrt(head size) whose masked
scores are torch.finfo(float32).min, the padding mask added as (1 - mask) * finfo.min, the config's
activation_function (gelu_new: transformers' NewGELUActivation, tanh approximation), and the logits of the last
token whose id is not pad_token_id (transformers >= 4.48: argmax of position * (id != pad)).

pad_token_id: GPT-2's configs have none, and transformers then refuses batches of more than one row. As bertft does
(and the fine-tuning guides: model.config.pad_token_id = tokenizer.eos_token_id), this reference uses eos_token_id
when the config has no pad_token_id.

Optimisation as in bert_torch.py: torch AdamW, weight decay off for biases and LayerNorm weights (HF Trainer), global
norm clipping, HF's linear warmup/decay schedule.

  /usr/bin/python3 bench/reference/gpt2_torch.py logits MODEL_DIR BATCH_JSON: the logits of a saved folder, as JSON.
"""
import json
import math

import torch
import torch.nn.functional as F

import bert_torch as bt


def dims(cfg):
    H = cfg.get('n_embd', 768)
    inner = cfg.get('n_inner')
    return {'V': cfg.get('vocab_size', 50257), 'H': H, 'L': cfg.get('n_layer', 12), 'nh': cfg.get('n_head', 12),
            'I': inner if inner is not None else 4 * H, 'P': cfg.get('n_positions', 1024),
            'eps': cfg.get('layer_norm_epsilon', 1e-5)}


def pad_token_id(cfg):
    pad = cfg.get('pad_token_id')
    if pad is not None:
        return pad
    eos = cfg.get('eos_token_id')
    return eos if eos is not None else 50256


def param_specs(cfg, num_labels):
    """(HF name, shape, init, decay) in GPT2ForSequenceClassification's registration order."""
    d = dims(cfg)
    V, H, P, I = d['V'], d['H'], d['P'], d['I']

    def conv1d(n, i, o):
        return [(n + '.weight', [i, o], 'normal', True), (n + '.bias', [o], 'zeros', False)]

    def ln(n):
        return [(n + '.weight', [H], 'ones', False), (n + '.bias', [H], 'zeros', False)]

    s = [('transformer.wte.weight', [V, H], 'normal', True), ('transformer.wpe.weight', [P, H], 'normal', True)]
    for l in range(d['L']):
        p = f'transformer.h.{l}.'
        s += ln(p + 'ln_1') + conv1d(p + 'attn.c_attn', H, 3 * H) + conv1d(p + 'attn.c_proj', H, H)
        s += ln(p + 'ln_2') + conv1d(p + 'mlp.c_fc', H, I) + conv1d(p + 'mlp.c_proj', I, H)
    s += ln('transformer.ln_f') + [('score.weight', [num_labels, H], 'normal', True)]
    return s


def init_params(cfg, num_labels, generator):
    """normal(0, initializer_range) for matrices and embeddings, LayerNorm 1/0, biases 0."""
    std = cfg['initializer_range']
    p = {}
    for n, shape, init, _ in param_specs(cfg, num_labels):
        if init == 'normal':
            p[n] = torch.randn(shape, generator=generator) * std
        else:
            p[n] = torch.zeros(shape) if init == 'zeros' else torch.ones(shape)
    return p


def new_gelu(x):
    """transformers' NewGELUActivation (gelu_new)."""
    return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * torch.pow(x, 3.0))))


def activation(cfg):
    act = cfg.get('activation_function', 'gelu_new')
    if act in ('gelu_new', 'gelu_pytorch_tanh', 'gelu_fast'):
        return new_gelu
    if act == 'gelu':
        return F.gelu
    raise SystemExit(f'activation_function {act!r} is not covered by this reference')


def hidden_states_fn(p, cfg, ids, mask, dropout=0.0):
    """GPT2Model's last hidden state (after ln_f) [B, S, H]. ids: int64 [B, S]; mask: float [B, S] of 0/1."""
    B, S = ids.shape
    d = dims(cfg)
    H, nh, eps = d['H'], d['nh'], d['eps']
    dh = H // nh
    act = activation(cfg)
    drop = (lambda t: F.dropout(t, dropout, True)) if dropout > 0 else (lambda t: t)
    x = drop(p['transformer.wte.weight'][ids] + p['transformer.wpe.weight'][torch.arange(S)])
    causal = torch.tril(torch.ones(S, S, dtype=torch.bool)).view(1, 1, S, S)
    mask_value = torch.finfo(torch.float32).min
    padding = (1.0 - mask[:, None, None, :]) * mask_value
    for l in range(d['L']):
        pre = f'transformer.h.{l}.'

        def conv1d(t, n):
            return torch.addmm(p[pre + n + '.bias'], t.reshape(-1, t.shape[-1]), p[pre + n + '.weight']).view(
                *t.shape[:-1], -1)

        def heads(t):
            return t.view(B, S, nh, dh).transpose(1, 2)

        h = F.layer_norm(x, (H,), p[pre + 'ln_1.weight'], p[pre + 'ln_1.bias'], eps)
        q, k, v = conv1d(h, 'attn.c_attn').split(H, dim=2)
        q, k, v = heads(q), heads(k), heads(v)
        w = (q @ k.transpose(-1, -2)) / (v.size(-1) ** 0.5)
        w = torch.where(causal, w, torch.tensor(mask_value, dtype=w.dtype)) + padding
        a = drop(torch.softmax(w, dim=-1)) @ v
        x = x + drop(conv1d(a.transpose(1, 2).reshape(B, S, H), 'attn.c_proj'))
        h = F.layer_norm(x, (H,), p[pre + 'ln_2.weight'], p[pre + 'ln_2.bias'], eps)
        x = x + drop(conv1d(act(conv1d(h, 'mlp.c_fc')), 'mlp.c_proj'))
    return F.layer_norm(x, (H,), p['transformer.ln_f.weight'], p['transformer.ln_f.bias'], eps)


def logits_fn(p, cfg, ids, types, mask, dropout=0.0):
    """GPT2ForSequenceClassification: score on every position, then each row's last non-padding token. Token types
    are ignored (GPT-2's tokenizer gives none)."""
    logits = F.linear(hidden_states_fn(p, cfg, ids, mask, dropout), p['score.weight'])
    non_pad = (ids != pad_token_id(cfg)).to(torch.int64)
    last = (torch.arange(ids.shape[-1]) * non_pad).argmax(-1)
    return logits[torch.arange(ids.shape[0]), last]


class Trainer(bt.Trainer):
    """bert_torch's AdamW + clipping + schedule loop over GPT-2's parameters and logits."""

    def __init__(self, p, cfg, num_labels, lr, weight_decay, warmup, total, max_grad_norm=1.0, betas=(0.9, 0.999),
                 eps=1e-8):
        self.p, self.cfg, self.dropout, self.max_grad_norm = p, cfg, 0.0, max_grad_norm
        self.loss_fn = lambda p_, cfg_, b, d: F.cross_entropy(logits_fn(p_, cfg_, b[0], b[1], b[2], d), b[3])
        for t in p.values():
            t.requires_grad_(True)
        decay = {n for n, _, _, dec in param_specs(cfg, num_labels) if dec}
        groups = [{'params': [t for n, t in p.items() if n in decay], 'weight_decay': weight_decay},
                  {'params': [t for n, t in p.items() if n not in decay], 'weight_decay': 0.0}]
        self.opt = torch.optim.AdamW(groups, lr=lr, betas=betas, eps=eps)
        self.sched = torch.optim.lr_scheduler.LambdaLR(self.opt, bt.linear_schedule(warmup, total))


def load_model_dir(d):
    """config.json + model.safetensors of a GPT2ForSequenceClassification folder → (cfg, params)."""
    cfg = json.load(open(f'{d}/config.json'))
    tensors, _ = bt.read_safetensors(f'{d}/model.safetensors')
    p = {(n if n.startswith('transformer.') or n.startswith('score.') else 'transformer.' + n): t
         for n, t in tensors.items()}
    return cfg, p


if __name__ == '__main__':
    import sys
    if len(sys.argv) == 4 and sys.argv[1] == 'logits':
        torch.set_num_threads(1)
        cfg, params = load_model_dir(sys.argv[2])
        ids, types, mask, _ = bt.batch_to_torch(json.load(open(sys.argv[3])))
        with torch.no_grad():
            print(json.dumps(logits_fn(params, cfg, ids, types, mask).ravel().tolist()))
    else:
        sys.exit(__doc__)

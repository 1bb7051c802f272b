"""Plain-PyTorch ModernBertForSequenceClassification with Hugging Face semantics (no `transformers`), written from the
published architecture (transformers' models/modernbert/modeling_modernbert.py, eager attention): the reference the
ModernBERT train step is checked against.

Embeddings: tok_embeddings (padding_idx = pad_token_id) -> LayerNorm -> dropout, no position embeddings. Layers
(pre-norm): attn_norm (Identity in layer 0) -> Wqkv -> RoPE on q and k (rope theta global_rope_theta in global layers,
local_rope_theta in local ones) -> softmax(q k^T / sqrt(d) + mask) v -> Wo, added to the input; then mlp_norm -> Wi
(2 x intermediate, split into input and gate) -> act(input) * gate -> Wo, added. Layer i is global when
i % global_attn_every_n_layers == 0, else it attends within |i - j| <= local_attention // 2 (HF's sliding_window_mask:
the padding mask with far keys set to finfo.min). Then final_norm, pooling ('cls': the first token; 'mean': the mean
over non-padding tokens), head (dense -> classifier_activation -> norm), dropout, classifier. LayerNorms and Linears
carry biases only where norm_bias / attention_bias / mlp_bias / classifier_bias say; the classifier always has one.

Run with Debian's torch: /usr/bin/python3 (apt-get install python3-torch libopenblas0-pthread).
"""
import json

import torch
import torch.nn.functional as F

import bert_torch as bt

DEFAULTS = {
    'vocab_size': 50368, 'hidden_size': 768, 'intermediate_size': 1152, 'num_hidden_layers': 22,
    'num_attention_heads': 12, 'hidden_activation': 'gelu', 'max_position_embeddings': 8192, 'initializer_range': 0.02,
    'norm_eps': 1e-5, 'norm_bias': False, 'pad_token_id': 50283, 'global_rope_theta': 160000.0,
    'attention_bias': False, 'attention_dropout': 0.0, 'global_attn_every_n_layers': 3, 'local_attention': 128,
    'local_rope_theta': 10000.0, 'embedding_dropout': 0.0, 'mlp_bias': False, 'mlp_dropout': 0.0,
    'classifier_pooling': 'cls', 'classifier_dropout': 0.0, 'classifier_bias': False, 'classifier_activation': 'gelu',
}


def setting(cfg, key):
    return cfg.get(key, DEFAULTS[key])


def _lin(n, o, i, bias):
    return [(n + '.weight', [o, i], 'normal')] + ([(n + '.bias', [o], 'zeros')] if bias else [])


def _ln(n, k, bias):
    return [(n + '.weight', [k], 'ones')] + ([(n + '.bias', [k], 'zeros')] if bias else [])


def param_specs(cfg, num_labels):
    """(HF name, shape, init, decay) in ModernBertForSequenceClassification's order. As HF's Trainer: no weight decay
    for biases and LayerNorm weights."""
    H, I, V = setting(cfg, 'hidden_size'), setting(cfg, 'intermediate_size'), setting(cfg, 'vocab_size')
    nb, ab, mb, cb = (setting(cfg, k) for k in ('norm_bias', 'attention_bias', 'mlp_bias', 'classifier_bias'))
    s = [('model.embeddings.tok_embeddings.weight', [V, H], 'normal')] + _ln('model.embeddings.norm', H, nb)
    for l in range(setting(cfg, 'num_hidden_layers')):
        p = f'model.layers.{l}.'
        if l > 0:
            s += _ln(p + 'attn_norm', H, nb)
        s += _lin(p + 'attn.Wqkv', 3 * H, H, ab) + _lin(p + 'attn.Wo', H, H, ab)
        s += _ln(p + 'mlp_norm', H, nb) + _lin(p + 'mlp.Wi', 2 * I, H, mb) + _lin(p + 'mlp.Wo', H, I, mb)
    s += _ln('model.final_norm', H, nb) + _lin('head.dense', H, H, cb) + _ln('head.norm', H, nb)
    s += _lin('classifier', num_labels, H, True)
    norm = lambda n: n.endswith('norm.weight')  # noqa: E731
    return [(n, shape, init, not (n.endswith('.bias') or norm(n))) for n, shape, init in s]


def init_params(cfg, num_labels, generator):
    """normal(0, initializer_range) matrices and embeddings, LayerNorm weights 1, biases 0."""
    std = setting(cfg, 'initializer_range')
    p = {}
    for n, shape, init, _ in param_specs(cfg, num_labels):
        p[n] = torch.randn(shape, generator=generator) * std if init == 'normal' else (
            torch.zeros(shape) if init == 'zeros' else torch.ones(shape))
    return p


def rope_tables(seq, head_dim, theta):
    """HF's default rotary embedding in float32: cos and sin [seq, head_dim] of concat(freqs, freqs)."""
    inv_freq = 1.0 / (theta ** (torch.arange(0, head_dim, 2, dtype=torch.int64).float() / head_dim))
    freqs = torch.arange(seq).float()[:, None] * inv_freq[None, :]
    emb = torch.cat((freqs, freqs), dim=-1)
    return emb.cos(), emb.sin()


def rotate_half(x):
    h = x.shape[-1] // 2
    return torch.cat((-x[..., h:], x[..., :h]), dim=-1)


def _activation(name):
    if name != 'gelu':
        raise SystemExit(f'activation {name!r}: only exact gelu is written here')
    return F.gelu


def hidden_states_fn(p, cfg, ids, mask, dropout=True):
    """Final hidden states [B, S, H] (after final_norm). ids int64 [B, S]; mask float [B, S] of 0/1. dropout=False
    turns every dropout off (evaluation)."""
    B, S = ids.shape
    H, nh = setting(cfg, 'hidden_size'), setting(cfg, 'num_attention_heads')
    dh, eps = H // nh, setting(cfg, 'norm_eps')
    act = _activation(setting(cfg, 'hidden_activation'))

    def drop(t, key):
        rate = setting(cfg, key)
        return F.dropout(t, rate, True) if dropout and rate > 0 else t

    def ln(t, n):
        return F.layer_norm(t, (H,), p[n + '.weight'], p.get(n + '.bias'), eps)

    def lin(t, n):
        return F.linear(t, p[n + '.weight'], p.get(n + '.bias'))

    x = drop(ln(F.embedding(ids, p['model.embeddings.tok_embeddings.weight'], padding_idx=setting(cfg, 'pad_token_id')),
                'model.embeddings.norm'), 'embedding_dropout')
    minimum = torch.finfo(torch.float32).min
    global_mask = (1.0 - mask[:, None, None, :]).expand(B, 1, S, S)
    global_mask = global_mask.masked_fill(global_mask.bool(), minimum)
    distance = torch.abs(torch.arange(S)[None, :] - torch.arange(S)[:, None])
    window = (distance <= setting(cfg, 'local_attention') // 2)[None, None]
    sliding_mask = global_mask.masked_fill(window.logical_not(), minimum)
    tables = {'global': rope_tables(S, dh, setting(cfg, 'global_rope_theta')),
              'local': rope_tables(S, dh, setting(cfg, 'local_rope_theta'))}
    for l in range(setting(cfg, 'num_hidden_layers')):
        pre = f'model.layers.{l}.'
        kind = 'global' if l % setting(cfg, 'global_attn_every_n_layers') == 0 else 'local'
        cos, sin = tables[kind]
        h = x if l == 0 else ln(x, pre + 'attn_norm')
        qkv = lin(h, pre + 'attn.Wqkv').view(B, S, 3, nh, dh)
        q, k, v = qkv.transpose(3, 1).unbind(dim=2)  # [B, heads, S, dh] each
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        scores = torch.matmul(q, k.transpose(2, 3)) * dh ** -0.5 + (global_mask if kind == 'global' else sliding_mask)
        probs = drop(torch.softmax(scores, dim=-1), 'attention_dropout')
        attn = torch.matmul(probs, v).transpose(1, 2).reshape(B, S, H)
        x = x + drop(lin(attn, pre + 'attn.Wo'), 'attention_dropout')
        gate_in, gate = lin(ln(x, pre + 'mlp_norm'), pre + 'mlp.Wi').chunk(2, dim=-1)
        x = x + lin(drop(act(gate_in) * gate, 'mlp_dropout'), pre + 'mlp.Wo')
    return ln(x, 'model.final_norm')


def logits_fn(p, cfg, ids, mask, dropout=True):
    """Logits [B, num_labels]."""
    x = hidden_states_fn(p, cfg, ids, mask, dropout)
    pooling = setting(cfg, 'classifier_pooling')
    if pooling == 'cls':
        pooled = x[:, 0]
    elif pooling == 'mean':
        pooled = (x * mask.unsqueeze(-1)).sum(dim=1) / mask.sum(dim=1, keepdim=True)
    else:
        raise SystemExit(f'classifier_pooling {pooling!r}')
    H, eps = setting(cfg, 'hidden_size'), setting(cfg, 'norm_eps')
    h = _activation(setting(cfg, 'classifier_activation'))(
        F.linear(pooled, p['head.dense.weight'], p.get('head.dense.bias')))
    h = F.layer_norm(h, (H,), p['head.norm.weight'], p.get('head.norm.bias'), eps)
    rate = setting(cfg, 'classifier_dropout')
    h = F.dropout(h, rate, True) if dropout and rate > 0 else h
    return F.linear(h, p['classifier.weight'], p['classifier.bias'])


def loss_fn(p, cfg, batch, dropout=True):
    ids, _, mask, labels = batch
    return F.cross_entropy(logits_fn(p, cfg, ids, mask, dropout), labels)


def load_model_dir(d):
    """config.json + model.safetensors of a ModernBertForSequenceClassification folder -> (cfg, params)."""
    cfg = json.load(open(f'{d}/config.json'))
    tensors, _ = bt.read_safetensors(f'{d}/model.safetensors')
    return cfg, tensors


if __name__ == '__main__':
    # /usr/bin/python3 modernbert_torch.py logits MODEL_DIR BATCH_JSON: logits of a saved classifier, one JSON list.
    import sys
    if len(sys.argv) == 4 and sys.argv[1] == 'logits':
        torch.set_num_threads(1)
        cfg, params = load_model_dir(sys.argv[2])
        ids, _, mask, _ = bt.batch_to_torch(json.load(open(sys.argv[3])))
        with torch.no_grad():
            print(json.dumps(logits_fn(params, cfg, ids, mask, dropout=False).ravel().tolist()))
    else:
        sys.exit(__doc__)

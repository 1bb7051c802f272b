"""Plain-PyTorch DebertaV2ForSequenceClassification with Hugging Face semantics (no `transformers`), written from the
published architecture (transformers' models/deberta_v2/modeling_deberta_v2.py): the reference the DeBERTa-v2/v3
train step is checked against.

Embeddings: word_embeddings (padding_idx = pad_token_id; no absolute positions when position_biased_input is false and
no token types when type_vocab_size is 0, as in every DeBERTa-v3 config) -> LayerNorm -> times the attention mask ->
dropout. Encoder: rel_embeddings.weight [2 * span, H] (span = position_buckets, else max_relative_positions, else
max_position_embeddings) through encoder.LayerNorm (norm_rel_ebd "layer_norm"); post-LN layers whose disentangled
self-attention scores are (q k^T + c2p + p2c) / sqrt(d * 3):
  c2p[i, j] = q_i . key_proj(rel)[clamp(delta(i, j) + span)]   (content -> position)
  p2c[i, j] = k_j . query_proj(rel)[clamp(-delta(j, i) + span)] (position -> content)
with delta(i, j) = i - j log-bucketed by make_log_bucket_position (exact within position_buckets / 2, logarithmic
beyond) and the position projections shared with the content ones (share_att_key). XSoftmax masks keys (and zeroes
padded query rows, which never reach the first token). Then ContextPooler (first token -> dropout -> pooler.dense ->
pooler_hidden_act) -> dropout -> classifier.

Only the settings of the published v3 configs are written here (relative_attention true, share_att_key true,
pos_att_type p2c and c2p, norm_rel_ebd layer_norm, conv_kernel_size 0, embedding_size = hidden_size, exact gelu);
anything else exits naming the key.

Run with Debian's torch: /usr/bin/python3 (apt-get install python3-torch libopenblas0-pthread).
"""
import json
import math

import torch
import torch.nn.functional as F

import bert_torch as bt

DEFAULTS = {
    'vocab_size': 128100, 'hidden_size': 768, 'intermediate_size': 3072, 'num_hidden_layers': 12,
    'num_attention_heads': 12, 'hidden_act': 'gelu', 'hidden_dropout_prob': 0.1, 'attention_probs_dropout_prob': 0.1,
    'max_position_embeddings': 512, 'type_vocab_size': 0, 'initializer_range': 0.02, 'layer_norm_eps': 1e-7,
    'relative_attention': False, 'max_relative_positions': -1, 'position_buckets': -1, 'pad_token_id': 0,
    'position_biased_input': True, 'pos_att_type': None, 'share_att_key': False, 'norm_rel_ebd': 'none',
    'conv_kernel_size': 0, 'pooler_dropout': 0, 'pooler_hidden_act': 'gelu', 'cls_dropout': None,
}


def setting(cfg, key):
    return cfg.get(key, DEFAULTS[key])


def pos_att_types(cfg):
    t = setting(cfg, 'pos_att_type') or []
    return [x.strip() for x in t.lower().split('|')] if isinstance(t, str) else list(t)


def check_v3(cfg):
    """Exits naming the first setting outside the v3 layout written here."""
    want = {'relative_attention': True, 'share_att_key': True, 'position_biased_input': False, 'type_vocab_size': 0,
            'conv_kernel_size': 0, 'hidden_act': 'gelu', 'pooler_hidden_act': 'gelu'}
    for k, v in want.items():
        if setting(cfg, k) != v:
            raise SystemExit(f'{k} {setting(cfg, k)!r}: only {v!r} (the DeBERTa-v3 layout) is written here')
    if sorted(pos_att_types(cfg)) != ['c2p', 'p2c']:
        raise SystemExit(f'pos_att_type {setting(cfg, "pos_att_type")!r}: only p2c and c2p are written here')
    if 'layer_norm' not in [x.strip() for x in setting(cfg, 'norm_rel_ebd').lower().split('|')]:
        raise SystemExit('norm_rel_ebd without layer_norm is not written here')
    if cfg.get('embedding_size', setting(cfg, 'hidden_size')) != setting(cfg, 'hidden_size'):
        raise SystemExit('embedding_size != hidden_size is not written here')
    if cfg.get('pooler_hidden_size', setting(cfg, 'hidden_size')) != setting(cfg, 'hidden_size'):
        raise SystemExit('pooler_hidden_size != hidden_size is not written here')


def att_span(cfg):
    """pos_ebd_size: position_buckets when > 0, else max_relative_positions (< 1 means max_position_embeddings)."""
    m = setting(cfg, 'max_relative_positions')
    m = setting(cfg, 'max_position_embeddings') if m < 1 else m
    b = setting(cfg, 'position_buckets')
    return b if b > 0 else m


def max_relative(cfg):
    m = setting(cfg, 'max_relative_positions')
    return setting(cfg, 'max_position_embeddings') if m < 1 else m


def _lin(n, o, i):
    return [(n + '.weight', [o, i], 'normal'), (n + '.bias', [o], 'zeros')]


def _ln(n, k):
    return [(n + '.weight', [k], 'ones'), (n + '.bias', [k], 'zeros')]


def param_specs(cfg, num_labels):
    """(HF name, shape, init, decay) in DebertaV2ForSequenceClassification's order. As HF's Trainer: no weight decay
    for biases and LayerNorm weights."""
    H, I, V = setting(cfg, 'hidden_size'), setting(cfg, 'intermediate_size'), setting(cfg, 'vocab_size')
    s = [('deberta.embeddings.word_embeddings.weight', [V, H], 'normal')] + _ln('deberta.embeddings.LayerNorm', H)
    for l in range(setting(cfg, 'num_hidden_layers')):
        p = f'deberta.encoder.layer.{l}.'
        s += _lin(p + 'attention.self.query_proj', H, H) + _lin(p + 'attention.self.key_proj', H, H)
        s += _lin(p + 'attention.self.value_proj', H, H)
        s += _lin(p + 'attention.output.dense', H, H) + _ln(p + 'attention.output.LayerNorm', H)
        s += _lin(p + 'intermediate.dense', I, H) + _lin(p + 'output.dense', H, I) + _ln(p + 'output.LayerNorm', H)
    s += [('deberta.encoder.rel_embeddings.weight', [2 * att_span(cfg), H], 'normal')]
    s += _ln('deberta.encoder.LayerNorm', H) + _lin('pooler.dense', H, H) + _lin('classifier', num_labels, H)
    return [(n, shape, init, not (n.endswith('.bias') or 'LayerNorm' in n)) for n, shape, init in s]


def init_params(cfg, num_labels, generator):
    """normal(0, initializer_range) matrices and embeddings, LayerNorm weights 1, biases 0."""
    std = setting(cfg, 'initializer_range')
    p = {}
    for n, shape, init, _ in param_specs(cfg, num_labels):
        p[n] = torch.randn(shape, generator=generator) * std if init == 'normal' else (
            torch.zeros(shape) if init == 'zeros' else torch.ones(shape))
    return p


def make_log_bucket_position(relative_pos, bucket_size, max_position):
    """transformers' log bucketing: |delta| < bucket_size / 2 kept, larger distances on a log scale up to
    max_position (float32 arithmetic, as there)."""
    sign = torch.sign(relative_pos)
    mid = bucket_size // 2
    abs_pos = torch.where((relative_pos < mid) & (relative_pos > -mid), torch.tensor(mid - 1).type_as(relative_pos),
                          torch.abs(relative_pos))
    log_pos = torch.ceil(torch.log(abs_pos / mid) / torch.log(torch.tensor((max_position - 1) / mid)) * (mid - 1)) + mid
    return torch.where(abs_pos <= mid, relative_pos.type_as(log_pos), log_pos * sign)


def build_relative_position(size, cfg):
    """[S, S] int64: i - j, bucketed when position_buckets > 0."""
    ids = torch.arange(size)
    rel = ids[:, None] - ids[None, :]
    if setting(cfg, 'position_buckets') > 0:
        rel = make_log_bucket_position(rel, setting(cfg, 'position_buckets'), max_relative(cfg))
    return rel.to(torch.long)


def hidden_states_fn(p, cfg, ids, mask, dropout=True):
    """Final hidden states [B, S, H]. ids int64 [B, S]; mask float [B, S] of 0/1. dropout=False turns every dropout
    off (evaluation)."""
    check_v3(cfg)
    B, S = ids.shape
    H, nh = setting(cfg, 'hidden_size'), setting(cfg, 'num_attention_heads')
    dh, eps = H // nh, setting(cfg, 'layer_norm_eps')
    hidden_p, attn_p = setting(cfg, 'hidden_dropout_prob'), setting(cfg, 'attention_probs_dropout_prob')

    def drop(t, rate):
        return F.dropout(t, rate, True) if dropout and rate > 0 else t

    def ln(t, n):
        return F.layer_norm(t, (H,), p[n + '.weight'], p[n + '.bias'], eps)

    def lin(t, n):
        return F.linear(t, p[n + '.weight'], p[n + '.bias'])

    def heads(t):  # [..., L, H] -> [..., heads, L, dh]
        return t.view(*t.shape[:-1], nh, dh).transpose(-3, -2)

    x = F.embedding(ids, p['deberta.embeddings.word_embeddings.weight'], padding_idx=setting(cfg, 'pad_token_id'))
    x = drop(ln(x, 'deberta.embeddings.LayerNorm') * mask.unsqueeze(-1), hidden_p)
    span = att_span(cfg)
    rel_embeddings = ln(p['deberta.encoder.rel_embeddings.weight'][0:2 * span], 'deberta.encoder.LayerNorm')
    relative_pos = build_relative_position(S, cfg)
    c2p_pos = torch.clamp(relative_pos + span, 0, 2 * span - 1)  # [S(query), S(key)]
    p2c_pos = torch.clamp(-relative_pos + span, 0, 2 * span - 1)  # [S(key), S(query)] (square: r_pos = relative_pos)
    key_mask = mask[:, None, None, :].bool()
    scale = math.sqrt(dh * 3)  # 1 + len(pos_att_type)
    for l in range(setting(cfg, 'num_hidden_layers')):
        pre = f'deberta.encoder.layer.{l}.'
        q = heads(lin(x, pre + 'attention.self.query_proj'))  # [B, nh, S, dh]
        k = heads(lin(x, pre + 'attention.self.key_proj'))
        v = heads(lin(x, pre + 'attention.self.value_proj'))
        rel = drop(rel_embeddings, hidden_p)  # each layer's pos_dropout
        pos_q = heads(lin(rel, pre + 'attention.self.query_proj'))  # [nh, 2span, dh]
        pos_k = heads(lin(rel, pre + 'attention.self.key_proj'))
        scores = torch.matmul(q, k.transpose(-1, -2)) / scale
        c2p = torch.gather(torch.matmul(q, pos_k.transpose(-1, -2)), -1, c2p_pos.expand(B, nh, S, S))
        p2c = torch.gather(torch.matmul(k, pos_q.transpose(-1, -2)), -1, p2c_pos.expand(B, nh, S, S))
        scores = scores + c2p / scale + p2c.transpose(-1, -2) / scale
        probs = torch.softmax(scores.masked_fill(~key_mask, torch.finfo(torch.float32).min), dim=-1)
        probs = drop(probs, attn_p)
        context = torch.matmul(probs, v).transpose(1, 2).reshape(B, S, H)
        h1 = ln(drop(lin(context, pre + 'attention.output.dense'), hidden_p) + x, pre + 'attention.output.LayerNorm')
        inter = F.gelu(lin(h1, pre + 'intermediate.dense'))
        x = ln(drop(lin(inter, pre + 'output.dense'), hidden_p) + h1, pre + 'output.LayerNorm')
    return x


def logits_fn(p, cfg, ids, mask, dropout=True):
    """Logits [B, num_labels]: ContextPooler on the first token, dropout, classifier."""
    x = hidden_states_fn(p, cfg, ids, mask, dropout)
    pooler_p = setting(cfg, 'pooler_dropout')
    cls_p = setting(cfg, 'cls_dropout')
    cls_p = setting(cfg, 'hidden_dropout_prob') if cls_p is None else cls_p
    first = F.dropout(x[:, 0], pooler_p, True) if dropout and pooler_p > 0 else x[:, 0]
    pooled = F.gelu(F.linear(first, p['pooler.dense.weight'], p['pooler.dense.bias']))
    pooled = F.dropout(pooled, cls_p, True) if dropout and cls_p > 0 else pooled
    return F.linear(pooled, p['classifier.weight'], p['classifier.bias'])


def loss_fn(p, cfg, batch, dropout=True):
    ids, _, mask, labels = batch
    return F.cross_entropy(logits_fn(p, cfg, ids, mask, dropout), labels)


def load_model_dir(d):
    """config.json + model.safetensors of a DebertaV2ForSequenceClassification folder -> (cfg, params)."""
    cfg = json.load(open(f'{d}/config.json'))
    tensors, _ = bt.read_safetensors(f'{d}/model.safetensors')
    return cfg, tensors


if __name__ == '__main__':
    # /usr/bin/python3 deberta_v2_torch.py logits MODEL_DIR BATCH_JSON: logits of a saved classifier, one JSON list.
    # /usr/bin/python3 deberta_v2_torch.py buckets CONFIG_JSON SEQ: the [SEQ, SEQ] bucketed relative positions.
    import sys
    if len(sys.argv) == 4 and sys.argv[1] == 'logits':
        torch.set_num_threads(1)
        cfg, params = load_model_dir(sys.argv[2])
        ids, _, mask, _ = bt.batch_to_torch(json.load(open(sys.argv[3])))
        with torch.no_grad():
            print(json.dumps(logits_fn(params, cfg, ids, mask, dropout=False).ravel().tolist()))
    elif len(sys.argv) == 4 and sys.argv[1] == 'buckets':
        print(json.dumps(build_relative_position(int(sys.argv[3]), json.load(open(sys.argv[2]))).ravel().tolist()))
    else:
        sys.exit(__doc__)

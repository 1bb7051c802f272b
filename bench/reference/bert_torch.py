"""Plain-PyTorch BertForSequenceClassification with Hugging Face semantics (no `transformers`): the reference our
ONNX train step is checked and timed against. The same for DistilBERT, RoBERTa (XLM-R) and ELECTRA classifiers, chosen
by the config's model_type, and for each family's *ForMaskedLM (task 'mlm': the same encoder, the family's MLM head
with the decoder tied to the word embeddings, cross-entropy with ignore_index -100).

It reads HF-named `model.safetensors` + `config.json` (the safetensors format is parsed here directly: 8-byte
little-endian header length, JSON header, raw tensor bytes; hf_weights.py writes them). The model is the
post-LayerNorm BERT encoder, exact GELU, tanh pooler over [CLS], a linear classifier and mean cross-entropy;
optimisation is torch AdamW with weight decay off for biases and LayerNorm weights, global-norm clipping and HF's
linear warmup/decay schedule.

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


BASE_PREFIX = {'bert': 'bert', 'distilbert': 'distilbert', 'roberta': 'roberta', 'electra': 'electra'}


def family(cfg):
    """The encoder family of a config.json: bert (also MiniLM-style configs), distilbert, roberta (also xlm-roberta), electra."""
    mt = cfg.get('model_type', 'bert')
    return 'roberta' if mt == 'xlm-roberta' else mt


def dims(cfg):
    """Sizes under one set of names, whatever the family's config keys."""
    if family(cfg) == 'distilbert':
        H = cfg.get('dim', 768)
        return {'V': cfg.get('vocab_size', 30522), 'H': H, 'E': H, 'L': cfg.get('n_layers', 6), 'nh': cfg.get('n_heads', 12),
                'I': cfg.get('hidden_dim', 3072), 'P': cfg.get('max_position_embeddings', 512), 'T': 0, 'eps': 1e-12}
    H = cfg['hidden_size']
    return {'V': cfg['vocab_size'], 'H': H, 'E': cfg.get('embedding_size', H) if family(cfg) == 'electra' else H,
            'L': cfg['num_hidden_layers'], 'nh': cfg['num_attention_heads'], 'I': cfg['intermediate_size'],
            'P': cfg['max_position_embeddings'], 'T': cfg['type_vocab_size'], 'eps': cfg.get('layer_norm_eps', 1e-12)}


def output_layer(cfg):
    """The head's last linear (num_labels rows)."""
    return 'classifier.out_proj' if family(cfg) in ('roberta', 'electra') else 'classifier'


def _lin(n, o, i):
    return [(n + '.weight', [o, i], 'normal'), (n + '.bias', [o], 'zeros')]


def _ln(n, k):
    return [(n + '.weight', [k], 'ones'), (n + '.bias', [k], 'zeros')]


def _with_decay(specs):
    no_decay = lambda n: n.endswith('.bias') or n.endswith('LayerNorm.weight') or n.endswith('layer_norm.weight')  # noqa: E731
    return [(n, shape, init, not no_decay(n)) for n, shape, init in specs]


def encoder_specs(cfg):
    """(HF name, shape, init) of the family's encoder (embeddings and layers, no head), in HF's order."""
    d = dims(cfg)
    V, H, E, P, T, I = d['V'], d['H'], d['E'], d['P'], d['T'], d['I']
    fam = family(cfg)
    lin, ln = _lin, _ln
    if fam == 'distilbert':
        s = [('distilbert.embeddings.word_embeddings.weight', [V, H], 'normal'),
             ('distilbert.embeddings.position_embeddings.weight', [P, H], 'normal')] + ln('distilbert.embeddings.LayerNorm', H)
        for l in range(d['L']):
            p = f'distilbert.transformer.layer.{l}.'
            for n in ('q_lin', 'k_lin', 'v_lin', 'out_lin'):
                s += lin(p + 'attention.' + n, H, H)
            s += ln(p + 'sa_layer_norm', H) + lin(p + 'ffn.lin1', I, H) + lin(p + 'ffn.lin2', H, I) + ln(p + 'output_layer_norm', H)
        return s
    b = BASE_PREFIX[fam]
    s = [(f'{b}.embeddings.word_embeddings.weight', [V, E], 'normal'),
         (f'{b}.embeddings.position_embeddings.weight', [P, E], 'normal'),
         (f'{b}.embeddings.token_type_embeddings.weight', [T, E], 'normal')] + ln(f'{b}.embeddings.LayerNorm', E)
    if E != H:
        s += lin(f'{b}.embeddings_project', H, E)
    for l in range(d['L']):
        p = f'{b}.encoder.layer.{l}.'
        for n in ('attention.self.query', 'attention.self.key', 'attention.self.value', 'attention.output.dense'):
            s += lin(p + n, H, H)
        s += ln(p + 'attention.output.LayerNorm', H) + lin(p + 'intermediate.dense', I, H) + lin(p + 'output.dense', H, I)
        s += ln(p + 'output.LayerNorm', H)
    return s


def param_specs(cfg, num_labels):
    """(HF name, shape, init, decay) in the order the family's *ForSequenceClassification registers its parameters."""
    H = dims(cfg)['H']
    fam = family(cfg)
    s = encoder_specs(cfg)
    if fam == 'distilbert':
        s += _lin('pre_classifier', H, H) + _lin('classifier', num_labels, H)
    elif fam == 'bert':
        s += _lin('bert.pooler.dense', H, H) + _lin('classifier', num_labels, H)
    else:
        s += _lin('classifier.dense', H, H) + _lin('classifier.out_proj', num_labels, H)
    return _with_decay(s)


# Per family: the MLM head's dense (hidden -> embedding width, then GELU), its LayerNorm, and the decoder's own bias.
# The decoder's weight is tied to the word embeddings (never a parameter of its own).
MLM_HEADS = {
    'bert': ('cls.predictions.transform.dense', 'cls.predictions.transform.LayerNorm', 'cls.predictions.bias'),
    'roberta': ('lm_head.dense', 'lm_head.layer_norm', 'lm_head.bias'),
    'distilbert': ('vocab_transform', 'vocab_layer_norm', 'vocab_projector.bias'),
    'electra': ('generator_predictions.dense', 'generator_predictions.LayerNorm', 'generator_lm_head.bias'),
}


def mlm_param_specs(cfg):
    """(HF name, shape, init, decay) of the family's *ForMaskedLM: the encoder, then the MLM head."""
    d = dims(cfg)
    dense, norm, bias = MLM_HEADS[family(cfg)]
    return _with_decay(encoder_specs(cfg) + _lin(dense, d['E'], d['H']) + _ln(norm, d['E']) + [(bias, [d['V']], 'zeros')])


def specs_for(cfg, num_labels, task='classify'):
    return mlm_param_specs(cfg) if task == 'mlm' else param_specs(cfg, num_labels)


def init_params(cfg, num_labels, generator, task='classify'):
    """HF _init_weights: normal(0, initializer_range) for matrices and embeddings, LayerNorm 1/0, biases 0."""
    std = cfg['initializer_range']
    p = {}
    for n, shape, init, _ in specs_for(cfg, num_labels, task):
        if init == 'normal':
            p[n] = torch.randn(shape, generator=generator) * std
        else:
            p[n] = torch.zeros(shape) if init == 'zeros' else torch.ones(shape)
    return p


def hidden_states_fn(p, cfg, ids, types, mask, dropout=0.0):
    """The family's final hidden states [B, S, H] (no head). ids, types: int64 [B, S]; mask: float [B, S] of 0/1."""
    if family(cfg) == 'distilbert':
        return distilbert_encoder_fn(p, cfg, ids, mask, dropout)
    return encoder_fn(p, cfg, ids, types, mask, dropout)


def encoder_fn(p, cfg, ids, types, mask, dropout=0.0):
    """The BERT-layout encoder (bert, roberta, electra): embeddings, post-LN layers; hidden states [B, S, H]."""
    fam = family(cfg)
    b = BASE_PREFIX[fam]
    B, S = ids.shape
    d = dims(cfg)
    H, E, nh, eps = d['H'], d['E'], d['nh'], d['eps']
    dh = H // nh
    pad = cfg.get('pad_token_id', 0)
    drop = (lambda t: F.dropout(t, dropout, True)) if dropout > 0 else (lambda t: t)
    if fam == 'roberta':
        # HF create_position_ids_from_input_ids: pads at padding_idx, real tokens count up from padding_idx + 1.
        real = ids.ne(pad).long()
        positions = torch.cumsum(real, dim=1) * real + pad
    else:
        positions = torch.arange(S)
    x = (F.embedding(ids, p[f'{b}.embeddings.word_embeddings.weight'], padding_idx=pad)
         + p[f'{b}.embeddings.token_type_embeddings.weight'][types]
         + p[f'{b}.embeddings.position_embeddings.weight'][positions])
    x = drop(F.layer_norm(x, (E,), p[f'{b}.embeddings.LayerNorm.weight'], p[f'{b}.embeddings.LayerNorm.bias'], eps))
    if E != H:
        x = F.linear(x, p[f'{b}.embeddings_project.weight'], p[f'{b}.embeddings_project.bias'])
    madd = (1.0 - mask[:, None, None, :]) * torch.finfo(torch.float32).min
    for l in range(d['L']):
        pre = f'{b}.encoder.layer.{l}.'

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
    return x


def logits_fn(p, cfg, ids, types, mask, dropout=0.0):
    """ids, types: int64 [B, S]; mask: float [B, S] of 0/1. dropout > 0 only in training."""
    if family(cfg) == 'distilbert':
        return distilbert_logits_fn(p, cfg, ids, mask, dropout)
    fam = family(cfg)
    drop = (lambda t: F.dropout(t, dropout, True)) if dropout > 0 else (lambda t: t)
    x = encoder_fn(p, cfg, ids, types, mask, dropout)
    if fam == 'bert':
        pooled = drop(torch.tanh(F.linear(x[:, 0], p['bert.pooler.dense.weight'], p['bert.pooler.dense.bias'])))
        return F.linear(pooled, p['classifier.weight'], p['classifier.bias'])
    # RobertaClassificationHead (tanh) / ElectraClassificationHead (GELU): dropout, dense, activation, dropout, out_proj.
    h = F.linear(drop(x[:, 0]), p['classifier.dense.weight'], p['classifier.dense.bias'])
    h = torch.tanh(h) if fam == 'roberta' else F.gelu(h)
    return F.linear(drop(h), p['classifier.out_proj.weight'], p['classifier.out_proj.bias'])


def distilbert_encoder_fn(p, cfg, ids, mask, dropout=0.0):
    """DistilBERT's encoder as HF writes it: q scaled before q·k, masked_fill with finfo.min, no dropout after out_lin;
    hidden states [B, S, H]."""
    B, S = ids.shape
    d = dims(cfg)
    H, nh, eps = d['H'], d['nh'], d['eps']
    dh = H // nh
    drop = (lambda t: F.dropout(t, dropout, True)) if dropout > 0 else (lambda t: t)
    x = (F.embedding(ids, p['distilbert.embeddings.word_embeddings.weight'], padding_idx=cfg.get('pad_token_id', 0))
         + p['distilbert.embeddings.position_embeddings.weight'][torch.arange(S)])
    x = drop(F.layer_norm(x, (H,), p['distilbert.embeddings.LayerNorm.weight'], p['distilbert.embeddings.LayerNorm.bias'], eps))
    masked = (mask == 0).view(B, 1, 1, S)
    for l in range(d['L']):
        pre = f'distilbert.transformer.layer.{l}.'

        def lin(t, n):
            return F.linear(t, p[pre + n + '.weight'], p[pre + n + '.bias'])

        def heads(t):
            return t.view(B, S, nh, dh).transpose(1, 2)

        q = heads(lin(x, 'attention.q_lin')) / math.sqrt(dh)
        k, v = heads(lin(x, 'attention.k_lin')), heads(lin(x, 'attention.v_lin'))
        scores = (q @ k.transpose(2, 3)).masked_fill(masked, torch.finfo(torch.float32).min)
        probs = drop(torch.softmax(scores, -1))
        sa = lin((probs @ v).transpose(1, 2).reshape(B, S, H), 'attention.out_lin')
        sa = F.layer_norm(sa + x, (H,), p[pre + 'sa_layer_norm.weight'], p[pre + 'sa_layer_norm.bias'], eps)
        ffn = drop(lin(F.gelu(lin(sa, 'ffn.lin1')), 'ffn.lin2'))
        x = F.layer_norm(ffn + sa, (H,), p[pre + 'output_layer_norm.weight'], p[pre + 'output_layer_norm.bias'], eps)
    return x


def distilbert_logits_fn(p, cfg, ids, mask, dropout=0.0):
    """DistilBertForSequenceClassification: the encoder, then pre_classifier + ReLU on the first token."""
    x = distilbert_encoder_fn(p, cfg, ids, mask, dropout)
    pooled = F.relu(F.linear(x[:, 0], p['pre_classifier.weight'], p['pre_classifier.bias']))
    head_dropout = cfg.get('seq_classif_dropout', 0.2) if dropout > 0 else 0.0
    pooled = F.dropout(pooled, head_dropout, True) if head_dropout > 0 else pooled
    return F.linear(pooled, p['classifier.weight'], p['classifier.bias'])


def mlm_logits_fn(p, cfg, ids, types, mask, dropout=0.0):
    """<Family>ForMaskedLM: the encoder's hidden states -> dense -> GELU -> LayerNorm -> decoder tied to the word
    embeddings (+ its own bias); scores [B, S, V]. (BERT's transform uses hidden_act, DistilBERT its `activation`,
    RoBERTa and ELECTRA's generator plain gelu: all exact GELU here, as the configs must say 'gelu'.)"""
    d = dims(cfg)
    dense, norm, bias = MLM_HEADS[family(cfg)]
    x = hidden_states_fn(p, cfg, ids, types, mask, dropout)
    h = F.gelu(F.linear(x, p[dense + '.weight'], p[dense + '.bias']))
    h = F.layer_norm(h, (d['E'],), p[norm + '.weight'], p[norm + '.bias'], d['eps'])
    return F.linear(h, p[BASE_PREFIX[family(cfg)] + '.embeddings.word_embeddings.weight'], p[bias])


IGNORE_INDEX = -100


def mlm_loss_fn(p, cfg, batch, dropout=0.0):
    """Mean cross-entropy over the positions whose label is not -100 (labels int64 [B, S])."""
    ids, types, mask, labels = batch
    scores = mlm_logits_fn(p, cfg, ids, types, mask, dropout)
    return F.cross_entropy(scores.view(-1, scores.shape[-1]), labels.view(-1), ignore_index=IGNORE_INDEX)


def loss_fn(p, cfg, batch, dropout=0.0, weight=None, label_smoothing=0.0):
    ids, types, mask, labels = batch
    return F.cross_entropy(logits_fn(p, cfg, ids, types, mask, dropout), labels, weight=weight,
                           label_smoothing=label_smoothing)


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
                 betas=(0.9, 0.999), eps=1e-8, dropout=0.0, task='classify', weight=None, label_smoothing=0.0,
                 specs=None):
        """specs: (name, shape, init, decay) of another family's model (its loss_fn is then set by the caller)."""
        self.p, self.cfg, self.dropout, self.max_grad_norm = p, cfg, dropout, max_grad_norm
        self.loss_fn = mlm_loss_fn if task == 'mlm' else (
            lambda p_, cfg_, b, d: loss_fn(p_, cfg_, b, d, weight, label_smoothing))
        for t in p.values():
            t.requires_grad_(True)
        decay = {n for n, _, _, d in (specs or specs_for(cfg, num_labels, task)) if d}
        groups = [{'params': [t for n, t in p.items() if n in decay], 'weight_decay': weight_decay},
                  {'params': [t for n, t in p.items() if n not in decay], 'weight_decay': 0.0}]
        self.opt = torch.optim.AdamW(groups, lr=lr, betas=betas, eps=eps)
        self.sched = torch.optim.lr_scheduler.LambdaLR(self.opt, linear_schedule(warmup, total))

    def step(self, batch):
        """Returns (loss, grad norm before clipping, lr used)."""
        self.opt.zero_grad(set_to_none=True)
        loss = self.loss_fn(self.p, self.cfg, batch, self.dropout)
        loss.backward()
        norm = torch.nn.utils.clip_grad_norm_(list(self.p.values()), self.max_grad_norm)
        lr = self.opt.param_groups[0]['lr']
        self.opt.step()
        self.sched.step()
        return loss.item(), float(norm), lr


def load_model_dir(d):
    """config.json + model.safetensors of a *ForSequenceClassification folder → (cfg, params, num_labels)."""
    cfg = json.load(open(f'{d}/config.json'))
    tensors, _ = read_safetensors(f'{d}/model.safetensors')
    b = BASE_PREFIX[family(cfg)] + '.'
    head = lambda n: n.startswith('classifier.') or n.startswith('pre_classifier.')  # noqa: E731
    p = {(n if n.startswith(b) or head(n) else b + n): t for n, t in tensors.items()}
    num_labels = p[output_layer(cfg) + '.weight'].shape[0]
    return cfg, p, num_labels


def load_mlm_model_dir(d):
    """config.json + model.safetensors of a *ForMaskedLM folder (as transformers' from_pretrained reads it: names with
    or without the base prefix, the decoder tied to the word embeddings, RoBERTa's lm_head.decoder.bias = lm_head.bias)
    → (cfg, params of mlm_param_specs)."""
    cfg = json.load(open(f'{d}/config.json'))
    tensors, _ = read_safetensors(f'{d}/model.safetensors')
    wanted = {n for n, _, _, _ in mlm_param_specs(cfg)}
    b = BASE_PREFIX[family(cfg)] + '.'
    aliases = {'lm_head.decoder.bias': 'lm_head.bias', 'cls.predictions.decoder.bias': 'cls.predictions.bias'}
    p = {}
    for n, t in tensors.items():
        name = aliases.get(n, n if n.startswith(b) or n in wanted else b + n)
        if name in wanted and (name == n or name not in p):
            p[name] = t
    missing = wanted - set(p)
    if missing:
        raise SystemExit(f'{d}: missing {sorted(missing)}')
    return cfg, p


def batch_to_torch(b):
    B, S = b['batchSize'], b['seqLen']
    return (torch.tensor(b['inputIds'], dtype=torch.long).view(B, S),
            torch.tensor(b['tokenTypeIds'], dtype=torch.long).view(B, S),
            torch.tensor(b['attentionMask'], dtype=torch.float32).view(B, S),
            torch.tensor(b['labels'], dtype=torch.long))


if __name__ == '__main__':
    # /usr/bin/python3 bert_torch.py logits MODEL_DIR BATCH_JSON: logits of a saved classifier folder, as one JSON list.
    # /usr/bin/python3 bert_torch.py mlm-logits MODEL_DIR BATCH_JSON: the same for a *ForMaskedLM folder ([B*S*V]).
    import sys
    if len(sys.argv) == 4 and sys.argv[1] in ('logits', 'mlm-logits'):
        torch.set_num_threads(1)
        mlm = sys.argv[1] == 'mlm-logits'
        cfg, params = load_mlm_model_dir(sys.argv[2]) if mlm else load_model_dir(sys.argv[2])[:2]
        ids, types, mask, _ = batch_to_torch(json.load(open(sys.argv[3])))
        with torch.no_grad():
            print(json.dumps((mlm_logits_fn if mlm else logits_fn)(params, cfg, ids, types, mask).ravel().tolist()))
    else:
        sys.exit(__doc__)

"""Writes test/fixtures/formats/<family>/: one tiny base checkpoint per model family, random weights in the layout the
family's base models are published in on the Hub (no classifier: fine-tuning adds it), saved by hf_weights.save_model
in each weight format with the same tensors:

  /usr/bin/python3 bench/reference/make_format_fixtures.py [--out DIR] [--seed N]

  bert         BertForMaskedLM names (bert.*, with the pooler), position_ids buffer     safetensors, .bin, sharded
  distilbert   DistilBertForMaskedLM names (distilbert.*)                              safetensors, .bin
  roberta      RobertaForMaskedLM names (roberta.*)                                    safetensors, .bin
  xlm-roberta  XLMRobertaForMaskedLM names (roberta.*), vocabulary of the XLM-R spm     safetensors, .bin
  electra      ElectraForPreTraining names (electra.*), embedding_size < hidden_size   safetensors, .bin
  gpt2         a bare GPT2Model (h.*, wte, wpe, ln_f; no transformer. prefix) with the  safetensors, .bin
               causal-mask buffers h.N.attn.bias that older GPT-2 checkpoints carry
  modernbert   ModernBertForMaskedLM names (model.*, head.*, decoder.bias)             safetensors, .bin
  deberta-v3   DebertaV2ForMaskedLM names (deberta.*, lm_predictions.lm_head.*)        safetensors, .bin

Each folder holds config.json and the weights only: the test (test/unit/families/formats.test.ts) assembles a model
folder per weight format the family is published in, with the family's tokenizer files (test/fixtures/tokenizers,
test/fixtures/torch-bin/vocab.txt, or a tokenizer.json it writes), so vocab_size here covers those tokenizers' ids.
Integer buffers (position_ids) go into pytorch_model.bin only: the safetensors writer keeps float tensors.
Weights come from the plain-PyTorch references' init (bert_torch, gpt2_torch, modernbert_torch, deberta_v2_torch)
with biases and norm weights moved off 0/1, hidden size 8, so the files stay small.
"""
import argparse
import json
import os

import torch

import bert_torch as bt
import deberta_v2_torch as dt
import gpt2_torch as gt
import hf_weights as hf
import modernbert_torch as mt

BERT_VOCAB = 50  # test/fixtures/torch-bin/vocab.txt
ROBERTA_VOCAB = 1261  # test/fixtures/tokenizers/roberta/vocab.json
XLMR_VOCAB = 2002  # test/fixtures/tokenizers/xlm-roberta: 1,998 pieces + <s> <pad> </s> <unk> (fairseq ids) + <mask>
GPT2_VOCAB = 1257  # test/fixtures/tokenizers/gpt2/vocab.json, <|endoftext|> last
MODERNBERT_VOCAB = 400  # the test's byte-level tokenizer.json has 396 ids; padded, as ModernBERT pads 50,280 to 50,368
DEBERTA_VOCAB = 2001  # test/fixtures/tokenizers/deberta-v3/spm.model's 2,000 pieces + [MASK]

_BERT_KEYS = {'hidden_size': 8, 'num_hidden_layers': 2, 'num_attention_heads': 2, 'intermediate_size': 16,
              'hidden_act': 'gelu', 'hidden_dropout_prob': 0.1, 'attention_probs_dropout_prob': 0.1,
              'initializer_range': 0.2}
_ROBERTA_KEYS = {**_BERT_KEYS, 'max_position_embeddings': 66, 'type_vocab_size': 1, 'layer_norm_eps': 1e-5,
                 'pad_token_id': 1, 'bos_token_id': 0, 'eos_token_id': 2}

CONFIGS = {
    'bert': {'architectures': ['BertForMaskedLM'], 'model_type': 'bert', 'vocab_size': BERT_VOCAB, **_BERT_KEYS,
             'max_position_embeddings': 64, 'type_vocab_size': 2, 'layer_norm_eps': 1e-12, 'pad_token_id': 0},
    'distilbert': {'architectures': ['DistilBertForMaskedLM'], 'model_type': 'distilbert', 'vocab_size': BERT_VOCAB,
                   'dim': 8, 'n_layers': 2, 'n_heads': 2, 'hidden_dim': 16, 'activation': 'gelu',
                   'max_position_embeddings': 64, 'dropout': 0.1, 'attention_dropout': 0.1, 'seq_classif_dropout': 0.2,
                   'sinusoidal_pos_embds': False, 'initializer_range': 0.2, 'pad_token_id': 0},
    'roberta': {'architectures': ['RobertaForMaskedLM'], 'model_type': 'roberta', 'vocab_size': ROBERTA_VOCAB,
                **_ROBERTA_KEYS},
    'xlm-roberta': {'architectures': ['XLMRobertaForMaskedLM'], 'model_type': 'xlm-roberta', 'vocab_size': XLMR_VOCAB,
                    **_ROBERTA_KEYS},
    'electra': {'architectures': ['ElectraForPreTraining'], 'model_type': 'electra', 'vocab_size': BERT_VOCAB,
                **_BERT_KEYS, 'embedding_size': 4, 'max_position_embeddings': 64, 'type_vocab_size': 2,
                'layer_norm_eps': 1e-12, 'pad_token_id': 0},
    'gpt2': {'architectures': ['GPT2LMHeadModel'], 'model_type': 'gpt2', 'vocab_size': GPT2_VOCAB, 'n_embd': 8,
             'n_layer': 2, 'n_head': 2, 'n_inner': None, 'n_positions': 32, 'n_ctx': 32,
             'activation_function': 'gelu_new', 'resid_pdrop': 0.1, 'embd_pdrop': 0.1, 'attn_pdrop': 0.1,
             'layer_norm_epsilon': 1e-5, 'initializer_range': 0.2, 'bos_token_id': GPT2_VOCAB - 1,
             'eos_token_id': GPT2_VOCAB - 1},
    'modernbert': {'architectures': ['ModernBertForMaskedLM'], 'model_type': 'modernbert',
                   'vocab_size': MODERNBERT_VOCAB, 'hidden_size': 8, 'intermediate_size': 12, 'num_hidden_layers': 3,
                   'num_attention_heads': 2, 'hidden_activation': 'gelu', 'max_position_embeddings': 64,
                   'initializer_range': 0.2, 'norm_eps': 1e-5, 'norm_bias': False, 'global_rope_theta': 160000.0,
                   'local_rope_theta': 10000.0, 'global_attn_every_n_layers': 2, 'local_attention': 4,
                   'attention_bias': False, 'mlp_bias': False, 'classifier_pooling': 'mean',
                   'classifier_activation': 'gelu', 'pad_token_id': 1, 'cls_token_id': 0, 'sep_token_id': 2,
                   'bos_token_id': 0, 'eos_token_id': 2},
    'deberta-v3': {'architectures': ['DebertaV2ForMaskedLM'], 'model_type': 'deberta-v2', 'vocab_size': DEBERTA_VOCAB,
                   'hidden_size': 8, 'intermediate_size': 16, 'num_hidden_layers': 2, 'num_attention_heads': 2,
                   'hidden_act': 'gelu', 'hidden_dropout_prob': 0.1, 'attention_probs_dropout_prob': 0.1,
                   'max_position_embeddings': 64, 'type_vocab_size': 0, 'initializer_range': 0.2,
                   'layer_norm_eps': 1e-7, 'relative_attention': True, 'max_relative_positions': -1,
                   'position_buckets': 16, 'pad_token_id': 0, 'position_biased_input': False,
                   'pos_att_type': ['p2c', 'c2p'], 'share_att_key': True, 'norm_rel_ebd': 'layer_norm'},
}
FORMATS = {family: ('safetensors', 'bin') for family in CONFIGS}
FORMATS['bert'] = ('safetensors', 'bin', 'sharded')
# The classifier parts of each reference's *ForSequenceClassification, which a base checkpoint does not have.
HEAD = {'bert': ('classifier.',), 'distilbert': ('pre_classifier.', 'classifier.'), 'roberta': ('classifier.',),
        'xlm-roberta': ('classifier.',), 'electra': ('classifier.',), 'gpt2': ('score.',),
        'modernbert': ('classifier.',), 'deberta-v3': ('pooler.', 'classifier.')}


def reference_params(family, config, g):
    """The reference's classifier init (2 labels) for the family's config."""
    if family == 'gpt2':
        return gt.init_params(config, 2, g)
    if family == 'modernbert':
        return mt.init_params(config, 2, g)
    if family == 'deberta-v3':
        return dt.init_params(config, 2, g)
    return bt.init_params(config, 2, g)


def base_checkpoint(family, config, seed):
    """{name: tensor} of the family's published base checkpoint: the encoder without the classifier, biases and norm
    weights moved off 0/1 (so the formats' readers are checked on varied values), and the extra tensors such
    checkpoints carry (buffers, the pre-training head's parts the classifier does not use)."""
    g = torch.Generator().manual_seed(seed)
    p = {n: t for n, t in reference_params(family, config, g).items() if not n.startswith(HEAD[family])}
    for n, t in p.items():
        if n.endswith('.bias'):
            t += torch.randn(t.shape, generator=g) * 0.02
        elif n.endswith('.weight') and ('norm' in n.lower() or '.ln_' in n):
            t += torch.randn(t.shape, generator=g) * 0.1
    if family in ('bert', 'distilbert', 'roberta', 'xlm-roberta', 'electra'):
        prefix = bt.BASE_PREFIX[bt.family(config)]
        p[f'{prefix}.embeddings.position_ids'] = torch.arange(config['max_position_embeddings']).expand((1, -1))
    elif family == 'gpt2':
        p = {n[len('transformer.'):]: t for n, t in p.items()}
        n_pos = config['n_positions']
        mask = torch.tril(torch.ones(n_pos, n_pos)).view(1, 1, n_pos, n_pos)
        for layer in range(config['n_layer']):
            p[f'h.{layer}.attn.bias'] = mask
    elif family == 'modernbert':
        p['decoder.bias'] = torch.randn(config['vocab_size'], generator=g) * 0.02
    elif family == 'deberta-v3':
        H, V = config['hidden_size'], config['vocab_size']
        head = 'lm_predictions.lm_head.'
        p[head + 'dense.weight'] = torch.randn(H, H, generator=g) * config['initializer_range']
        p[head + 'dense.bias'] = torch.randn(H, generator=g) * 0.02
        p[head + 'LayerNorm.weight'] = 1 + torch.randn(H, generator=g) * 0.1
        p[head + 'LayerNorm.bias'] = torch.randn(H, generator=g) * 0.02
        p[head + 'bias'] = torch.randn(V, generator=g) * 0.02
    return p


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser()
    ap.add_argument('--out', default=os.path.join(here, '..', '..', 'test', 'fixtures', 'formats'))
    ap.add_argument('--seed', type=int, default=0)
    args = ap.parse_args()
    written = {}
    for family, config in CONFIGS.items():
        directory = os.path.join(args.out, family)
        hf.save_model(directory, config, base_checkpoint(family, config, args.seed), FORMATS[family])
        written[family] = sorted(os.listdir(directory))
    print(json.dumps({'out': os.path.abspath(args.out), 'torch': torch.__version__, 'families': written}))


if __name__ == '__main__':
    main()

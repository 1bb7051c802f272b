"""Writes the pytorch_model.bin fixtures of the weight-format tests (default: test/fixtures/torch-bin/):

  /usr/bin/python3 bench/reference/make_torch_bin_fixtures.py [--out DIR] [--seed N]

A tiny random BERT pre-training checkpoint as transformers' BertForPreTraining.state_dict() looks (an OrderedDict with
`_metadata`, `bert.*` and `cls.*` names, the MLM decoder sharing its storage with the word embeddings, the int64
`bert.embeddings.position_ids` buffer), saved with torch.save in the zip format:

  pytorch_model.bin        float32 (with config.json, vocab.txt and tokenizer_config.json: a model folder)
  model-fp16.bin           the same state dict in float16
  model-bf16.bin           the same state dict in bfloat16
  views.bin                tensors that are not whole storages: a transposed (strided) weight, a slice with a storage
                           offset, two slices of one storage, a strided float16 view, an nn.Parameter, a 0-d and an
                           empty tensor
  legacy.bin               a small state dict in the format of PyTorch < 1.6 (_use_new_zipfile_serialization=False)
  reference-<name>.safetensors   the float tensors of each of the four .bin files above in their own dtype, written
                           here byte for byte (contiguous), which the test compares with what it reads from the .bin

Run with Debian's torch (apt-get install python3-torch). The tests also run this script into a temporary folder when
that torch is present, so the reader is checked against the torch of the machine as well as against these files.
"""
import argparse
import collections
import json
import os

import torch

import hf_weights as hf

WORDS = ['the', 'movie', 'film', 'story', 'acting', 'ending', 'music', 'plot', 'cast', 'was', 'and', 'truly', 'great',
         'wonderful', 'excellent', 'lovely', 'superb', 'enjoyable', 'awful', 'terrible', 'boring', 'dreadful', 'poor',
         'horrible']
DIGITS = list('0123456789')
VOCAB = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', ','] + DIGITS + ['##' + d for d in DIGITS] + WORDS

CONFIG = {
    'architectures': ['BertForPreTraining'], 'model_type': 'bert', 'hidden_act': 'gelu',
    'vocab_size': len(VOCAB), 'hidden_size': 8, 'num_hidden_layers': 1, 'num_attention_heads': 2,
    'intermediate_size': 16, 'max_position_embeddings': 40, 'type_vocab_size': 2, 'hidden_dropout_prob': 0.1,
    'attention_probs_dropout_prob': 0.1, 'layer_norm_eps': 1e-12, 'initializer_range': 0.02, 'pad_token_id': 0,
}


def state_dict(g):
    h, v, i, p = CONFIG['hidden_size'], CONFIG['vocab_size'], CONFIG['intermediate_size'], CONFIG['max_position_embeddings']
    rnd = lambda *shape: torch.randn(*shape, generator=g) * 0.5
    sd = collections.OrderedDict()
    sd['bert.embeddings.position_ids'] = torch.arange(p).expand((1, -1))
    sd['bert.embeddings.word_embeddings.weight'] = rnd(v, h)
    sd['bert.embeddings.position_embeddings.weight'] = rnd(p, h)
    sd['bert.embeddings.token_type_embeddings.weight'] = rnd(2, h)
    sd['bert.embeddings.LayerNorm.weight'] = 1 + rnd(h)
    sd['bert.embeddings.LayerNorm.bias'] = rnd(h)
    for layer in range(CONFIG['num_hidden_layers']):
        pre = f'bert.encoder.layer.{layer}.'
        for name in ('attention.self.query', 'attention.self.key', 'attention.self.value', 'attention.output.dense'):
            sd[f'{pre}{name}.weight'] = rnd(h, h)
            sd[f'{pre}{name}.bias'] = rnd(h)
        sd[f'{pre}attention.output.LayerNorm.weight'] = 1 + rnd(h)
        sd[f'{pre}attention.output.LayerNorm.bias'] = rnd(h)
        sd[f'{pre}intermediate.dense.weight'] = rnd(i, h)
        sd[f'{pre}intermediate.dense.bias'] = rnd(i)
        sd[f'{pre}output.dense.weight'] = rnd(h, i)
        sd[f'{pre}output.dense.bias'] = rnd(h)
        sd[f'{pre}output.LayerNorm.weight'] = 1 + rnd(h)
        sd[f'{pre}output.LayerNorm.bias'] = rnd(h)
    sd['bert.pooler.dense.weight'] = rnd(h, h)
    sd['bert.pooler.dense.bias'] = rnd(h)
    sd['cls.predictions.bias'] = rnd(v)
    sd['cls.predictions.transform.dense.weight'] = rnd(h, h)
    sd['cls.predictions.transform.dense.bias'] = rnd(h)
    sd['cls.predictions.transform.LayerNorm.weight'] = 1 + rnd(h)
    sd['cls.predictions.transform.LayerNorm.bias'] = rnd(h)
    sd['cls.seq_relationship.weight'] = rnd(2, h)
    sd['cls.seq_relationship.bias'] = rnd(2)
    return sd


def cast(sd, dtype):
    """The float tensors in `dtype`; the decoder is tied to the word embeddings again (one storage, as in a module)."""
    out = collections.OrderedDict((k, t.to(dtype) if t.is_floating_point() else t) for k, t in sd.items())
    out['cls.predictions.decoder.weight'] = out['bert.embeddings.word_embeddings.weight']
    out['cls.predictions.decoder.bias'] = out['cls.predictions.bias']
    # Module.state_dict() attaches the modules' versions; torch.save pickles them through BUILD.
    out._metadata = collections.OrderedDict([('', {'version': 1}), ('bert', {'version': 1}),
                                             ('bert.embeddings', {'version': 1}), ('cls', {'version': 1})])
    return out


def views(g):
    base = torch.randn(6, 5, generator=g)
    half = torch.randn(4, 6, generator=g).half()
    shared = torch.randn(12, generator=g)
    sd = collections.OrderedDict()
    sd['transposed'] = base.t()                      # strides (1, 5)
    sd['offset_slice'] = base[2:4]                   # storage offset 10, contiguous
    sd['column'] = base[:, 3]                        # offset 3, stride 5
    sd['shared.first'] = shared[:5]
    sd['shared.second'] = shared[5:].view(7, 1)
    sd['half.strided'] = half[::2, 1::2]             # float16, strides (12, 2), offset 1
    sd['parameter'] = torch.nn.Parameter(torch.randn(3, 2, generator=g))
    sd['scalar'] = torch.tensor(2.5)
    sd['empty'] = torch.zeros(0, 4)
    sd['bf16.transposed'] = torch.randn(3, 4, generator=g).bfloat16().t()
    return sd


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser()
    ap.add_argument('--out', default=os.path.join(here, '..', '..', 'test', 'fixtures', 'torch-bin'))
    ap.add_argument('--seed', type=int, default=0)
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    g = torch.Generator().manual_seed(args.seed)
    sd = state_dict(g)
    files = {'pytorch_model.bin': cast(sd, torch.float32), 'model-fp16.bin': cast(sd, torch.float16),
             'model-bf16.bin': cast(sd, torch.bfloat16), 'views.bin': views(g)}
    for name, tensors in files.items():
        hf.write_pytorch_bin(os.path.join(args.out, name), tensors)
        hf.write_safetensors(os.path.join(args.out, f'reference-{name[:-4]}.safetensors'), tensors)
    legacy = collections.OrderedDict(weight=torch.randn(2, 3, generator=g), bias=torch.randn(2, generator=g))
    torch.save(legacy, os.path.join(args.out, 'legacy.bin'), _use_new_zipfile_serialization=False)
    with open(os.path.join(args.out, 'config.json'), 'w') as f:
        json.dump(CONFIG, f, indent=2)
        f.write('\n')
    with open(os.path.join(args.out, 'vocab.txt'), 'w') as f:
        f.write('\n'.join(VOCAB) + '\n')
    with open(os.path.join(args.out, 'tokenizer_config.json'), 'w') as f:
        json.dump({'do_lower_case': True}, f)
        f.write('\n')
    print(json.dumps({'out': args.out, 'torch': torch.__version__, 'files': sorted(os.listdir(args.out))}))


if __name__ == '__main__':
    main()

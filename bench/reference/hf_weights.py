"""Saving a model folder's weights in each format the Hugging Face Hub publishes them, for the fixture makers:

  model.safetensors                  names sorted, each float tensor in its own dtype, header space-padded to 8 bytes
                                     (the reference writer's layout; tensors of other dtypes, such as position_ids
                                     buffers, are left out)
  pytorch_model.bin                  torch.save's zip format (PyTorch >= 1.6), as save_pretrained writes it
  model-0000k-of-0000n.safetensors   sharded safetensors, with model.safetensors.index.json naming each tensor's shard
  + model.safetensors.index.json     (save_pretrained's layout when a checkpoint exceeds max_shard_size)

`save_model(dir, config, tensors, formats)` writes config.json and the weights in every format asked for, so one set
of tensors is the same in each. Run with Debian's torch: /usr/bin/python3 (apt-get install python3-torch).
"""
import collections
import json
import os
import struct

import torch

SAFETENSORS_DTYPES = {torch.float32: 'F32', torch.float16: 'F16', torch.bfloat16: 'BF16'}
FORMATS = ('safetensors', 'bin', 'sharded')
SAFETENSORS_FILE = 'model.safetensors'
PYTORCH_FILE = 'pytorch_model.bin'
SAFETENSORS_INDEX_FILE = 'model.safetensors.index.json'


def _safetensors_bytes(tensors, metadata=None):
    header, blobs, off = {}, [], 0
    if metadata:
        header['__metadata__'] = metadata
    for name in sorted(tensors):
        t = tensors[name].detach()
        if t.dtype not in SAFETENSORS_DTYPES:
            continue
        raw = t.cpu().contiguous().reshape(-1).view(torch.uint8).numpy().tobytes()
        header[name] = {'dtype': SAFETENSORS_DTYPES[t.dtype], 'shape': list(t.shape),
                        'data_offsets': [off, off + len(raw)]}
        blobs.append(raw)
        off += len(raw)
    js = json.dumps(header, separators=(',', ':')).encode('utf8')
    js += b' ' * ((-(8 + len(js))) % 8)
    return struct.pack('<Q', len(js)) + js + b''.join(blobs)


def write_safetensors(path, tensors, metadata=None):
    """`tensors` ({name: tensor}) as a safetensors file; float tensors only, each in its own dtype."""
    with open(path, 'wb') as f:
        f.write(_safetensors_bytes(tensors, metadata))


def write_pytorch_bin(path, tensors):
    """`tensors` as torch.save writes a state dict (an OrderedDict, in the zip format); an OrderedDict passed in is
    saved as it is (with its _metadata, tied tensors sharing a storage)."""
    sd = tensors if isinstance(tensors, collections.OrderedDict) else collections.OrderedDict(tensors)
    torch.save(sd, path)


def write_sharded_safetensors(directory, tensors, shards=2, metadata=None):
    """`tensors` split into `shards` safetensors files by name order (as even in count as they divide), and the index
    file mapping every tensor name to its shard; returns the shard file names."""
    names = sorted(n for n, t in tensors.items() if t.dtype in SAFETENSORS_DTYPES)
    files = [f'model-{k + 1:05d}-of-{shards:05d}.safetensors' for k in range(shards)]
    weight_map, total = {}, 0
    for k, file in enumerate(files):
        part = {n: tensors[n] for n in names[k * len(names) // shards:(k + 1) * len(names) // shards]}
        write_safetensors(os.path.join(directory, file), part, metadata)
        for n, t in part.items():
            weight_map[n] = file
            total += t.numel() * t.element_size()
    with open(os.path.join(directory, SAFETENSORS_INDEX_FILE), 'w') as f:
        json.dump({'metadata': {'total_size': total}, 'weight_map': weight_map}, f, indent=2, sort_keys=True)
        f.write('\n')
    return files


def save_model(directory, config, tensors, formats=('safetensors',), metadata=None):
    """config.json (indent 2) and `tensors` in each of `formats` (FORMATS) in `directory`, as save_pretrained lays a
    model folder out. safetensors files carry `metadata` ({'format': 'pt'} by default, as save_pretrained writes)."""
    metadata = {'format': 'pt'} if metadata is None else metadata
    unknown = [f for f in formats if f not in FORMATS]
    if unknown:
        raise ValueError(f'unknown weight formats {unknown}; known: {FORMATS}')
    os.makedirs(directory, exist_ok=True)
    with open(os.path.join(directory, 'config.json'), 'w') as f:
        json.dump(config, f, indent=2)
    if 'safetensors' in formats:
        write_safetensors(os.path.join(directory, SAFETENSORS_FILE), tensors, metadata)
    if 'bin' in formats:
        write_pytorch_bin(os.path.join(directory, PYTORCH_FILE), tensors)
    if 'sharded' in formats:
        write_sharded_safetensors(directory, tensors, 2, metadata)

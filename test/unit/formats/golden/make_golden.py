"""Golden files from the official `safetensors` package (0.8.0, numpy API), used by safetensors.test.ts to check
that our reader and writer agree with the reference implementation byte for byte. Rerun: python3 make_golden.py
(needs `pip install safetensors numpy`; the product does not)."""
import json
import numpy as np
from safetensors.numpy import save_file

rng = np.random.default_rng(0)
tensors = {
    'encoder.w': rng.standard_normal((3, 5)).astype(np.float32),
    'encoder.h': (rng.standard_normal((7,)) * 100).astype(np.float16),
    'bias': rng.standard_normal((2,)).astype(np.float32),
    'empty': np.zeros((0, 3), np.float32),
}
save_file(tensors, 'official-mixed.safetensors', metadata={'format': 'pt'})
as_f32 = {k: v.astype(np.float32) for k, v in tensors.items()}
save_file(as_f32, 'official-f32.safetensors', metadata={'format': 'pt'})
with open('official-values.json', 'w') as f:
    json.dump({k: {'shape': list(v.shape), 'values': v.ravel().tolist()} for k, v in as_f32.items()}, f)

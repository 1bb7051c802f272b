"""What transformers' AutoModelForSequenceClassification.from_pretrained(MODEL_DIR) makes of a saved classifier folder,
in plain torch (transformers is not packaged for Debian 12, and these machines reach no other registry): the config's
checks, the model class chosen by model_type, the weights loaded by name, the logits, and the loss the forward pass
computes for given labels under the config's problem_type. Only what transformers does is modelled, each step from
its source (transformers 4.x PretrainedConfig.__init__, PreTrainedModel.from_pretrained, BertForSequenceClassification
.forward):

- problem_type must be absent (None) or one of regression, single_label_classification, multi_label_classification
  (else PretrainedConfig raises ValueError).
- num_labels is len(id2label); id2label's keys become ints.
- A weight the model declares that the checkpoint lacks would be "newly initialized" (only a warning in transformers,
  a silently random head): an error here. A checkpoint tensor of another shape: an error there too (size mismatch).
  A checkpoint tensor the model does not declare is ignored with a warning: listed in `unexpected`.
- With labels, a config without problem_type resolves it as the forward pass does: num_labels 1 → regression; more
  labels with integer labels → single_label_classification; else multi_label_classification. Then MSELoss (on the
  squeezed logits when num_labels is 1), CrossEntropyLoss, or BCEWithLogitsLoss.

  /usr/bin/python3 bench/reference/hf_sequence_classification.py MODEL_DIR BATCH_JSON

BATCH_JSON: {batchSize, seqLen, inputIds, attentionMask, tokenTypeIds (row-major [batch, seq]), labels, labelDtype}
with labelDtype "long" (labels [batch] class ids) or "float" (labels [batch] values, or [batch * num_labels] 0/1).
Prints one JSON object: modelClass, problemType (the config's, or null), resolvedProblemType (the forward pass's),
numLabels, id2label, unexpected, logits ([batch * num_labels]), loss.
"""
import json
import sys

import torch

import bert_torch as bt

PROBLEM_TYPES = ('regression', 'single_label_classification', 'multi_label_classification')
MODEL_CLASSES = {'bert': 'BertForSequenceClassification', 'distilbert': 'DistilBertForSequenceClassification',
                 'roberta': 'RobertaForSequenceClassification', 'xlm-roberta': 'XLMRobertaForSequenceClassification',
                 'electra': 'ElectraForSequenceClassification'}


def load(model_dir):
    with open(f'{model_dir}/config.json', encoding='utf8') as f:
        cfg = json.load(f)
    problem_type = cfg.get('problem_type')
    if problem_type is not None and problem_type not in PROBLEM_TYPES:
        raise SystemExit(f'ValueError: The config parameter `problem_type` was not understood: received {problem_type} '
                         "but only 'regression', 'single_label_classification' and 'multi_label_classification' are valid.")
    model_class = MODEL_CLASSES.get(cfg.get('model_type'))
    if model_class is None:
        raise SystemExit(f"ValueError: Unrecognized model_type {cfg.get('model_type')!r} for AutoModelForSequenceClassification")
    id2label = {int(k): v for k, v in cfg.get('id2label', {'0': 'LABEL_0', '1': 'LABEL_1'}).items()}
    num_labels = len(id2label)
    tensors, _ = bt.read_safetensors(f'{model_dir}/model.safetensors')
    prefix = bt.BASE_PREFIX[bt.family(cfg)] + '.'
    declared = {n: shape for n, shape, _, _ in bt.param_specs(cfg, num_labels)}
    params, unexpected = {}, []
    for name, t in tensors.items():
        # from_pretrained accepts a checkpoint of the base model (names without the prefix) as well.
        full = name if name in declared else prefix + name
        if full not in declared:
            unexpected.append(name)
        elif list(t.shape) != declared[full]:
            raise SystemExit(f'RuntimeError: size mismatch for {full}: copying a param with shape {list(t.shape)} '
                             f'from checkpoint, the shape in current model is {declared[full]}.')
        else:
            params[full] = t
    missing = sorted(set(declared) - set(params))
    if missing:
        raise SystemExit(f'Some weights of {model_class} were not initialized from the model checkpoint at {model_dir} '
                         f'and are newly initialized: {missing}')
    return cfg, params, model_class, problem_type, id2label, sorted(unexpected)


def hf_loss(problem_type, num_labels, logits, labels):
    """BertForSequenceClassification.forward's loss (its problem_type resolution included): (resolved type, loss)."""
    if problem_type is None:
        if num_labels == 1:
            problem_type = 'regression'
        elif num_labels > 1 and labels.dtype in (torch.long, torch.int):
            problem_type = 'single_label_classification'
        else:
            problem_type = 'multi_label_classification'
    if problem_type == 'regression':
        mse = torch.nn.MSELoss()
        loss = mse(logits.squeeze(), labels.squeeze()) if num_labels == 1 else mse(logits, labels)
    elif problem_type == 'single_label_classification':
        loss = torch.nn.CrossEntropyLoss()(logits.view(-1, num_labels), labels.view(-1))
    else:
        loss = torch.nn.BCEWithLogitsLoss()(logits, labels)
    return problem_type, loss


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    torch.set_num_threads(1)
    cfg, params, model_class, problem_type, id2label, unexpected = load(sys.argv[1])
    with open(sys.argv[2], encoding='utf8') as f:
        batch = json.load(f)
    ids, types, mask, _ = bt.batch_to_torch({**batch, 'labels': []})
    num_labels = len(id2label)
    dtype = torch.long if batch['labelDtype'] == 'long' else torch.float32
    labels = torch.tensor(batch['labels'], dtype=dtype)
    if dtype == torch.float32 and num_labels > 1:
        labels = labels.view(batch['batchSize'], num_labels)
    with torch.no_grad():
        logits = bt.logits_fn(params, cfg, ids, types, mask)
        resolved, loss = hf_loss(problem_type, num_labels, logits, labels)
    print(json.dumps({'modelClass': model_class, 'problemType': problem_type, 'resolvedProblemType': resolved,
                      'numLabels': num_labels, 'id2label': {str(k): v for k, v in id2label.items()},
                      'unexpected': unexpected, 'logits': logits.ravel().tolist(), 'loss': loss.item()}))


if __name__ == '__main__':
    main()

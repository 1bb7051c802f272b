import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MODEL_CATALOG } from '../../../src/core/model/catalog';
import { asPlain } from '../../../src/extension/display/text';
import { catalogModels, otherModelDetail } from '../../../src/extension/training/modelItems';

test("the model step offers every supported family's suggested models with the table's facts and one-liner", () => {
  const items = catalogModels();
  const supported = MODEL_CATALOG.filter((f) => f.supported);
  const ids = supported.flatMap((f) => f.models.map((m) => m.id));
  assert.deepEqual([...items.keys()].sort(), [...ids].sort());
  assert.equal([...items.keys()][0], 'random:tiny', 'the quick start comes first');
  assert.equal(asPlain(items.get('random:tiny')!.label), 'Small random model');
  for (const family of supported) {
    for (const m of family.models) {
      const item = items.get(m.id)!;
      const description = asPlain(item.description);
      assert.ok(description.includes(m.parameters), description);
      if (m.license === 'none') assert.match(description, /from scratch, works offline/);
      else {
        assert.ok(description.startsWith(`${family.name}: `), description);
        for (const fact of [`${m.context} tokens`, m.languages, `licence ${m.license}`])
          assert.ok(description.includes(fact), `${m.id}: ${fact} in ${description}`);
      }
      assert.equal(asPlain(item.detail), m.pick);
    }
  }
  for (const id of [
    'xlm-roberta-base',
    'bert-base-multilingual-cased',
    'google/electra-small-discriminator',
    'openai-community/gpt2',
    'microsoft/deberta-v3-base',
  ])
    assert.ok(items.has(id), id);
});

test('"Other Hugging Face model…" names the supported families and those not supported yet', () => {
  const detail = asPlain(otherModelDetail());
  assert.equal(
    detail,
    'Any BERT, DistilBERT, RoBERTa, XLM-R, ELECTRA, ModernBERT, GPT-2, DeBERTa-v3 model; not supported yet: DeBERTa-v1',
  );
});

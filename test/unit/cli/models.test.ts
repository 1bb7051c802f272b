import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { runCli } from '../../../src/cli/main';
import type { CliIo } from '../../../src/cli/output';
import { ModelError } from '../../../src/core/errors';
import { MODEL_CATALOG, type CatalogFamily } from '../../../src/core/model/catalog';
import { presetConfig, SUPPORTED_MODEL_TYPES } from '../../../src/core/model/config';
import { checkModelDir } from '../../../src/core/model/load';
import { encoderParamSpecs } from '../../../src/core/model/params';
import { tempDir, writeSentimentCsv } from '../runner/fixtures';

async function cli(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const io: CliIo & { out: string; err: string } = {
    out: '',
    err: '',
    stderrIsTTY: false,
    stdout: (t) => {
      io.out += t;
    },
    stderr: (t) => {
      io.err += t;
    },
  };
  const code = await runCli(argv, io);
  return { code, out: io.out, err: io.err };
}

test('bertft models prints every family with its suggested ids and facts, the unsupported ones under "not yet"', async () => {
  const r = await cli('models');
  assert.equal(r.code, 0, r.err);
  const [supported, notYet] = r.out.split('Not yet supported');
  assert.ok(notYet !== undefined, r.out);
  for (const family of MODEL_CATALOG) {
    const part = family.supported ? supported : notYet;
    assert.ok(part.includes(`${family.name}: ${family.summary}`), family.name);
    for (const m of family.models) {
      assert.ok(part.includes(`  ${m.id}\n`), m.id);
      assert.ok(part.includes(`${m.parameters} parameters, ${m.context} tokens, ${m.languages}, licence ${m.license}`));
      assert.ok(part.includes(m.pick), m.pick);
    }
  }
  for (const id of [
    'bert-base-multilingual-cased',
    'xlm-roberta-base',
    'random:tiny',
    'answerdotai/ModernBERT-base',
    'openai-community/gpt2',
    'microsoft/deberta-v3-base',
    'microsoft/mdeberta-v3-base',
  ])
    assert.match(supported, new RegExp(id));
  for (const name of ['DeBERTa-v1']) assert.match(notYet, new RegExp(`^${name}: not yet`, 'm'));
  assert.ok(r.out.split('\n').every((line) => line.length <= 120));
});

test('bertft models --json is one object holding the same table', async () => {
  const r = await cli('models', '--json');
  assert.equal(r.code, 0, r.err);
  assert.equal(r.out.trim().split('\n').length, 1);
  const parsed = JSON.parse(r.out) as { families: CatalogFamily[] };
  assert.deepEqual(parsed.families, MODEL_CATALOG);
  const supportedTypes = parsed.families.filter((f) => f.supported).flatMap((f) => f.modelTypes);
  assert.deepEqual([...supportedTypes].sort(), [...SUPPORTED_MODEL_TYPES].sort());
  for (const f of parsed.families.filter((x) => !x.supported))
    assert.ok(
      f.modelTypes.every((t) => !SUPPORTED_MODEL_TYPES.includes(t)),
      f.name,
    );
});

test("the random: sizes' parameter counts are those of their configs", () => {
  const random = MODEL_CATALOG.find((f) => f.name === 'random')!;
  for (const m of random.models) {
    const cfg = presetConfig(m.id.slice('random:'.length));
    const count = encoderParamSpecs(cfg).reduce((sum, s) => sum + s.shape.reduce((a, b) => a * b, 1), 0);
    const stated = Number.parseFloat(m.parameters) * 1e6;
    assert.ok(Math.abs(count - stated) / count < 0.05, `${m.id}: ${count} vs ${m.parameters}`);
    assert.equal(m.context, cfg.maxPositionEmbeddings);
  }
});

/** Model folders whose config.json names an architecture we do not read, as their Hub repos publish it. */
const UNSUPPORTED: [string, Record<string, unknown>, string][] = [
  ['deberta-v1', { model_type: 'deberta', architectures: ['DebertaForMaskedLM'], vocab_size: 50265 }, 'DeBERTa'],
  ['t5', { model_type: 't5', architectures: ['T5ForConditionalGeneration'] }, ''],
];

function unsupportedFolder(root: string, name: string, config: Record<string, unknown>): string {
  const dir = path.join(root, name);
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify(config));
  fs.writeFileSync(path.join(dir, 'model.safetensors'), '');
  return dir;
}

test('an unsupported architecture is one ModelError naming the supported families and `bertft models`', async () => {
  const root = tempDir('unsupported-models');
  for (const [name, config, family] of UNSUPPORTED) {
    const dir = unsupportedFolder(root, name, config);
    await assert.rejects(checkModelDir(dir), (e: unknown) => {
      assert.ok(e instanceof ModelError, String(e));
      assert.match(e.message, /is not supported; supported: bert, distilbert, roberta, xlm-roberta, electra/);
      assert.match(e.message, /BERT, DistilBERT, RoBERTa, XLM-R, ELECTRA/);
      if (family) assert.match(e.message, new RegExp(`${family}\\S* is not supported yet`));
      else assert.doesNotMatch(e.message, /not supported yet/);
      assert.match(e.fix ?? '', /`bertft models`/);
      assert.equal(e.file, path.join(dir, 'config.json'));
      return true;
    });
  }
});

test('bertft train --model <a DeBERTa-v1 folder> exits 1 with that message, no stack trace', async () => {
  const root = tempDir('unsupported-train');
  const model = unsupportedFolder(root, 'deberta', UNSUPPORTED[0][1]);
  const out = path.join(root, 'run');
  const r = await cli(
    'train',
    '--data',
    writeSentimentCsv(root, 16),
    '--model',
    model,
    '--out',
    out,
    '--device',
    'cpu',
  );
  assert.equal(r.code, 1, r.err);
  assert.match(r.err, /model_type 'deberta' is not supported; supported: bert/);
  assert.match(r.err, /DeBERTa-v1 is not supported yet/);
  assert.match(r.err, /bertft models/);
  assert.doesNotMatch(r.err, /\n\s+at /);
});

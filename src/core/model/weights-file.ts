/**
 * Which file of a model folder holds its weights, and reading them whatever the format, as transformers'
 * from_pretrained chooses: `model.safetensors`, else sharded safetensors through `model.safetensors.index.json`, else
 * `pytorch_model.bin` (./pytorch-bin.ts), else sharded .bin files through `pytorch_model.bin.index.json`.
 *
 * An index is `{"metadata": {...}, "weight_map": {"<tensor name>": "<shard file>"}}`; each shard is a file of the same
 * folder (a name with a folder in it is refused: an index must not send us reading elsewhere), and each tensor is
 * read from the shard the index names.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { ModelError } from '../errors';
import { withoutBom } from '../util/text-file';
import { ownValue } from '../util/records';
import type { Tensor } from './params';
import { PYTORCH_WEIGHTS_FILE, readPytorchBin, readPytorchBinNames } from './pytorch-bin';
import { readSafetensors, readSafetensorsHeader } from './safetensors';

export const SAFETENSORS_FILE = 'model.safetensors';
export const SAFETENSORS_INDEX_FILE = 'model.safetensors.index.json';
export const PYTORCH_INDEX_FILE = 'pytorch_model.bin.index.json';

/** Where a model's weights may be, in the order they are preferred. */
export const WEIGHTS_CANDIDATES = [
  SAFETENSORS_FILE,
  SAFETENSORS_INDEX_FILE,
  PYTORCH_WEIGHTS_FILE,
  PYTORCH_INDEX_FILE,
] as const;

export interface WeightsSource {
  /** The file the weights are found through: the weights file, or the index of a sharded checkpoint. */
  file: string;
  format: 'safetensors' | 'pytorch';
  /** The files holding tensors, each with the names it is to give (all of its names when not sharded). */
  shards: { file: string; names?: ReadonlySet<string> }[];
}

export function isIndexFile(name: string): boolean {
  return name === SAFETENSORS_INDEX_FILE || name === PYTORCH_INDEX_FILE;
}

async function exists(file: string): Promise<boolean> {
  return fs.access(file).then(
    () => true,
    () => false,
  );
}

/**
 * An index file's weight_map: tensor name → shard file name. The shard names are checked (plain file names of the
 * index's own format), not whether the shards exist.
 */
export function parseShardIndex(text: string, file: string): Map<string, string> {
  const bad = (problem: string, cause?: unknown): ModelError =>
    new ModelError(`${path.basename(file)} is not a valid index of a sharded checkpoint: ${problem}.`, {
      file,
      code: 'MODEL_BAD_INDEX',
      fix: 'Download the model again: the index file is damaged or was not written by save_pretrained.',
      cause,
    });
  let json: unknown;
  try {
    json = JSON.parse(withoutBom(text));
  } catch (e) {
    throw bad(`it is not valid JSON (${(e as Error).message})`, e);
  }
  const map =
    typeof json === 'object' && json !== null && !Array.isArray(json)
      ? ownValue(json as Record<string, unknown>, 'weight_map')
      : undefined;
  if (typeof map !== 'object' || map === null || Array.isArray(map)) throw bad('it has no "weight_map" object');
  const extension = path.basename(file) === PYTORCH_INDEX_FILE ? '.bin' : '.safetensors';
  const out = new Map<string, string>();
  for (const [name, shard] of Object.entries(map as Record<string, unknown>)) {
    if (
      typeof shard !== 'string' ||
      shard !== path.basename(shard) ||
      /[\\/:]/.test(shard) ||
      !shard.endsWith(extension) ||
      shard.startsWith('.')
    ) {
      throw bad(`tensor "${name}" is mapped to ${JSON.stringify(shard)}, not a ${extension} file of the same folder`);
    }
    out.set(name, shard);
  }
  if (out.size === 0) throw bad('its weight_map is empty');
  return out;
}

/** The shard file names an index refers to, in the order they first appear. */
export function shardFiles(index: Map<string, string>): string[] {
  return [...new Set(index.values())];
}

/** Finds the weights of a model folder, checking that the files (and every shard of an index) are there. */
export async function findWeights(dir: string): Promise<WeightsSource> {
  for (const name of WEIGHTS_CANDIDATES) {
    const file = path.join(dir, name);
    if (!(await exists(file))) continue;
    const format = name.startsWith('pytorch_model') ? 'pytorch' : 'safetensors';
    if (!isIndexFile(name)) return { file, format, shards: [{ file }] };
    let text: string;
    try {
      text = await fs.readFile(file, 'utf8');
    } catch (e) {
      throw new ModelError(`Cannot read ${file}: ${(e as Error).message}`, {
        file,
        code: 'MODEL_FILE_UNREADABLE',
        fix: 'Check that the file is readable.',
        cause: e,
      });
    }
    const index = parseShardIndex(text, file);
    const shards: WeightsSource['shards'] = [];
    for (const shard of shardFiles(index)) {
      const shardFile = path.join(dir, shard);
      if (!(await exists(shardFile))) {
        throw new ModelError(`The model folder lacks ${shard}, a shard that ${name} lists.`, {
          file: shardFile,
          code: 'MODEL_MISSING_SHARD',
          fix: 'Download every shard of the model (all the files the index names), or download the model again.',
        });
      }
      const names = new Set([...index].filter(([, s]) => s === shard).map(([n]) => n));
      shards.push({ file: shardFile, names });
    }
    return { file, format, shards };
  }
  throw new ModelError(`The model folder has no weights: none of ${WEIGHTS_CANDIDATES.join(', ')}.`, {
    file: path.join(dir, SAFETENSORS_FILE),
    code: 'MODEL_NO_WEIGHTS',
    fix: 'Download the model with its weights (model.safetensors, or pytorch_model.bin, or every shard with its index).',
  });
}

/** The tensor names the weights hold (headers, the index or data.pkl only: no tensor data is read). */
export async function readWeightNames(source: WeightsSource): Promise<string[]> {
  const names: string[] = [];
  for (const shard of source.shards) {
    if (shard.names) names.push(...shard.names);
    else if (source.format === 'safetensors') {
      names.push(...(await readSafetensorsHeader(shard.file)).entries.map((e) => e.name));
    } else names.push(...(await readPytorchBinNames(shard.file)));
  }
  return names;
}

/**
 * Reads every (or every included) tensor as float32, whatever the format. A tensor an index maps to a shard that does
 * not hold it is a ModelError naming both.
 */
export async function readWeights(
  source: WeightsSource,
  options: { include?: (name: string) => boolean } = {},
): Promise<Map<string, Tensor>> {
  const out = new Map<string, Tensor>();
  for (const shard of source.shards) {
    const include = (name: string): boolean =>
      (!shard.names || shard.names.has(name)) && (!options.include || options.include(name));
    const tensors =
      source.format === 'safetensors'
        ? await readSafetensors(shard.file, { include })
        : await readPytorchBin(shard.file, { include });
    for (const [name, t] of tensors) out.set(name, t);
    for (const name of shard.names ?? []) {
      if (include(name) && !tensors.has(name)) {
        throw new ModelError(
          `${path.basename(source.file)} maps tensor "${name}" to ${path.basename(shard.file)}, which does not hold it.`,
          {
            file: shard.file,
            code: 'MODEL_MISSING_SHARD',
            fix: 'Download the model again: the index and its shards do not belong together.',
          },
        );
      }
    }
  }
  return out;
}

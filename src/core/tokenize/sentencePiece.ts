/**
 * A SentencePiece model file (spm.model, sentencepiece.bpe.model: a ModelProto protobuf) converted to the
 * tokenizer.json that Hugging Face's `convert_slow_tokenizer` builds from it for the DeBERTa-v2/v3 and XLM-RoBERTa
 * tokenizers: a Unigram (or BPE) model over the pieces, the Precompiled normalizer with the model's charsmap, the
 * Metaspace pre-tokenizer ('▁' for spaces) and the family's special-token template.
 */
import { int32, protoFields, protoString, WIRE_BYTES, WIRE_FIXED32, WIRE_VARINT } from './protobuf';
import { addedTokens, specialTokens, type SpecialTokenRole } from './specialTokens';

/** ModelProto.SentencePiece.Type */
const PIECE_CONTROL = 3;
const PIECE_USER_DEFINED = 4;
/** TrainerSpec.ModelType */
export const SPM_UNIGRAM = 1;
export const SPM_BPE = 2;

export interface SentencePiece {
  piece: string;
  score: number;
  /** NORMAL=1, UNKNOWN=2, CONTROL=3, USER_DEFINED=4, UNUSED=5, BYTE=6 */
  type: number;
}

export interface SentencePieceModel {
  pieces: SentencePiece[];
  /** UNIGRAM=1, BPE=2, WORD=3, CHAR=4 */
  modelType: number;
  unkId: number;
  unkPiece: string;
  byteFallback: boolean;
  /** NormalizerSpec: its rule name (nmt_nfkc, identity, …) and the compiled rules ("" / empty when none). */
  normalizerName: string;
  precompiledCharsmap: Uint8Array;
}

/** Parses the ModelProto fields a conversion needs; throws on a file that is not one. */
export function parseSentencePieceModel(bytes: Uint8Array): SentencePieceModel {
  const model: SentencePieceModel = {
    pieces: [],
    modelType: SPM_UNIGRAM,
    unkId: 0,
    unkPiece: '<unk>',
    byteFallback: false,
    normalizerName: '',
    precompiledCharsmap: new Uint8Array(0),
  };
  for (const f of protoFields(bytes)) {
    if (f.field === 1 && f.wire === WIRE_BYTES) model.pieces.push(parsePiece(f.bytes));
    else if (f.field === 2 && f.wire === WIRE_BYTES) {
      for (const t of protoFields(f.bytes)) {
        if (t.wire === WIRE_VARINT && t.field === 3) model.modelType = t.varint;
        else if (t.wire === WIRE_VARINT && t.field === 35) model.byteFallback = t.varint !== 0;
        else if (t.wire === WIRE_VARINT && t.field === 40) model.unkId = int32(t.varint);
        else if (t.wire === WIRE_BYTES && t.field === 45) model.unkPiece = protoString(t.bytes);
      }
    } else if (f.field === 3 && f.wire === WIRE_BYTES) {
      for (const n of protoFields(f.bytes)) {
        if (n.wire !== WIRE_BYTES) continue;
        if (n.field === 1) model.normalizerName = protoString(n.bytes);
        else if (n.field === 2) model.precompiledCharsmap = n.bytes;
      }
    }
  }
  if (model.pieces.length === 0) throw new Error('no pieces: this is not a SentencePiece model');
  if (model.unkId < 0 || model.unkId >= model.pieces.length) throw new Error(`unk_id ${model.unkId} out of range`);
  return model;
}

function parsePiece(bytes: Uint8Array): SentencePiece {
  const piece: SentencePiece = { piece: '', score: 0, type: 1 };
  for (const f of protoFields(bytes)) {
    if (f.field === 1 && f.wire === WIRE_BYTES) piece.piece = protoString(f.bytes);
    else if (f.field === 2 && f.wire === WIRE_FIXED32) piece.score = f.float;
    else if (f.field === 3 && f.wire === WIRE_VARINT) piece.type = f.varint;
  }
  return piece;
}

export type SentencePieceFamily = 'deberta-v2' | 'xlm-roberta';

const DEFAULT_SPECIALS: Record<SentencePieceFamily, Partial<Record<SpecialTokenRole, string>>> = {
  'deberta-v2': {
    bos_token: '[CLS]',
    eos_token: '[SEP]',
    unk_token: '[UNK]',
    sep_token: '[SEP]',
    pad_token: '[PAD]',
    cls_token: '[CLS]',
    mask_token: '[MASK]',
  },
  'xlm-roberta': {
    bos_token: '<s>',
    eos_token: '</s>',
    unk_token: '<unk>',
    sep_token: '</s>',
    pad_token: '<pad>',
    cls_token: '<s>',
    mask_token: '<mask>',
  },
};

/**
 * The family's tokenizer.json for `model`, with `config` (tokenizer_config.json) for `do_lower_case`,
 * `split_by_punct`, `add_prefix_space`, `legacy` and the special tokens, as `convert_slow_tokenizer` reads them.
 */
export function sentencePieceTokenizerJson(
  model: SentencePieceModel,
  family: SentencePieceFamily,
  config: Record<string, unknown>,
): Record<string, unknown> {
  if (model.modelType !== SPM_UNIGRAM && model.modelType !== SPM_BPE) {
    throw new Error(`model type ${model.modelType} (word or char) has no tokenizer.json equivalent`);
  }
  // XLM-R's tokenizer keeps fairseq's ids: <s> <pad> </s> <unk> first, the pieces after the first three shifted by one.
  const vocab: Array<[string, number]> =
    family === 'xlm-roberta'
      ? [
          ['<s>', 0],
          ['<pad>', 0],
          ['</s>', 0],
          ['<unk>', 0],
          ...model.pieces.slice(3).map((p): [string, number] => [p.piece, p.score]),
          ['<mask>', 0],
        ]
      : model.pieces.map((p): [string, number] => [p.piece, p.score]);
  const unkId = family === 'xlm-roberta' ? 3 : model.unkId;
  const ids = new Map<string, number>();
  vocab.forEach(([piece], i) => {
    if (!ids.has(piece)) ids.set(piece, i);
  });

  const specials = specialTokens(config, DEFAULT_SPECIALS[family]);
  let next = vocab.length;
  const added = addedTokens(
    [
      // SentencePiece's control symbols are special; its user-defined symbols are matched before the model, not special.
      ...model.pieces
        .filter((p) => p.type === PIECE_CONTROL || p.type === PIECE_USER_DEFINED)
        .map((p) => ({ content: p.piece, special: p.type === PIECE_CONTROL })),
      ...[...specials.values()].map((s) => ({ ...s, special: true })),
    ],
    (content) => ids.get(content),
    () => next++,
  );
  const idOf = (role: SpecialTokenRole): [string, number] => {
    const content = specials.get(role)?.content;
    const id = content === undefined ? undefined : (added.find((t) => t.content === content)?.id ?? ids.get(content));
    if (content === undefined || id === undefined) throw new Error(`no ${role} for the ${family} template`);
    return [content, id];
  };
  const [cls, clsId] = idOf('cls_token');
  const [sep, sepId] = idOf('sep_token');

  const charsmap =
    model.precompiledCharsmap.length > 0 ? Buffer.from(model.precompiledCharsmap).toString('base64') : '';
  const precompiled = charsmap ? [{ type: 'Precompiled', precompiled_charsmap: charsmap }] : [];
  const normalizers =
    family === 'deberta-v2'
      ? [
          ...(config.do_lower_case === true ? [{ type: 'Lowercase' }] : []),
          { type: 'Strip', strip_left: true, strip_right: true },
          ...precompiled,
          { type: 'Replace', pattern: { Regex: ' {2,}' }, content: ' ' },
        ]
      : [
          ...precompiled,
          { type: 'Strip', strip_left: false, strip_right: true },
          { type: 'Replace', pattern: { Regex: ' {2,}' }, content: '\u2581' },
        ];

  const addPrefixSpace = config.add_prefix_space === undefined ? true : config.add_prefix_space === true;
  const prependScheme = !addPrefixSpace ? 'never' : config.legacy === false ? 'first' : 'always';
  const metaspace = { type: 'Metaspace', replacement: '\u2581', prepend_scheme: prependScheme, split: true };
  const preTokenizers = [
    ...(family === 'deberta-v2' && config.split_by_punct === true
      ? [{ type: 'Punctuation', behavior: 'Isolated' }]
      : []),
    metaspace,
  ];

  const special = (t: string, typeId: number) => ({ SpecialToken: { id: t, type_id: typeId } });
  const sequence = (id: 'A' | 'B', typeId: number) => ({ Sequence: { id, type_id: typeId } });
  const postProcessor =
    family === 'deberta-v2'
      ? {
          type: 'TemplateProcessing',
          single: [special(cls, 0), sequence('A', 0), special(sep, 0)],
          pair: [special(cls, 0), sequence('A', 0), special(sep, 0), sequence('B', 1), special(sep, 1)],
          special_tokens: {
            [cls]: { id: cls, ids: [clsId], tokens: [cls] },
            [sep]: { id: sep, ids: [sepId], tokens: [sep] },
          },
        }
      : {
          type: 'TemplateProcessing',
          single: [special(cls, 0), sequence('A', 0), special(sep, 0)],
          pair: [
            special(cls, 0),
            sequence('A', 0),
            special(sep, 0),
            special(sep, 0),
            sequence('B', 0),
            special(sep, 0),
          ],
          special_tokens: {
            [cls]: { id: cls, ids: [clsId], tokens: [cls] },
            [sep]: { id: sep, ids: [sepId], tokens: [sep] },
          },
        };

  const modelJson =
    model.modelType === SPM_UNIGRAM
      ? { type: 'Unigram', unk_id: unkId, vocab, byte_fallback: false }
      : {
          type: 'BPE',
          dropout: null,
          unk_token: vocab[unkId][0],
          continuing_subword_prefix: null,
          end_of_word_suffix: null,
          fuse_unk: true,
          byte_fallback: false,
          ignore_merges: false,
          vocab: Object.fromEntries(ids),
          merges: sentencePieceMerges(model, vocab),
        };

  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: added,
    normalizer: { type: 'Sequence', normalizers },
    pre_tokenizer: preTokenizers.length === 1 ? metaspace : { type: 'Sequence', pretokenizers: preTokenizers },
    post_processor: postProcessor,
    decoder: { type: 'Metaspace', replacement: '\u2581', prepend_scheme: prependScheme, split: true },
    model: modelJson,
  };
}

/**
 * BPE merges recovered from a SentencePiece BPE model as transformers' `generate_merges` does: every split of a
 * piece into two pieces, ranked by the merged piece's score (higher first), then the longer left and right parts.
 */
function sentencePieceMerges(model: SentencePieceModel, vocab: Array<[string, number]>): string[] {
  const spmIds = new Map<string, number>();
  model.pieces.forEach((p, i) => {
    if (!spmIds.has(p.piece)) spmIds.set(p.piece, i);
  });
  const merges: Array<{ left: string; right: string; score: number; leftLength: number; rightLength: number }> = [];
  const seen = new Set<string>();
  for (const [piece, score] of vocab) {
    if (seen.has(piece)) continue;
    seen.add(piece);
    const chars = Array.from(piece);
    const local: typeof merges = [];
    for (let i = 1; i < chars.length; i++) {
      const left = chars.slice(0, i).join('');
      const right = chars.slice(i).join('');
      if (spmIds.has(left) && spmIds.has(right)) {
        local.push({ left, right, score, leftLength: i, rightLength: chars.length - i });
      }
    }
    local.sort((a, b) => spmIds.get(a.left)! - spmIds.get(b.left)! || spmIds.get(a.right)! - spmIds.get(b.right)!);
    merges.push(...local);
  }
  // Array.prototype.sort is stable, as Python's sorted(..., reverse=True) is for equal keys.
  merges.sort((a, b) => b.score - a.score || b.leftLength - a.leftLength || b.rightLength - a.rightLength);
  return merges.map((m) => `${m.left} ${m.right}`);
}

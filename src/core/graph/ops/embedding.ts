/** Embedding lookup (row gather). */
import { GraphError } from '../../errors';
import { dimProduct } from '../dims';
import { Graph, Value, expectDType, expectRank } from '../graph';
import { binary, cast, reshapeTo } from '../raw';

/**
 * y[..., :] = table[ids[...], :].
 * Backward: d table = zeros with each row of dy added into row ids[i], so repeated ids accumulate. This is
 * ScatterElements (reduction 'add') over the ids broadcast along the row, not ScatterND: onnxruntime's CPU ScatterND
 * splits the updates across threads that add into the same rows without synchronisation, which loses updates of
 * repeated ids (token types, positions, frequent words) whenever it runs on more than one thread.
 * With `paddingIdx` (torch's nn.Embedding(padding_idx), as HF's word embeddings have), that row gets no gradient:
 * the rows of dy whose id is the padding index are zeroed before the scatter.
 */
export function embedding(g: Graph, table: Value, ids: Value, paddingIdx?: number): Value {
  expectRank('embedding', table, 2);
  expectDType('embedding', ids, 'int64');
  expectDType('embedding', table, 'float32');
  const H = table.shape[1];
  if (typeof table.shape[0] !== 'number' || typeof H !== 'number') {
    throw new GraphError(`embedding: the table ${table.toString()} must have a static shape.`);
  }
  if (paddingIdx !== undefined && !(Number.isInteger(paddingIdx) && paddingIdx >= 0 && paddingIdx < table.shape[0])) {
    throw new GraphError(`embedding: padding index ${paddingIdx} is not a row of ${table.toString()}.`);
  }
  const y = g.node1('Gather', [table, ids], { dtype: 'float32', shape: [...ids.shape, H] }, { axis: 0 });
  g.record([table, ids], [y], ([dy]) => {
    const n = dimProduct(ids.shape);
    const flatIds = reshapeTo(g, ids, [n, 1]);
    const zeros = g.node1('ConstantOfShape', [g.constInt64(table.shape as number[])], {
      dtype: 'float32',
      shape: table.shape,
    });
    const index = g.node1('Expand', [flatIds, g.constInt64([1, H])], { dtype: 'int64', shape: [n, H] });
    let updates = reshapeTo(g, dy!, [n, H]);
    if (paddingIdx !== undefined) {
      const isPad = g.node1('Equal', [flatIds, g.constInt64([paddingIdx], [])], { dtype: 'bool', shape: [n, 1] });
      updates = binary(
        g,
        'Mul',
        updates,
        cast(g, g.node1('Not', [isPad], { dtype: 'bool', shape: [n, 1] }), 'float32'),
      );
    }
    return [
      g.node1(
        'ScatterElements',
        [zeros, index, updates],
        { dtype: 'float32', shape: table.shape },
        { axis: 0, reduction: 'add' },
      ),
      null,
    ];
  });
  return y;
}

/** Embedding lookup (row gather). */
import { GraphError } from '../../errors';
import { dimProduct } from '../dims';
import { Graph, Value, expectDType, expectRank } from '../graph';
import { reshapeTo } from '../raw';

/**
 * y[..., :] = table[ids[...], :].
 * Backward: d table = zeros with each row of dy added into row ids[i], so repeated ids accumulate. This is
 * ScatterElements (reduction 'add') over the ids broadcast along the row, not ScatterND: onnxruntime's CPU ScatterND
 * splits the updates across threads that add into the same rows without synchronisation, which loses updates of
 * repeated ids (token types, positions, frequent words) whenever it runs on more than one thread.
 */
export function embedding(g: Graph, table: Value, ids: Value): Value {
  expectRank('embedding', table, 2);
  expectDType('embedding', ids, 'int64');
  expectDType('embedding', table, 'float32');
  const H = table.shape[1];
  if (typeof table.shape[0] !== 'number' || typeof H !== 'number') {
    throw new GraphError(`embedding: the table ${table.toString()} must have a static shape.`);
  }
  const y = g.node1('Gather', [table, ids], { dtype: 'float32', shape: [...ids.shape, H] }, { axis: 0 });
  g.record([table, ids], [y], ([dy]) => {
    const n = dimProduct(ids.shape);
    const zeros = g.node1('ConstantOfShape', [g.constInt64(table.shape as number[])], { dtype: 'float32', shape: table.shape });
    const index = g.node1('Expand', [reshapeTo(g, ids, [n, 1]), g.constInt64([1, H])], { dtype: 'int64', shape: [n, H] });
    const updates = reshapeTo(g, dy!, [n, H]);
    return [g.node1('ScatterElements', [zeros, index, updates], { dtype: 'float32', shape: table.shape }, { axis: 0, reduction: 'add' }), null];
  });
  return y;
}

/** Softmax cross-entropy, torch semantics (mean, or weighted mean with class weights). */
import { GraphError } from '../../errors';
import { sameDim } from '../dims';
import { Graph, Value, expectDType, expectRank } from '../graph';
import { binary, reduce, reshapeTo, unary } from '../raw';

/**
 * loss = sum_i w[y_i] * -log softmax(logits_i)[y_i]  /  sum_i w[y_i]   (w = 1 without class weights: the plain mean).
 * Backward: d logits_i = (softmax(logits_i) - onehot(y_i)) * w[y_i] / sum_j w[y_j]  (times d loss).
 */
export function crossEntropy(g: Graph, logits: Value, labels: Value, classWeights: Value | null): Value {
  expectRank('crossEntropy', logits, 2);
  expectDType('crossEntropy', labels, 'int64');
  expectRank('crossEntropy', labels, 1);
  const [B, C] = logits.shape;
  if (!sameDim(labels.shape[0], B))
    throw new GraphError(`crossEntropy: labels ${labels.toString()} do not match logits ${logits.toString()}.`);
  if (typeof C !== 'number')
    throw new GraphError(`crossEntropy: the class count of ${logits.toString()} must be static.`);
  if (classWeights && (classWeights.shape.length !== 1 || !sameDim(classWeights.shape[0], C))) {
    throw new GraphError(`crossEntropy: class weights ${classWeights.toString()} must have shape [${C}].`);
  }
  const [loss, logProb] = g.node(
    'SoftmaxCrossEntropyLoss',
    classWeights ? [logits, labels, classWeights] : [logits, labels],
    [
      { dtype: 'float32', shape: [] },
      { dtype: 'float32', shape: [B, C] },
    ],
    { reduction: 'mean' },
  );
  g.record([logits, labels, classWeights], [loss], ([dLoss]) => {
    const weights = classWeights ?? g.constFloat(new Array<number>(C).fill(1));
    const onehot = g.node1(
      'OneHot',
      [labels, g.constInt64([C], []), g.constFloat([0, 1])],
      { dtype: 'float32', shape: [B, C] },
      { axis: -1 },
    );
    const w = g.node1('Gather', [weights, labels], { dtype: 'float32', shape: [B] }, { axis: 0 });
    const wNorm = reshapeTo(g, binary(g, 'Div', w, reduce(g, 'ReduceSum', w, [0], false)), [B, 1]);
    const dLogits = binary(g, 'Mul', binary(g, 'Sub', unary(g, 'Exp', logProb), onehot), wNorm);
    return [binary(g, 'Mul', dLogits, dLoss!), null, null];
  });
  return loss;
}

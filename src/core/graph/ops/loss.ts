/**
 * Softmax cross-entropy, torch semantics (mean, or weighted mean with class weights; optional label smoothing), the
 * mean squared error of a regression head, and the binary cross-entropy with logits of a multi-label head.
 */
import { GraphError } from '../../errors';
import { sameDim } from '../dims';
import { Graph, Value, expectDType, expectRank } from '../graph';
import { binary, cast, reduce, reshapeTo, scaleBy, unary } from '../raw';

/**
 * torch.nn.CrossEntropyLoss(weight=w, label_smoothing=ε), reduction 'mean' (w = 1 without class weights):
 *   nll    = sum_i w[y_i] * -log p_i[y_i]            / W,   W = sum_i w[y_i],  p_i = softmax(logits_i)
 *   smooth = sum_i sum_c w[c] * -log p_i[c]          / W
 *   loss   = (1 - ε) nll + (ε / C) smooth
 * Backward: d logits_i = ((1 - ε) w[y_i] (p_i - onehot(y_i)) + (ε / C) (p_i sum_c w[c] - w)) / W  (times d loss).
 * With ε = 0 the graph is the plain (weighted) cross-entropy, node for node.
 */
export function crossEntropy(
  g: Graph,
  logits: Value,
  labels: Value,
  classWeights: Value | null,
  labelSmoothing = 0,
): Value {
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
  if (!(labelSmoothing >= 0 && labelSmoothing <= 1)) {
    throw new GraphError(`crossEntropy: label smoothing ${labelSmoothing} is outside [0, 1].`);
  }
  const eps = labelSmoothing;
  const [nll, logProb] = g.node(
    'SoftmaxCrossEntropyLoss',
    classWeights ? [logits, labels, classWeights] : [logits, labels],
    [
      { dtype: 'float32', shape: [] },
      { dtype: 'float32', shape: [B, C] },
    ],
    { reduction: 'mean' },
  );
  const weightsOf = (): Value => classWeights ?? g.constFloat(new Array<number>(C).fill(1));
  /** w[y_i] per row, [B]. */
  const labelWeights = (w: Value): Value =>
    g.node1('Gather', [w, labels], { dtype: 'float32', shape: [B] }, { axis: 0 });
  let loss = nll;
  if (eps > 0) {
    const w = weightsOf();
    const total = reduce(g, 'ReduceSum', labelWeights(w), [0], false);
    const smooth = unary(g, 'Neg', reduce(g, 'ReduceSum', binary(g, 'Mul', logProb, w), [0, 1], false));
    loss = binary(g, 'Add', scaleBy(g, nll, 1 - eps), scaleBy(g, binary(g, 'Div', smooth, total), eps / C));
  }
  g.record([logits, labels, classWeights], [loss], ([dLoss]) => {
    const w = weightsOf();
    const onehot = g.node1(
      'OneHot',
      [labels, g.constInt64([C], []), g.constFloat([0, 1])],
      { dtype: 'float32', shape: [B, C] },
      { axis: -1 },
    );
    const wY = labelWeights(w);
    const total = reduce(g, 'ReduceSum', wY, [0], false);
    const wNorm = reshapeTo(g, binary(g, 'Div', wY, total), [B, 1]);
    const p = unary(g, 'Exp', logProb);
    let dLogits = binary(g, 'Mul', binary(g, 'Sub', p, onehot), wNorm);
    if (eps > 0) {
      const sumW = reduce(g, 'ReduceSum', w, [0], false);
      const spread = binary(g, 'Div', binary(g, 'Sub', binary(g, 'Mul', p, sumW), w), total);
      dLogits = binary(g, 'Add', scaleBy(g, dLogits, 1 - eps), scaleBy(g, spread, eps / C));
    }
    return [binary(g, 'Mul', dLogits, dLoss!), null, null];
  });
  return loss;
}

/**
 * torch.nn.MSELoss() on a regression head, as HF BertForSequenceClassification with problem_type "regression"
 * (num_labels 1): loss = mean_i (pred_i - y_i)^2 over pred = logits.squeeze(), logits [B, 1], targets float [B].
 * Backward: d logits_i = 2 (pred_i - y_i) / B (times d loss); B is read at run time (the batch axis is symbolic).
 */
export function mseLoss(g: Graph, logits: Value, targets: Value): Value {
  expectRank('mseLoss', logits, 2);
  expectDType('mseLoss', targets, 'float32');
  expectRank('mseLoss', targets, 1);
  const [B, one] = logits.shape;
  if (one !== 1) throw new GraphError(`mseLoss: a regression head has one output; got ${logits.toString()}.`);
  if (!sameDim(targets.shape[0], B))
    throw new GraphError(`mseLoss: targets ${targets.toString()} do not match logits ${logits.toString()}.`);
  const diff = binary(g, 'Sub', reshapeTo(g, logits, [B]), targets);
  const loss = reduce(g, 'ReduceMean', binary(g, 'Mul', diff, diff), [0], false);
  g.record([logits, targets], [loss], ([dLoss]) => {
    const rows = cast(g, g.node1('Shape', [diff], { dtype: 'int64', shape: [1] }), 'float32');
    const dPred = binary(g, 'Mul', binary(g, 'Div', scaleBy(g, diff, 2), rows), dLoss!);
    return [reshapeTo(g, dPred, [B, 1]), null];
  });
  return loss;
}

/**
 * torch.nn.BCEWithLogitsLoss(pos_weight=p), reduction 'mean' over every (row, label), as HF
 * BertForSequenceClassification with problem_type "multi_label_classification" (which uses no pos_weight: p = 1).
 * Logits [B, C], targets float [B, C] (0/1, or soft), posWeight [C] or null. In the numerically stable form torch uses:
 *   l = (1 - y) x + w (max(-x, 0) + log(1 + exp(-|x|))),   w = 1 + (p - 1) y
 * which for p = 1 is max(x, 0) - x y + log(1 + exp(-|x|)): exp never sees a positive argument.
 * Backward: d x = ((1 - y) - w sigmoid(-x)) / (B C) (times d loss); B is read at run time (the batch axis is symbolic).
 */
export function bceWithLogits(g: Graph, logits: Value, targets: Value, posWeight: Value | null): Value {
  expectRank('bceWithLogits', logits, 2);
  expectDType('bceWithLogits', targets, 'float32');
  expectRank('bceWithLogits', targets, 2);
  const [B, C] = logits.shape;
  if (!sameDim(targets.shape[0], B) || !sameDim(targets.shape[1], C))
    throw new GraphError(`bceWithLogits: targets ${targets.toString()} do not match logits ${logits.toString()}.`);
  if (posWeight && (posWeight.shape.length !== 1 || !sameDim(posWeight.shape[0], C))) {
    throw new GraphError(`bceWithLogits: positive weights ${posWeight.toString()} must have shape [${String(C)}].`);
  }
  const one = g.constFloat(1);
  const softplusNegAbs = unary(
    g,
    'Log',
    binary(g, 'Add', one, unary(g, 'Exp', unary(g, 'Neg', unary(g, 'Abs', logits)))),
  );
  // w = 1 + (p - 1) y, [B, C]; none without positive weights.
  const w = posWeight ? binary(g, 'Add', one, binary(g, 'Mul', binary(g, 'Sub', posWeight, one), targets)) : null;
  const elementwise = w
    ? binary(
        g,
        'Add',
        binary(g, 'Mul', binary(g, 'Sub', one, targets), logits),
        binary(g, 'Mul', w, binary(g, 'Add', unary(g, 'Relu', unary(g, 'Neg', logits)), softplusNegAbs)),
      )
    : binary(g, 'Add', binary(g, 'Sub', unary(g, 'Relu', logits), binary(g, 'Mul', logits, targets)), softplusNegAbs);
  const loss = reduce(g, 'ReduceMean', elementwise, [0, 1], false);
  g.record([logits, targets, posWeight], [loss], ([dLoss]) => {
    const dims = cast(g, g.node1('Shape', [logits], { dtype: 'int64', shape: [2] }), 'float32');
    const count = reduce(g, 'ReduceProd', dims, [0], false);
    const below = unary(g, 'Sigmoid', unary(g, 'Neg', logits));
    const dx = binary(g, 'Sub', binary(g, 'Sub', one, targets), w ? binary(g, 'Mul', w, below) : below);
    return [binary(g, 'Mul', binary(g, 'Div', dx, count), dLoss!), null, null];
  });
  return loss;
}

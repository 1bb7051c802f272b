/** Graph -> ONNX ModelProto bytes (onnx-proto). Opset 18 standard domain, plus com.microsoft for the fused Gelu. */
import { onnx } from 'onnx-proto';
import { AttrValue, DType, Graph, Value } from './graph';

export const OPSET = 18;
const DTYPE_CODE: Record<DType, number> = { float32: 1, int32: 6, int64: 7, uint32: 12, bool: 9 };
const A = onnx.AttributeProto.AttributeType;

function valueInfo(v: Value): onnx.IValueInfoProto {
  return {
    name: v.name,
    type: {
      tensorType: {
        elemType: DTYPE_CODE[v.dtype],
        shape: { dim: v.shape.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
      },
    },
  };
}

function attribute(name: string, v: AttrValue): onnx.IAttributeProto {
  if (typeof v === 'number') return { name, type: A.INT, i: v };
  if (typeof v === 'string') return { name, type: A.STRING, s: Buffer.from(v) };
  if ('float' in v) return { name, type: A.FLOAT, f: v.float };
  if ('graph' in v) return { name, type: A.GRAPH, g: graphProto(v.graph, `${name}_graph`) };
  return { name, type: A.INTS, ints: [...v] };
}

export function graphProto(g: Graph, name: string): onnx.IGraphProto {
  return {
    name,
    node: g.nodes.map((n, i) => ({
      opType: n.op,
      domain: n.domain,
      name: `${n.op}_${i}`,
      input: n.inputs.map((v) => (v ? v.name : '')),
      output: n.outputs.map((v) => v.name),
      attribute: Object.entries(n.attrs).map(([k, v]) => attribute(k, v)),
    })),
    initializer: g.initializers.map(({ value, data }) => ({
      name: value.name,
      dataType: DTYPE_CODE[value.dtype],
      dims: value.shape as number[],
      rawData: new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
    })),
    input: g.inputs.map(valueInfo),
    output: g.outputs.map(valueInfo),
  };
}

export function toModelBytes(g: Graph, producer = 'bertft'): Uint8Array {
  // encode() takes the plain object directly; fromObject() would copy every weight once more.
  const model: onnx.IModelProto = {
    irVersion: 8,
    producerName: producer,
    opsetImport: [
      { domain: '', version: OPSET },
      { domain: 'com.microsoft', version: 1 },
    ],
    graph: graphProto(g, 'main'),
  };
  return onnx.ModelProto.encode(model).finish();
}

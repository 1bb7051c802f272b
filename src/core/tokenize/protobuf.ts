/**
 * A minimal protobuf wire-format reader: enough to walk a message's fields (varint, 32/64-bit, length-delimited)
 * and skip those a caller does not need. Used for SentencePiece's ModelProto; no schema, no code generation.
 */

export const WIRE_VARINT = 0;
export const WIRE_FIXED64 = 1;
export const WIRE_BYTES = 2;
export const WIRE_FIXED32 = 5;

export interface ProtoField {
  field: number;
  wire: number;
  /** The value of a varint field (its low 32 bits read as int32 by `int32`), or of a fixed32 field's bits. */
  varint: number;
  /** The contents of a length-delimited field (a string, bytes or an embedded message). */
  bytes: Uint8Array;
  /** A fixed32 field read as a float. */
  float: number;
}

const utf8 = new TextDecoder('utf-8');
const EMPTY = new Uint8Array(0);

/** Every field of one message, in order. Throws on a truncated or malformed message. */
export function* protoFields(data: Uint8Array): Generator<ProtoField> {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  let pos = 0;
  const varint = (): number => {
    // Only the low 35 bits are kept: enough for every int32 (negatives are 10-byte varints) and every length here.
    let value = 0;
    for (let shift = 0; ; shift += 7) {
      if (pos >= data.length) throw new Error('truncated protobuf varint');
      if (shift >= 70) throw new Error('protobuf varint longer than 10 bytes');
      const byte = data[pos++];
      if (shift < 35) value += (byte & 0x7f) * 2 ** shift;
      if ((byte & 0x80) === 0) return value;
    }
  };
  const need = (n: number): void => {
    if (n < 0 || pos + n > data.length) throw new Error('truncated protobuf field');
  };
  while (pos < data.length) {
    const tag = varint();
    const field = Math.floor(tag / 8);
    const wire = tag % 8;
    if (field === 0) throw new Error('protobuf field number 0');
    if (wire === WIRE_VARINT) {
      yield { field, wire, varint: varint(), bytes: EMPTY, float: 0 };
    } else if (wire === WIRE_BYTES) {
      const length = varint();
      need(length);
      yield { field, wire, varint: 0, bytes: data.subarray(pos, pos + length), float: 0 };
      pos += length;
    } else if (wire === WIRE_FIXED32) {
      need(4);
      const bits = view.getUint32(pos, true);
      const float = view.getFloat32(pos, true);
      pos += 4;
      yield { field, wire, varint: bits, bytes: EMPTY, float };
    } else if (wire === WIRE_FIXED64) {
      need(8);
      pos += 8;
      yield { field, wire, varint: 0, bytes: EMPTY, float: 0 };
    } else {
      throw new Error(`unsupported protobuf wire type ${wire}`);
    }
  }
}

/** A varint field's value as protobuf's int32 (two's complement of the low 32 bits). */
export function int32(value: number): number {
  const low = value % 2 ** 32;
  return low >= 2 ** 31 ? low - 2 ** 32 : low;
}

export function protoString(bytes: Uint8Array): string {
  return utf8.decode(bytes);
}

/**
 * A Python pickle reader that builds plain data and never calls anything it was not given.
 *
 * Unpickling in Python means running a small stack program whose GLOBAL opcode imports any function and whose REDUCE
 * opcode calls it with any arguments: `os.system` is one GLOBAL away, so a pickle from the Internet is a program. This
 * reader runs the same opcodes on data only. GLOBAL (and STACK_GLOBAL) ask `resolveGlobal`, which returns the
 * caller's own value for the name (REDUCE applies only `PickleCallable`s) or throws: a name it does not know never
 * reaches the stack, so no REDUCE can apply it. Opcodes that would create or call something outside that list (INST, OBJ, NEWOBJ, the extension registry) are
 * refused.
 *
 * Values: None → null, bool → boolean, int → number (bigint beyond 2^53), float → number, str → string, bytes →
 * Uint8Array, list → array, tuple → frozen array, dict → Map. Protocols 0 to 5 are read where they build these.
 */

/** A function the caller allows: what REDUCE with it returns is `call(args)`. */
export class PickleCallable {
  constructor(
    readonly module: string,
    readonly name: string,
    readonly call: (args: readonly unknown[]) => unknown,
  ) {}
}

/** An object that BUILD may give state to (Python's `__setstate__`); nothing else accepts BUILD. */
export interface PickleBuildable {
  pickleBuild(state: unknown): void;
}

export class PickleError extends Error {
  constructor(
    message: string,
    /** Byte position of the opcode in the pickle. */
    readonly position: number,
  ) {
    super(message);
    this.name = 'PickleError';
  }
}

export interface UnpickleOptions {
  /**
   * What module.name stands for: a PickleCallable (which REDUCE may then apply) or any other value the caller
   * defines (a storage type, say), or it throws: the refusal the caller wants the user to see.
   */
  resolveGlobal: (module: string, name: string) => unknown;
  /** What a persistent id (BINPERSID, PERSID) stands for; default: refused. */
  persistentLoad?: (pid: unknown) => unknown;
}

function isBuildable(value: unknown): value is PickleBuildable {
  return typeof value === 'object' && value !== null && typeof (value as PickleBuildable).pickleBuild === 'function';
}

/** Little-endian two's complement integer of any length, as a number when it is safe, else a bigint. */
function signedLittleEndian(bytes: Uint8Array): number | bigint {
  if (bytes.length === 0) return 0;
  let value = 0n;
  for (let i = bytes.length - 1; i >= 0; i--) value = (value << 8n) | BigInt(bytes[i]);
  if (bytes[bytes.length - 1] & 0x80) value -= 1n << BigInt(8 * bytes.length);
  return value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : value;
}

/** Unpickles one pickle starting at `start`; returns its value and the position after its STOP. */
export function unpickle(data: Uint8Array, options: UnpickleOptions, start = 0): { value: unknown; end: number } {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const utf8 = new TextDecoder('utf-8', { fatal: true });
  // As in Python's unpickler, MARK starts a new stack and keeps the old one on the metastack.
  let stack: unknown[] = [];
  const metastack: unknown[][] = [];
  const memo = new Map<number, unknown>();
  let pos = start;
  let opStart = start;

  const fail = (message: string): never => {
    throw new PickleError(message, opStart);
  };
  const need = (n: number): void => {
    if (n < 0 || pos + n > data.length) fail('the pickle ends in the middle of an instruction (truncated)');
  };
  const u8 = (): number => {
    need(1);
    return data[pos++];
  };
  const u16 = (): number => {
    need(2);
    const v = view.getUint16(pos, true);
    pos += 2;
    return v;
  };
  const i32 = (): number => {
    need(4);
    const v = view.getInt32(pos, true);
    pos += 4;
    return v;
  };
  const u32 = (): number => {
    need(4);
    const v = view.getUint32(pos, true);
    pos += 4;
    return v;
  };
  const u64 = (): number => {
    need(8);
    const v = view.getBigUint64(pos, true);
    pos += 8;
    if (v > BigInt(data.length)) fail('a length points past the end of the pickle');
    return Number(v);
  };
  const bytes = (n: number): Uint8Array => {
    need(n);
    const out = data.subarray(pos, pos + n);
    pos += n;
    return out;
  };
  const text = (n: number): string => {
    const raw = bytes(n);
    try {
      return utf8.decode(raw);
    } catch {
      return fail('a string is not valid UTF-8');
    }
  };
  /** A protocol-0 line (up to \n), as Latin-1 text. */
  const line = (): string => {
    const end = data.indexOf(0x0a, pos);
    if (end < 0) fail('the pickle ends in the middle of an instruction (truncated)');
    const out = Buffer.from(data.subarray(pos, end)).toString('latin1');
    pos = end + 1;
    return out;
  };
  const decimal = (s: string): number => {
    if (!/^\d{1,15}$/.test(s)) fail('a memo index is not a number');
    return Number(s);
  };
  const pop = (): unknown => {
    if (stack.length === 0) fail('stack underflow');
    return stack.pop();
  };
  const top = (): unknown => {
    if (stack.length === 0) fail('stack underflow');
    return stack[stack.length - 1];
  };
  const popMark = (): unknown[] => {
    const items = stack;
    const previous = metastack.pop();
    if (previous === undefined) fail('no MARK to return to');
    stack = previous as unknown[];
    return items;
  };
  const tuple = (items: unknown[]): readonly unknown[] => Object.freeze(items);
  const list = (value: unknown): unknown[] => {
    if (!Array.isArray(value) || Object.isFrozen(value)) fail('APPEND to something that is not a list');
    return value as unknown[];
  };
  const dict = (value: unknown): Map<unknown, unknown> => {
    if (!(value instanceof Map)) fail('SETITEM on something that is not a dict');
    return value as Map<unknown, unknown>;
  };
  const global = (module: string, name: string): void => {
    stack.push(options.resolveGlobal(module, name));
  };
  const memoPut = (index: number): void => {
    memo.set(index, top());
  };
  const memoGet = (index: number): void => {
    if (!memo.has(index)) fail(`memo entry ${index} was never stored`);
    stack.push(memo.get(index));
  };
  const persistent = (pid: unknown): void => {
    if (!options.persistentLoad) fail('a persistent id outside a checkpoint');
    stack.push(options.persistentLoad!(pid));
  };

  for (;;) {
    opStart = pos;
    const op = u8();
    switch (op) {
      case 0x80: // PROTO
        if (u8() > 5) fail('pickle protocol newer than 5');
        break;
      case 0x95: // FRAME: a length prefix for buffering, nothing to build
        u64();
        break;
      case 0x2e: // STOP
        if (metastack.length > 0 || stack.length !== 1) fail('the pickle does not end with exactly one value');
        return { value: stack[0], end: pos };
      case 0x28: // MARK
        metastack.push(stack);
        stack = [];
        break;
      case 0x30: // POP
        if (stack.length > 0) stack.pop();
        else popMark();
        break;
      case 0x31: // POP_MARK
        popMark();
        break;
      case 0x32: // DUP
        stack.push(top());
        break;
      case 0x4e: // NONE
        stack.push(null);
        break;
      case 0x88: // NEWTRUE
        stack.push(true);
        break;
      case 0x89: // NEWFALSE
        stack.push(false);
        break;
      case 0x4a: // BININT
        stack.push(i32());
        break;
      case 0x4b: // BININT1
        stack.push(u8());
        break;
      case 0x4d: // BININT2
        stack.push(u16());
        break;
      case 0x8a: // LONG1
        stack.push(signedLittleEndian(bytes(u8())));
        break;
      case 0x8b: // LONG4
        stack.push(signedLittleEndian(bytes(i32())));
        break;
      case 0x49: {
        // INT (protocol 0): decimal digits, or 00/01 for False/True
        const s = line();
        if (s === '00' || s === '01') stack.push(s === '01');
        else if (/^[-+]?\d+$/.test(s)) stack.push(Number(s));
        else fail('INT is not a number');
        break;
      }
      case 0x47: // BINFLOAT (big-endian double)
        need(8);
        stack.push(view.getFloat64(pos, false));
        pos += 8;
        break;
      case 0x58: // BINUNICODE
        stack.push(text(u32()));
        break;
      case 0x8c: // SHORT_BINUNICODE
        stack.push(text(u8()));
        break;
      case 0x8d: // BINUNICODE8
        stack.push(text(u64()));
        break;
      case 0x54: // BINSTRING (Python 2 str)
        stack.push(Buffer.from(bytes(i32())).toString('latin1'));
        break;
      case 0x55: // SHORT_BINSTRING
        stack.push(Buffer.from(bytes(u8())).toString('latin1'));
        break;
      case 0x42: // BINBYTES
        stack.push(new Uint8Array(bytes(u32())));
        break;
      case 0x43: // SHORT_BINBYTES
        stack.push(new Uint8Array(bytes(u8())));
        break;
      case 0x8e: // BINBYTES8
        stack.push(new Uint8Array(bytes(u64())));
        break;
      case 0x29: // EMPTY_TUPLE
        stack.push(tuple([]));
        break;
      case 0x74: {
        // TUPLE (popMark replaces `stack`: the items are taken before anything is pushed)
        const items = popMark();
        stack.push(tuple(items));
        break;
      }
      case 0x85: // TUPLE1
        stack.push(tuple([pop()]));
        break;
      case 0x86: {
        // TUPLE2
        const b = pop();
        stack.push(tuple([pop(), b]));
        break;
      }
      case 0x87: {
        // TUPLE3
        const c = pop();
        const b = pop();
        stack.push(tuple([pop(), b, c]));
        break;
      }
      case 0x5d: // EMPTY_LIST
        stack.push([]);
        break;
      case 0x6c: {
        // LIST
        const items = popMark();
        stack.push(items);
        break;
      }
      case 0x61: {
        // APPEND
        const item = pop();
        list(top()).push(item);
        break;
      }
      case 0x65: {
        // APPENDS
        const items = popMark();
        list(top()).push(...items);
        break;
      }
      case 0x7d: // EMPTY_DICT
        stack.push(new Map());
        break;
      case 0x64: {
        // DICT
        const items = popMark();
        const d = new Map<unknown, unknown>();
        for (let i = 0; i + 1 < items.length; i += 2) d.set(items[i], items[i + 1]);
        stack.push(d);
        break;
      }
      case 0x73: {
        // SETITEM
        const value = pop();
        const key = pop();
        dict(top()).set(key, value);
        break;
      }
      case 0x75: {
        // SETITEMS
        const items = popMark();
        if (items.length % 2 !== 0) fail('SETITEMS with an odd number of items');
        const d = dict(top());
        for (let i = 0; i < items.length; i += 2) d.set(items[i], items[i + 1]);
        break;
      }
      case 0x71: // BINPUT
        memoPut(u8());
        break;
      case 0x72: // LONG_BINPUT
        memoPut(u32());
        break;
      case 0x94: // MEMOIZE
        memoPut(memo.size);
        break;
      case 0x70: // PUT (protocol 0)
        memoPut(decimal(line()));
        break;
      case 0x68: // BINGET
        memoGet(u8());
        break;
      case 0x6a: // LONG_BINGET
        memoGet(u32());
        break;
      case 0x67: // GET (protocol 0)
        memoGet(decimal(line()));
        break;
      case 0x63: {
        // GLOBAL: "module\nname\n"
        const module = line();
        global(module, line());
        break;
      }
      case 0x93: {
        // STACK_GLOBAL
        const name = pop();
        const module = pop();
        if (typeof module !== 'string' || typeof name !== 'string') fail('STACK_GLOBAL of something not a name');
        global(module as string, name as string);
        break;
      }
      case 0x52: {
        // REDUCE: callable(*args), only ever one of resolveGlobal's
        const args = pop();
        const callable = pop();
        if (!(callable instanceof PickleCallable)) fail('REDUCE of something that is not an allowed callable');
        if (!Array.isArray(args)) fail('REDUCE with arguments that are not a tuple');
        stack.push((callable as PickleCallable).call(args as unknown[]));
        break;
      }
      case 0x62: {
        // BUILD
        const state = pop();
        const target = top();
        if (!isBuildable(target)) fail('BUILD on an object that takes no state');
        (target as PickleBuildable).pickleBuild(state);
        break;
      }
      case 0x51: // BINPERSID
        persistent(pop());
        break;
      case 0x50: // PERSID (protocol 0)
        persistent(line());
        break;
      case 0x69: {
        // INST: a global called with the marked items; named first, so a forbidden one is refused by its name
        const module = line();
        const name = line();
        options.resolveGlobal(module, name);
        fail(`INST of ${module}.${name} is not supported`);
        break;
      }
      default:
        fail(`pickle opcode 0x${op.toString(16).padStart(2, '0')} is not supported`);
    }
  }
}

/**
 * A full garbage collection on demand. onnxruntime-node returns every output of a run as a fresh copy; for a large
 * model the copies of one train step are as large as the whole training state, and V8's own heuristics may keep them
 * until well into the next step, which raises the peak memory by that much. Node offers gc() only behind
 * --expose-gc; this turns the flag on at run time and takes gc() from a fresh context (the way Jest does).
 */
import * as v8 from 'node:v8';
import * as vm from 'node:vm';

let gc: (() => void) | undefined;

export function collectGarbage(): void {
  if (!gc) {
    v8.setFlagsFromString('--expose-gc');
    gc = vm.runInNewContext('gc') as () => void;
  }
  gc();
}

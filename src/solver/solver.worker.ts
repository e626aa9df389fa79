/** Web Worker entry: runs the SPASE solver off the page's main thread. */
import { handleMessage } from './handler';
import type { WorkerRequest } from './protocol';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
const ctx: any = self;
ctx.onmessage = (ev: { data: WorkerRequest }) => {
  void handleMessage(ev.data, m => ctx.postMessage(m));
};

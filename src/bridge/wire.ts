/**
 * Wire types between the TypeScript side and the Python bridge. The source of truth is
 * `schema/wire/bridge.schema.json`; `wire-types.ts` is generated from it (scripts/wire-types.js, checked by jest).
 */
import type { Request } from './wire-types';

export type * from './wire-types';

/** A request as a caller writes it: the client adds `v` and `id`. */
export type RequestBody = Request extends infer R ? (R extends unknown ? Omit<R, 'v' | 'id'> : never) : never;

export const BRIDGE_PROTOCOL_VERSION = 1;
/** The comm target the bridge kernel registers (`python_bridge/saturn/bridge/comm_adapter.py`). */
export const BRIDGE_COMM_TARGET = 'saturn.bridge';

export interface IBridgeErrorInfo {
  message: string;
  hint?: string;
}

export interface BridgeRequest {
  v: number;
  type: string;
  [key: string]: unknown;
}

export interface BridgeReply {
  v: number;
  ok: boolean;
  error?: IBridgeErrorInfo;
  [key: string]: unknown;
}

export interface BridgeEvent {
  type: string;
  [key: string]: unknown;
}

export interface IHelloReply extends BridgeReply {
  wire_version: number;
  saturn_version: string;
  pid: number;
  store: string;
  device_kind: string;
  schema_version: number;
}

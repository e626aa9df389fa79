/**
 * Wire types between the frontend and the Python bridge. The source of truth is
 * `schema/wire/bridge.schema.json`; these types mirror it and a jest test checks samples of
 * each against that schema.
 */
export const BRIDGE_PROTOCOL_VERSION = 1;

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

import * as React from 'react';
import { IDevice, INodeInfo } from '../models/interfaces';
import { NodeList } from './node-list';

export type { IDevice } from '../models/interfaces';

function gib(bytes?: number | null): string {
  return bytes === null || bytes === undefined ? '–' : `${(bytes / 2 ** 30).toFixed(1)} GiB`;
}

/** The devices the bridge schedules on: real GPUs, or declared CPU "GPUs", with the memory in use. */
export function DeviceList(props: {
  devices: IDevice[] | null;
  busy?: ReadonlyMap<number, string>;
  /** SLURM backend: the cluster's nodes, shown as node groups instead of this machine's devices. */
  nodes?: INodeInfo[] | null;
  /** Notices about the devices (shown once above the list, not as errors). */
  notices?: readonly string[];
}): JSX.Element {
  const { devices, busy, nodes, notices } = props;
  if (nodes) {
    return <NodeList nodes={nodes} />;
  }
  if (devices === null) {
    return <p className="jp-Saturn-muted">Devices: waiting for the bridge…</p>;
  }
  if (devices.length === 0) {
    return (
      <p className="jp-Saturn-muted">
        No GPU found. Declare CPU workers with <code>SATURN_FAKE_GPUS=4</code> before starting Jupyter.
      </p>
    );
  }
  return (
    <>
      {notices?.length ? (
        <div className="jp-Saturn-notice" role="note" aria-label="Device notice">
          {notices.map(n => (
            <p key={n}>{n}</p>
          ))}
        </div>
      ) : null}
      <ul className="jp-Saturn-devices" aria-label="Devices">
        {devices.map(d => {
          const total = d.memory_total_bytes ?? 0;
          const used = d.memory_used_bytes ?? 0;
          const pct = total > 0 ? Math.min(100, (100 * used) / total) : 0;
          const job = busy?.get(d.id);
          return (
            <li key={d.id} className="jp-Saturn-device" data-saturn-device={d.id}>
              <span className="jp-Saturn-deviceId">
                {d.kind === 'cpu' ? 'CPU' : 'GPU'} {d.id}
              </span>
              <span className="jp-Saturn-deviceName" title={d.name}>
                {job ? <span className="jp-Saturn-deviceJob">running {job}</span> : d.name}
              </span>
              {total ? (
                <span className="jp-Saturn-deviceMem" title={`Memory in use: ${gib(used)} of ${gib(total)}`}>
                  <span className="jp-Saturn-meter" aria-hidden="true">
                    <span className="jp-Saturn-meterFill" style={{ width: `${pct}%` }} />
                  </span>
                  {gib(used)} / {gib(total)}
                </span>
              ) : null}
            </li>
          );
        })}
      </ul>
    </>
  );
}

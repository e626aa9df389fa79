import * as React from 'react';

export interface IDevice {
  id: number;
  name: string;
  kind: string;
  memory_total_bytes?: number | null;
  memory_used_bytes?: number | null;
}

function gib(bytes?: number | null): string {
  return bytes === null || bytes === undefined ? '–' : `${(bytes / 2 ** 30).toFixed(1)} GiB`;
}

/** The devices the bridge schedules on: real GPUs, or declared CPU "GPUs". */
export function DeviceList(props: { devices: IDevice[] | null }): JSX.Element {
  const { devices } = props;
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
    <ul className="jp-Saturn-devices" aria-label="Devices">
      {devices.map(d => (
        <li key={d.id} className="jp-Saturn-device" data-saturn-device={d.id}>
          <span className="jp-Saturn-deviceId">
            {d.kind === 'cpu' ? 'CPU' : 'GPU'} {d.id}
          </span>
          <span className="jp-Saturn-deviceName">{d.name}</span>
          {d.memory_total_bytes ? (
            <span className="jp-Saturn-deviceMem">
              {gib(d.memory_used_bytes)} / {gib(d.memory_total_bytes)}
            </span>
          ) : null}
        </li>
      ))}
    </ul>
  );
}

import * as React from 'react';
import { INodeInfo } from '../models/interfaces';

/** The SLURM cluster as node groups: GPUs per node, state, and nodes that take no work (their jobs move). */
export function NodeList(props: { nodes: INodeInfo[] }): JSX.Element {
  const { nodes } = props;
  if (nodes.length === 0) {
    return <p className="jp-Saturn-muted">SLURM reports no node in this partition: check the partition in Settings &gt; Saturn.</p>;
  }
  const total = nodes.filter(n => n.usable).reduce((sum, n) => sum + n.gpus, 0);
  return (
    <div className="jp-Saturn-nodes" aria-label="SLURM nodes">
      <p className="jp-Saturn-muted">
        SLURM: {nodes.length} node{nodes.length === 1 ? '' : 's'}, {total} usable GPU{total === 1 ? '' : 's'}
      </p>
      {nodes.map(n => (
        <div
          key={n.id}
          className={`jp-Saturn-node${n.usable ? '' : ' jp-Saturn-node-down'}`}
          data-saturn-node={n.id}
          data-saturn-node-usable={n.usable ? 'true' : 'false'}
        >
          <div className="jp-Saturn-nodeHead">
            <strong>{n.id}</strong> · {n.gpus} {n.gpu_type || 'GPU'}
            {n.gpus === 1 ? '' : 's'} · <span className="jp-Saturn-nodeState">{n.state}</span>
          </div>
          {n.usable ? (
            <ul className="jp-Saturn-devices" aria-label={`GPUs of ${n.id}`}>
              {Array.from({ length: n.gpus }, (_, i) => (
                <li key={i} className="jp-Saturn-device" data-saturn-device={`${n.id}/${i}`}>
                  <span className="jp-Saturn-deviceId">GPU {i}</span>
                </li>
              ))}
            </ul>
          ) : (
            <p className="jp-Saturn-muted">Takes no jobs now; jobs planned here are re-planned onto the other nodes.</p>
          )}
        </div>
      ))}
    </div>
  );
}

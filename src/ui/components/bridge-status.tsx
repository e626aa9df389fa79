import * as React from 'react';
import { BridgeState } from '../../bridge/client';

export interface IBridgeStatusProps {
  state: BridgeState;
  version?: string;
  error?: { message: string; hint: string } | null;
  onRetry: () => void;
}

const LABELS: Record<BridgeState, string> = {
  disconnected: 'Bridge not connected',
  connecting: 'Connecting to the bridge…',
  connected: 'Bridge connected',
  unavailable: 'Bridge unavailable'
};

/** One line saying whether the Python bridge answers. */
export function BridgeStatus(props: IBridgeStatusProps): JSX.Element {
  const { state, version } = props;
  return (
    <div className={`jp-Saturn-bridgeStatus jp-Saturn-bridgeStatus-${state}`} role="status" aria-label="Bridge status" aria-live="polite">
      <span className="jp-Saturn-bridgeDot" aria-hidden="true" />
      <span className="jp-Saturn-bridgeLabel">
        {LABELS[state]}
        {state === 'connected' && version ? ` (saturn ${version})` : ''}
      </span>
    </div>
  );
}

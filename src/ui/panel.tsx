import * as React from 'react';
import { ReactWidget } from '@jupyterlab/apputils';
import { BridgeClient, BridgeState } from '../bridge/client';
import { BridgeStatus } from './bridge-status';
import { DeviceList, IDevice } from './device-list';
import { saturnIcon } from './icons';

interface IPanelState {
  state: BridgeState;
  version?: string;
  devices: IDevice[] | null;
}

function PanelView(props: { bridge: BridgeClient }): JSX.Element {
  const { bridge } = props;
  const [view, setView] = React.useState<IPanelState>({ state: bridge.state, devices: null });

  const refresh = React.useCallback(async () => {
    try {
      await bridge.connect();
      const devices = await bridge.request<any>({ type: 'devices' });
      setView({ state: 'connected', version: bridge.hello?.saturn_version, devices: devices.devices as IDevice[] });
    } catch {
      setView(v => ({ ...v, state: bridge.state }));
    }
  }, [bridge]);

  React.useEffect(() => {
    const onState = (_: BridgeClient, state: BridgeState) => setView(v => ({ ...v, state }));
    bridge.stateChanged.connect(onState);
    void refresh();
    return () => {
      bridge.stateChanged.disconnect(onState);
    };
  }, [bridge, refresh]);

  return (
    <div className="jp-Saturn-panelBody">
      <header className="jp-Saturn-header">
        <h2>Saturn</h2>
      </header>
      <BridgeStatus state={view.state} version={view.version} error={bridge.lastError} onRetry={() => void refresh()} />
      <section className="jp-Saturn-section" aria-label="Devices section">
        <h3>Devices</h3>
        <DeviceList devices={view.devices} />
      </section>
    </div>
  );
}

/** The left-sidebar panel. */
export class SaturnPanel extends ReactWidget {
  constructor(private readonly bridge: BridgeClient) {
    super();
    this.id = 'jp-saturn-panel';
    this.title.icon = saturnIcon;
    this.title.caption = 'Saturn';
    this.addClass('jp-Saturn-panel');
  }

  render(): JSX.Element {
    return <PanelView bridge={this.bridge} />;
  }
}

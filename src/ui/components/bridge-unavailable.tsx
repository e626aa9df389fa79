import * as React from 'react';
import type { IBridgeStatusProps } from './bridge-status';

/** The whole panel when the bridge is missing or speaks another version: what happened and exactly what to run. */
export function BridgeUnavailable(props: IBridgeStatusProps): JSX.Element {
  const { error, onRetry } = props;
  const hint = error?.hint ?? 'Check that the Jupyter server is running with the saturn Python package installed.';
  const commands = [...new Set(hint.match(/pip install(?: -[\w-]+)* [\w.[\]-]+|bash scripts\/[\w.-]+|python -c "[^"]+"/g) ?? [])];
  return (
    <div className="jp-Saturn-unavailable" role="alert">
      <h3>Saturn cannot reach its Python bridge</h3>
      <p>{error?.message ?? 'The bridge did not answer.'}</p>
      <p className="jp-Saturn-hint">{hint}</p>
      {commands.length ? (
        <>
          <p>Run this in the environment of the Jupyter server:</p>
          {commands.map(c => (
            <pre key={c} className="jp-Saturn-command">
              <code>{c}</code>
            </pre>
          ))}
        </>
      ) : null}
      <button className="jp-mod-styled jp-mod-accept" onClick={onRetry}>
        Retry
      </button>
    </div>
  );
}

import * as React from 'react';

/** Seconds since `startedAtMs`, ticking every second while `running` (null without a start). */
export function useNow(running: boolean, startedAtMs: number | null): number | null {
  const [now, setNow] = React.useState(Date.now());
  React.useEffect(() => {
    if (!running) {
      return;
    }
    const t = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(t);
  }, [running]);
  return startedAtMs === null ? null : Math.max(0, (now - startedAtMs) / 1000);
}
